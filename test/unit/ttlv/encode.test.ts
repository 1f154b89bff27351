// Canonical TTLV encoding, KMIP 1.4 §9.1.1: expected bytes are written by hand from the rules.
import { describe, expect, it } from 'vitest';
import { TtlvError, encodeStructureHeader, encodeTtlv } from '../../../src/ttlv/index.js';
import { scratchIsClean } from '../../../src/ttlv/encode.js';
import type { TtlvNode } from '../../../src/ttlv/index.js';
import { hex, toHex } from '../../support/hex.js';

const TAG = 0x420020;

function expectBytes(node: TtlvNode, text: string): void {
  expect(toHex(encodeTtlv(node))).toBe(toHex(hex(text)));
}

/** Encodes a node built from untyped parts, as a caller with bad data would. */
function encodeUnchecked(node: unknown): Buffer {
  return encodeTtlv(node as TtlvNode);
}

function invalidAt(node: unknown): number {
  try {
    encodeUnchecked(node);
  } catch (err) {
    if (!(err instanceof TtlvError)) throw new Error(`not a TtlvError: ${String(err)}`);
    expect(err.code).toBe('InvalidValue');
    return err.offset;
  }
  throw new Error('encoded without error');
}

describe('fixed-size types', () => {
  it('Integer: signed 32-bit, four bytes of zero padding', () => {
    expectBytes({ tag: TAG, type: 'Integer', value: -1 }, '420020 02 00000004 FFFFFFFF 00000000');
    expectBytes({ tag: TAG, type: 'Integer', value: -2147483648 }, '420020 02 00000004 80000000 00000000');
    expectBytes({ tag: TAG, type: 'Integer', value: 2147483647 }, '420020 02 00000004 7FFFFFFF 00000000');
  });

  it('Enumeration and Interval: unsigned 32-bit', () => {
    expectBytes({ tag: TAG, type: 'Enumeration', value: 0xffffffff }, '420020 05 00000004 FFFFFFFF 00000000');
    expectBytes({ tag: TAG, type: 'Interval', value: 864000 }, '420020 0A 00000004 000D2F00 00000000');
  });

  it('Long Integer, Date-Time, Date-Time Extended: signed 64-bit', () => {
    expectBytes({ tag: TAG, type: 'LongInteger', value: -2n }, '420020 03 00000008 FFFFFFFFFFFFFFFE');
    expectBytes({ tag: TAG, type: 'DateTime', value: 0x47da67f8n }, '420020 09 00000008 0000000047DA67F8');
    expectBytes({ tag: TAG, type: 'DateTimeExtended', value: -(2n ** 63n) }, '420020 0B 00000008 8000000000000000');
  });

  it('Boolean: eight bytes, 0 or 1', () => {
    expectBytes({ tag: TAG, type: 'Boolean', value: false }, '420020 06 00000008 0000000000000000');
    expectBytes({ tag: TAG, type: 'Boolean', value: true }, '420020 06 00000008 0000000000000001');
  });

  it('tags use all three bytes', () => {
    expectBytes({ tag: 0, type: 'Boolean', value: true }, '000000 06 00000008 0000000000000001');
    expectBytes({ tag: 0xffffff, type: 'Boolean', value: true }, 'FFFFFF 06 00000008 0000000000000001');
  });
});

describe('Big Integer: fewest 8-byte words that keep the sign', () => {
  const cases: [bigint, string][] = [
    [0n, '0000000000000000'],
    [1n, '0000000000000001'],
    [-1n, 'FFFFFFFFFFFFFFFF'],
    [255n, '00000000000000FF'],
    [-256n, 'FFFFFFFFFFFFFF00'],
    [2n ** 63n - 1n, '7FFFFFFFFFFFFFFF'],
    [2n ** 63n, '0000000000000000 8000000000000000'],
    [-(2n ** 63n), '8000000000000000'],
    [-(2n ** 63n) - 1n, 'FFFFFFFFFFFFFFFF 7FFFFFFFFFFFFFFF'],
    [2n ** 64n - 1n, '0000000000000000 FFFFFFFFFFFFFFFF'],
    [-(2n ** 127n), '8000000000000000 0000000000000000'],
    [2n ** 127n, '0000000000000000 8000000000000000 0000000000000000'],
    [1234567890000000000000000000n, '0000000003FD35EB 6BC2DF4618080000'], // KMIP §9.1.2
  ];
  for (const [value, body] of cases) {
    it(`${value}`, () => {
      const length = hex(body).length.toString(16).padStart(8, '0');
      expectBytes({ tag: TAG, type: 'BigInteger', value }, `420020 04 ${length} ${body}`);
    });
  }
});

describe('variable-length types', () => {
  it('Text String: length excludes padding; no padding when already a multiple of 8', () => {
    expectBytes({ tag: TAG, type: 'TextString', value: '' }, '420020 07 00000000');
    expectBytes({ tag: TAG, type: 'TextString', value: '12345678' }, '420020 07 00000008 3132333435363738');
    expectBytes({ tag: TAG, type: 'TextString', value: '123456789' }, '420020 07 00000009 313233343536373839 00000000000000');
  });

  it('Text String: length counts UTF-8 bytes, not UTF-16 units', () => {
    expectBytes({ tag: TAG, type: 'TextString', value: 'é€😀' }, '420020 07 00000009 C3A9E282ACF09F9880 00000000000000');
    const long = 'abcdefghijklmnopqrstuvwxyz0123456789'; // past the short-string loop
    expectBytes({ tag: TAG, type: 'TextString', value: long }, `420020 07 00000024 ${Buffer.from(long).toString('hex')} 00000000`);
    const longMixed = `${long}é`;
    expectBytes({ tag: TAG, type: 'TextString', value: longMixed }, `420020 07 00000026 ${Buffer.from(long).toString('hex')} C3A9 0000`);
  });

  it('Byte String: zero padding, value copied verbatim', () => {
    expectBytes({ tag: TAG, type: 'ByteString', value: new Uint8Array(0) }, '420020 08 00000000');
    expectBytes({ tag: TAG, type: 'ByteString', value: new Uint8Array([1, 2, 3]) }, '420020 08 00000003 010203 0000000000');
    expectBytes({ tag: TAG, type: 'ByteString', value: hex('0102030405060708') }, '420020 08 00000008 0102030405060708');
    const view = hex('FF 0A0B FF').subarray(1, 3); // a view with a non-zero byteOffset
    expectBytes({ tag: TAG, type: 'ByteString', value: view }, '420020 08 00000002 0A0B 000000000000');
  });

  it('Structure: lengths back-patched, including nested and empty Structures', () => {
    expectBytes({ tag: TAG, type: 'Structure', value: [] }, '420020 01 00000000');
    expectBytes(
      {
        tag: 0x420001,
        type: 'Structure',
        value: [
          { tag: 0x420002, type: 'Structure', value: [{ tag: 0x420003, type: 'TextString', value: 'abc' }] },
          { tag: 0x420004, type: 'Structure', value: [] },
          { tag: 0x420005, type: 'Integer', value: 1 },
        ],
      },
      `420001 01 00000030
         420002 01 00000010
           420003 07 00000003 616263 0000000000
         420004 01 00000000
         420005 02 00000004 00000001 00000000`,
    );
  });

  it('grows past its initial buffer, and a large message does not disturb the next one', () => {
    const payload = new Uint8Array(70_000).map((_, i) => i & 0xff);
    const out = encodeTtlv({ tag: TAG, type: 'Structure', value: [{ tag: TAG, type: 'ByteString', value: payload }] });
    expect(out.length).toBe(8 + 8 + 70_000);
    expect(out.readUInt32BE(4)).toBe(8 + 70_000);
    expect(out.readUInt32BE(12)).toBe(70_000);
    expect(out.subarray(16).equals(payload)).toBe(true);
    expectBytes({ tag: TAG, type: 'Integer', value: 8 }, '420020 02 00000004 00000008 00000000');
  });

  it('returns independent buffers across calls', () => {
    const first = encodeTtlv({ tag: TAG, type: 'Integer', value: 1 });
    encodeTtlv({ tag: TAG, type: 'Integer', value: 2 });
    expect(toHex(first)).toBe(toHex(hex('420020 02 00000004 00000001 00000000')));
  });

  it('a value getter that itself encodes does not corrupt the outer encoding', () => {
    const inner: TtlvNode = { tag: 0x420002, type: 'Integer', value: 5 };
    const outer = {
      tag: 0x420001,
      type: 'Structure',
      get value(): TtlvNode[] {
        encodeTtlv({ tag: 0x420009, type: 'TextString', value: 'nested call' });
        return [inner];
      },
    };
    expect(toHex(encodeUnchecked(outer))).toBe(toHex(hex('420001 01 00000010 420002 02 00000004 00000005 00000000')));
  });
});

describe('InvalidValue, with the offset where the item would start', () => {
  it('Integer outside int32 or not an integer', () => {
    for (const value of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN, Infinity, '1', 1n, null]) {
      expect(invalidAt({ tag: TAG, type: 'Integer', value })).toBe(0);
    }
  });

  it('Enumeration and Interval outside uint32', () => {
    for (const type of ['Enumeration', 'Interval']) {
      for (const value of [-1, 2 ** 32, 0.5, '3', 3n]) {
        expect(invalidAt({ tag: TAG, type, value })).toBe(0);
      }
    }
  });

  it('Long Integer, Date-Time, Date-Time Extended outside int64 or not a bigint', () => {
    for (const type of ['LongInteger', 'DateTime', 'DateTimeExtended']) {
      for (const value of [2n ** 63n, -(2n ** 63n) - 1n, 1, '1']) {
        expect(invalidAt({ tag: TAG, type, value })).toBe(0);
      }
    }
  });

  it('Big Integer, Boolean, Text String, Byte String, Structure with the wrong JS type', () => {
    expect(invalidAt({ tag: TAG, type: 'BigInteger', value: 1 })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'Boolean', value: 1 })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'TextString', value: 7 })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'ByteString', value: [1, 2] })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'ByteString', value: 'AQI=' })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'Structure', value: {} })).toBe(0);
  });

  it('Text String with a lone surrogate (it would silently become U+FFFD)', () => {
    expect(invalidAt({ tag: TAG, type: 'TextString', value: '\uD800' })).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'TextString', value: `${'a'.repeat(40)}\uDC00b` })).toBe(0);
  });

  it('unknown type names, bad tags, non-objects', () => {
    expect(invalidAt({ tag: TAG, type: 'Float', value: 1 })).toBe(0);
    expect(invalidAt({ tag: TAG, value: 1 })).toBe(0);
    for (const tag of [-1, 0x1000000, 1.5, '0x420020', undefined]) {
      expect(invalidAt({ tag, type: 'Boolean', value: true })).toBe(0);
    }
    expect(invalidAt(null)).toBe(0);
    expect(invalidAt({ tag: TAG, type: 'Structure', value: [null] })).toBe(8);
  });

  it('reports the offset of the offending child', () => {
    const node = {
      tag: 0x420001,
      type: 'Structure',
      value: [
        { tag: 0x420002, type: 'Integer', value: 1 },
        { tag: 0x420003, type: 'Structure', value: [{ tag: 0x420004, type: 'Enumeration', value: -1 }] },
      ],
    };
    expect(invalidAt(node)).toBe(8 + 16 + 8);
  });

  it('a cyclic tree is refused instead of overflowing the stack', () => {
    const loop: { tag: number; type: 'Structure'; value: TtlvNode[] } = { tag: TAG, type: 'Structure', value: [] };
    loop.value.push(loop);
    expect(invalidAt(loop)).toBeGreaterThan(0);
  });

  it('a failed encode leaves the encoder usable', () => {
    invalidAt({ tag: TAG, type: 'Structure', value: [{ tag: TAG, type: 'Integer', value: 1.5 }] });
    expectBytes({ tag: TAG, type: 'Integer', value: 8 }, '420020 02 00000004 00000008 00000000');
  });
});

describe('encoder hygiene', () => {
  it('leaves no copy of an encoded value in its reusable scratch buffer', () => {
    const secret = Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');
    const out = encodeTtlv({ tag: 0x420043, type: 'ByteString', value: secret });
    expect(out.includes(secret)).toBe(true);
    expect(scratchIsClean()).toBe(true);
  });
});

describe('encodeStructureHeader', () => {
  it('is the header encodeTtlv writes for the same Structure', () => {
    const child: TtlvNode = { tag: 0x42000a, type: 'TextString', value: 'x' };
    const whole = encodeTtlv({ tag: 0x420125, type: 'Structure', value: [child] });
    const children = encodeTtlv(child);
    expect(toHex(Buffer.concat([encodeStructureHeader(0x420125, children.length), children]))).toBe(toHex(whole));
  });

  it('refuses a tag over 3 bytes and a length that is not whole items', () => {
    expect(() => encodeStructureHeader(0x1000000, 8)).toThrow(TtlvError);
    expect(() => encodeStructureHeader(0x420125, 12)).toThrow(TtlvError);
  });
});
