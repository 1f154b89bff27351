// Strict TTLV decoding, KMIP 1.4 §9.1.1: one test per rule, expected trees and bytes by hand.
import { describe, expect, it } from 'vitest';
import { TtlvError, decodeTtlv, encodedItemLength, readHeader } from '../../../src/ttlv/index.js';
import type { DecodeLimits, TtlvErrorCode } from '../../../src/ttlv/index.js';
import { hex } from '../../support/hex.js';

function errorOf(bytes: Uint8Array, limits?: Partial<DecodeLimits>): { code: TtlvErrorCode; offset: number } {
  try {
    decodeTtlv(bytes, limits);
  } catch (err) {
    if (!(err instanceof TtlvError)) throw new Error(`not a TtlvError: ${String(err)}`);
    return { code: err.code, offset: err.offset };
  }
  throw new Error('decoded without error');
}

function expectError(text: string, code: TtlvErrorCode, offset: number, limits?: Partial<DecodeLimits>): void {
  expect(errorOf(hex(text), limits)).toEqual({ code, offset });
}

/** A Structure with tag 0x420001 wrapping the given hex body. */
function struct(body: string): string {
  const bytes = hex(body);
  return `420001 01 ${bytes.length.toString(16).padStart(8, '0')} ${body}`;
}

describe('values', () => {
  it('Integer is signed 32-bit', () => {
    expect(decodeTtlv(hex('420020 02 00000004 FFFFFFFF 00000000'))).toEqual({ tag: 0x420020, type: 'Integer', value: -1 });
    expect(decodeTtlv(hex('420020 02 00000004 80000000 00000000')).value).toBe(-2147483648);
    expect(decodeTtlv(hex('420020 02 00000004 7FFFFFFF 00000000')).value).toBe(2147483647);
  });

  it('Long Integer, Date-Time and Date-Time Extended are signed 64-bit bigints', () => {
    expect(decodeTtlv(hex('420020 03 00000008 FFFFFFFFFFFFFFFE'))).toEqual({ tag: 0x420020, type: 'LongInteger', value: -2n });
    expect(decodeTtlv(hex('420020 03 00000008 8000000000000000')).value).toBe(-(2n ** 63n));
    expect(decodeTtlv(hex('420020 09 00000008 FFFFFFFFFFFFFFFF'))).toEqual({ tag: 0x420020, type: 'DateTime', value: -1n });
    // 2008-03-14T11:56:40.000001Z in microseconds
    expect(decodeTtlv(hex('420020 0B 00000008 000448645CEFEE01'))).toEqual({
      tag: 0x420020,
      type: 'DateTimeExtended',
      value: 1205495800000001n,
    });
  });

  it('Enumeration and Interval are unsigned 32-bit', () => {
    expect(decodeTtlv(hex('420020 05 00000004 FFFFFFFF 00000000'))).toEqual({ tag: 0x420020, type: 'Enumeration', value: 0xffffffff });
    expect(decodeTtlv(hex('420020 05 00000004 80000001 00000000')).value).toBe(0x80000001);
    expect(decodeTtlv(hex('420020 0A 00000004 FFFFFFFF 00000000'))).toEqual({ tag: 0x420020, type: 'Interval', value: 0xffffffff });
  });

  it('Boolean is 0 or 1 in eight bytes', () => {
    expect(decodeTtlv(hex('420020 06 00000008 0000000000000000'))).toEqual({ tag: 0x420020, type: 'Boolean', value: false });
    expect(decodeTtlv(hex('420020 06 00000008 0000000000000001')).value).toBe(true);
  });

  it('Big Integer is two\'s complement, big-endian, sign-extended to a multiple of 8', () => {
    const big = (body: string): unknown => decodeTtlv(hex(`420020 04 ${(hex(body).length).toString(16).padStart(8, '0')} ${body}`)).value;
    expect(big('0000000000000000')).toBe(0n);
    expect(big('FFFFFFFFFFFFFFFF')).toBe(-1n);
    expect(big('8000000000000000')).toBe(-(2n ** 63n));
    expect(big('0000000000000000 8000000000000000')).toBe(2n ** 63n);
    expect(big('FFFFFFFFFFFFFFFF 7FFFFFFFFFFFFFFF')).toBe(-(2n ** 63n) - 1n);
    expect(big('8000000000000000 0000000000000000')).toBe(-(2n ** 127n));
    expect(big('FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF FFFFFFFFFFFFFF00')).toBe(-256n);
  });

  it('Big Integer with more sign bytes than needed is accepted (the encoder re-emits it minimal)', () => {
    expect(decodeTtlv(hex('420020 04 00000010 0000000000000000 0000000000000001')).value).toBe(1n);
    expect(decodeTtlv(hex('420020 04 00000010 FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF')).value).toBe(-1n);
  });

  it('Text String: empty, exactly 8 bytes (no padding), multi-byte, long', () => {
    expect(decodeTtlv(hex('420020 07 00000000'))).toEqual({ tag: 0x420020, type: 'TextString', value: '' });
    expect(decodeTtlv(hex('420020 07 00000008 3132333435363738')).value).toBe('12345678');
    // "é€😀": C3A9 E282AC F09F9880, 9 bytes
    expect(decodeTtlv(hex('420020 07 00000009 C3A9E282ACF09F9880 00000000000000')).value).toBe('é€😀');
    // 26 ASCII letters: longer than the short-string path
    expect(decodeTtlv(hex('420020 07 0000001A 6162636465666768696A6B6C6D6E6F707172737475767778797A 000000000000')).value).toBe(
      'abcdefghijklmnopqrstuvwxyz',
    );
    // a byte-order mark is content, not stripped
    expect(decodeTtlv(hex('420020 07 00000004 EFBBBF41 00000000')).value).toBe('\uFEFFA');
  });

  it('Byte String: empty, and a copy that does not alias the input', () => {
    expect(decodeTtlv(hex('420020 08 00000000'))).toEqual({ tag: 0x420020, type: 'ByteString', value: new Uint8Array(0) });
    const input = Buffer.from(hex('420020 08 00000003 010203 0000000000'));
    const node = decodeTtlv(input);
    input[8] = 0xff;
    expect(node.value).toEqual(new Uint8Array([1, 2, 3]));
    // A plain Uint8Array even when the input is a Buffer (Buffer#slice would alias).
    expect(Object.getPrototypeOf(node.value)).toBe(Uint8Array.prototype);
  });

  it('Structure: empty, nested, children in order; extension tags (0x54....) kept', () => {
    expect(decodeTtlv(hex('420020 01 00000000'))).toEqual({ tag: 0x420020, type: 'Structure', value: [] });
    const tree = decodeTtlv(hex(struct(`${struct('540001 06 00000008 0000000000000001')} 420002 02 00000004 00000007 00000000 420003 01 00000000`)));
    expect(tree).toEqual({
      tag: 0x420001,
      type: 'Structure',
      value: [
        { tag: 0x420001, type: 'Structure', value: [{ tag: 0x540001, type: 'Boolean', value: true }] },
        { tag: 0x420002, type: 'Integer', value: 7 },
        { tag: 0x420003, type: 'Structure', value: [] },
      ],
    });
  });

  it('reads a view into a larger buffer (pooled socket data) from its own start', () => {
    const backing = hex('FFFFFFFF 420020 02 00000004 00000008 00000000 FFFF');
    const view = backing.subarray(4, 20);
    expect(decodeTtlv(view)).toEqual({ tag: 0x420020, type: 'Integer', value: 8 });
  });
});

describe('errors and their offsets', () => {
  it('Truncated: short header, short value, missing padding', () => {
    expectError('', 'Truncated', 0);
    expectError('420020 02 000000', 'Truncated', 0);
    expectError('420020 02 00000004 00000008', 'Truncated', 0); // padding missing
    expectError('420020 07 0000000B 48656C6C6F', 'Truncated', 0);
    expectError(struct('420002 02 00000004 00000007 00000000').slice(0, -8), 'Truncated', 0);
  });

  it('TooLarge: the declared size is checked before anything else', () => {
    expectError('420020 01 00000010', 'TooLarge', 0, { maxSize: 16 }); // 8 + 16 > 16, body not even present
    expectError('420020 FF FFFFFFF8', 'TooLarge', 0); // default 1 MiB, type byte not even looked at
    expect(decodeTtlv(hex('420020 02 00000004 00000008 00000000'), { maxSize: 16 }).value).toBe(8);
  });

  it('UnknownType: type bytes 0x00, 0x0C and 0xFF, at top level and nested', () => {
    expectError('420020 00 00000000', 'UnknownType', 0);
    expectError('420020 0C 00000000', 'UnknownType', 0);
    expectError('420020 FF 00000000', 'UnknownType', 0);
    expectError(struct('420002 02 00000004 00000007 00000000 420003 0C 00000000'), 'UnknownType', 24);
  });

  it('BadLength: fixed-size types need their exact length', () => {
    expectError('420020 02 00000005 0000000800 000000', 'BadLength', 0); // Integer 5
    expectError('420020 02 00000008 0000000000000008', 'BadLength', 0); // Integer 8
    expectError('420020 03 00000004 00000008 00000000', 'BadLength', 0); // Long Integer 4
    expectError('420020 05 00000008 0000000000000001', 'BadLength', 0); // Enumeration 8
    expectError('420020 06 00000004 00000001 00000000', 'BadLength', 0); // Boolean 4
    expectError('420020 09 00000000', 'BadLength', 0); // Date-Time 0
    expectError('420020 0A 00000008 0000000000000001', 'BadLength', 0); // Interval 8
    expectError('420020 0B 00000007 00000000000001 00', 'BadLength', 0); // Date-Time Extended 7
    expectError(struct('420002 02 00000005 0000000700 000000'), 'BadLength', 8);
  });

  it('BadLength: Big Integer and Structure lengths are non-zero / any multiples of 8', () => {
    expectError('420020 04 00000000', 'BadLength', 0);
    expectError('420020 04 00000005 0000000001 000000', 'BadLength', 0);
    expectError('420020 04 0000000C 000000000000000000000001 00000000', 'BadLength', 0);
    expectError('420020 01 00000004 00010203 00000000', 'BadLength', 0);
  });

  it('LengthExceedsParent: a child running past its Structure, whatever the buffer holds', () => {
    // The Integer claims 12 bytes (16 padded) inside a 16-byte Structure followed by another item.
    expectError(`420001 01 00000010 420002 08 0000000C 0000000000000000`, 'LengthExceedsParent', 8);
    // The second child claims a huge length.
    expectError(struct('420002 02 00000004 00000007 00000000 420003 08 FFFFFFF0 0000000000000000'), 'LengthExceedsParent', 24);
    // Parent declares 8 but its child needs 16: the outer Structure has room, the inner does not.
    expectError(struct('420002 01 00000008 420003 02 00000004 00000001 00000000'), 'LengthExceedsParent', 16);
  });

  it('TooDeep: the first Structure past maxDepth (the top-level item is depth 1)', () => {
    const nested = (n: number): string => (n === 0 ? '' : struct(nested(n - 1)));
    expect(() => decodeTtlv(hex(nested(3)), { maxDepth: 3 })).not.toThrow();
    expectError(nested(4), 'TooDeep', 24, { maxDepth: 3 });
    expectError(nested(1), 'TooDeep', 0, { maxDepth: 0 });
    // Leaves inside the deepest allowed Structure are fine: only Structures count.
    expect(() => decodeTtlv(hex(struct('420002 02 00000004 00000007 00000000')), { maxDepth: 1 })).not.toThrow();
    // A leaf at top level has no Structure depth.
    expect(decodeTtlv(hex('420020 02 00000004 00000008 00000000'), { maxDepth: 0 }).value).toBe(8);
  });

  it('TrailingBytes: the offset is the first byte after the item', () => {
    expectError('420020 02 00000004 00000008 00000000 00', 'TrailingBytes', 16);
    expectError('420020 01 00000000 420020 01 00000000', 'TrailingBytes', 8);
  });

  it('InvalidBoolean: the offset is the value field', () => {
    expectError('420020 06 00000008 0000000000000002', 'InvalidBoolean', 8);
    expectError('420020 06 00000008 0000000100000000', 'InvalidBoolean', 8);
    expectError('420020 06 00000008 FFFFFFFFFFFFFFFF', 'InvalidBoolean', 8);
    expectError(struct('420002 06 00000008 0100000000000001'), 'InvalidBoolean', 16);
  });

  it('InvalidUtf8: overlong, lone continuation, surrogate, cut sequence, beyond U+10FFFF; offset is the value', () => {
    expectError('420020 07 00000002 C0AF 000000000000', 'InvalidUtf8', 8); // overlong '/'
    expectError('420020 07 00000003 E080AF 0000000000', 'InvalidUtf8', 8); // overlong '/', 3 bytes
    expectError('420020 07 00000001 80 00000000000000', 'InvalidUtf8', 8); // lone continuation
    expectError('420020 07 00000003 EDA080 0000000000', 'InvalidUtf8', 8); // U+D800
    expectError('420020 07 00000002 E282 000000000000', 'InvalidUtf8', 8); // € cut short
    expectError('420020 07 00000004 F4908080 00000000', 'InvalidUtf8', 8); // U+110000
    expectError('420020 07 00000001 FF 00000000000000', 'InvalidUtf8', 8);
    // invalid byte at the end of a long string (past the short-string path)
    expectError('420020 07 00000010 41414141414141414141414141414180', 'InvalidUtf8', 8);
    expectError(struct('420002 07 00000001 80 00000000000000'), 'InvalidUtf8', 16);
  });

  it('NonZeroPadding: the offset is the start of the padding', () => {
    expectError('420020 02 00000004 00000008 00000001', 'NonZeroPadding', 12);
    expectError('420020 05 00000004 00000008 01000000', 'NonZeroPadding', 12);
    expectError('420020 0A 00000004 00000008 00000100', 'NonZeroPadding', 12);
    expectError('420020 07 0000000B 48656C6C6F20576F726C64 0000000001', 'NonZeroPadding', 19);
    expectError('420020 08 00000003 010203 0000000100', 'NonZeroPadding', 11);
    expectError(struct('420002 08 00000001 01 00000000000080'), 'NonZeroPadding', 17);
  });

  it('checks type before length before bounds, per item', () => {
    expectError('420020 0C 00000005', 'UnknownType', 0); // also truncated and badly sized
    expectError('420020 02 00000005', 'BadLength', 0); // also truncated
  });
});

describe('readHeader and encodedItemLength', () => {
  it('reads tag, raw type byte and unsigned length at an offset', () => {
    const bytes = hex('00 420078 01 00000120 42');
    expect(readHeader(bytes, 1)).toEqual({ tag: 0x420078, typeCode: 1, length: 0x120 });
    expect(readHeader(hex('540001 EE FFFFFFFF'), 0)).toEqual({ tag: 0x540001, typeCode: 0xee, length: 0xffffffff });
  });

  it('throws Truncated at the offset when fewer than 8 bytes remain', () => {
    expect(() => readHeader(hex('420078 01 000001'), 0)).toThrow(TtlvError);
    expect(() => readHeader(hex('0000 420078 01 000001'), 2)).toThrow(expect.objectContaining({ code: 'Truncated', offset: 2 }));
  });

  it('pads to 8 without wrapping for lengths near 2^32', () => {
    expect(encodedItemLength(0)).toBe(8);
    expect(encodedItemLength(11)).toBe(24);
    expect(encodedItemLength(16)).toBe(24);
    expect(encodedItemLength(0xffffffff)).toBe(8 + 0x100000000);
    expect(encodedItemLength(0x7ffffffd)).toBe(8 + 0x80000000);
  });
});
