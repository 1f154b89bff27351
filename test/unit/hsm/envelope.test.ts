// Byte formats of protected material: the envelope and the MAC input, checked against bytes
// written out by hand, plus the length handling around SoftHSM's zero-padding.

import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_FORMAT_DER,
  MAX_MATERIAL_BYTES,
  checkBinding,
  decodeEnvelope,
  encodeEnvelope,
  macInput,
  rfc5649WrappedLength,
  roundUp8,
  trimDer,
  trimUnwrapped,
} from '../../../src/hsm/envelope.js';
import { HsmError } from '../../../src/hsm/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof HsmError ? e.code : `not an HsmError: ${String(e)}`;
  }
  return undefined;
}

describe('rfc5649WrappedLength', () => {
  it('is one 16-byte block up to 8 bytes, then the padded length plus 8 (RFC 5649 §4.1)', () => {
    expect([1, 7, 8, 9, 16, 17, 32, 100, 4096].map(rfc5649WrappedLength)).toEqual([
      16, 16, 16, 24, 24, 32, 40, 112, 4104,
    ]);
  });
});

describe('envelope', () => {
  it('is format byte 01, a big-endian u32 length, then the wrapped key', () => {
    const inner = Buffer.alloc(40, 0xaa);
    expect(encodeEnvelope(32, inner)).toEqual(Buffer.concat([hex('01 00000020'), inner]));
  });

  it('decodes what it encodes, as a view', () => {
    const inner = Buffer.alloc(112, 0x5c);
    const env = encodeEnvelope(100, inner);
    const d = decodeEnvelope(env);
    expect(d.plaintextLength).toBe(100);
    expect(d.wrappedKey.equals(inner)).toBe(true);
    expect(d.wrappedKey.buffer).toBe(env.buffer);
  });

  it.each([
    ['empty', hex('')],
    ['header only', hex('01 00000001')],
    ['unknown format', Buffer.concat([hex('02 00000001'), Buffer.alloc(16)])],
    ['zero length', Buffer.concat([hex('01 00000000'), Buffer.alloc(16)])],
    ['length beyond the maximum', Buffer.concat([hex('01 00010001'), Buffer.alloc(65544)])],
    ['wrap too short for the length', Buffer.concat([hex('01 00000009'), Buffer.alloc(16)])],
    ['wrap too long for the length', Buffer.concat([hex('01 00000008'), Buffer.alloc(24)])],
  ])('refuses %s as an IntegrityFailure', (_name, env) => {
    expect(codeOf(() => decodeEnvelope(env))).toBe('IntegrityFailure');
  });
});

describe('macInput', () => {
  const envelope = Buffer.concat([hex('01 00000010'), Buffer.alloc(24, 0x11)]);

  it('encodes domain, format, kekVersion, objectType, uid, extra flag and envelope', () => {
    const expected = hex(`
      4b4d4950442d504d            -- "KMIPD-PM"
      01                          -- format
      00000003                    -- kekVersion 3
      00000002                    -- objectType Symmetric Key
      00000002 6162               -- uid "ab"
      00                          -- no extra
      0000001d                    -- envelope length 29
    `.replace(/--[^\n]*/g, ''));
    expect(macInput({ uid: 'ab', objectType: 2 }, 3, envelope)).toEqual(Buffer.concat([expected, envelope]));
  });

  it('encodes extra with a presence flag and a length', () => {
    const out = macInput({ uid: 'ab', objectType: 2, extra: 'é' }, 3, envelope);
    expect(out.subarray(8 + 1 + 4 + 4 + 4 + 2, 8 + 1 + 4 + 4 + 4 + 2 + 1 + 4 + 2)).toEqual(hex('01 00000002 c3a9'));
  });

  it('keeps field boundaries unambiguous', () => {
    const inputs = [
      macInput({ uid: 'ab', objectType: 2 }, 1, envelope),
      macInput({ uid: 'ab', objectType: 2, extra: '' }, 1, envelope),
      macInput({ uid: 'a', objectType: 2, extra: 'b' }, 1, envelope),
      macInput({ uid: 'ab', objectType: 3 }, 1, envelope),
      macInput({ uid: 'ab', objectType: 2 }, 2, envelope),
      macInput({ uid: 'ab', objectType: 2 }, 1, envelope.subarray(0, 28)),
    ].map((b) => b.toString('hex'));
    expect(new Set(inputs).size).toBe(inputs.length);
  });
});

describe('trimUnwrapped', () => {
  it('returns an exact-length value as it is', () => {
    const v = Buffer.from('0123456789');
    expect(trimUnwrapped(v, 10)).toBe(v);
  });

  it('cuts SoftHSM zero padding and zeroes the padded buffer', () => {
    const v = hex('aabbcc0000000000');
    const out = trimUnwrapped(v, 3);
    expect(out).toEqual(hex('aabbcc'));
    expect(v).toEqual(Buffer.alloc(8));
  });

  it('keeps plaintext that itself ends in zero bytes', () => {
    expect(trimUnwrapped(hex('aa00000000000000'), 2)).toEqual(hex('aa00'));
  });

  it('refuses non-zero padding or another length, zeroing the value', () => {
    const v = hex('aabbcc0000000001');
    expect(codeOf(() => trimUnwrapped(v, 3))).toBe('IntegrityFailure');
    expect(v).toEqual(Buffer.alloc(8));
    expect(codeOf(() => trimUnwrapped(Buffer.alloc(16), 3))).toBe('IntegrityFailure');
    expect(codeOf(() => trimUnwrapped(Buffer.alloc(8), 9))).toBe('IntegrityFailure');
  });
});

describe('checkBinding', () => {
  it('accepts KMIP-shaped bindings and refuses malformed ones', () => {
    expect(codeOf(() => checkBinding({ uid: 'x', objectType: 0xffffffff }))).toBeUndefined();
    expect(codeOf(() => checkBinding({ uid: '', objectType: 2 }))).toBe('InvalidInput');
    expect(codeOf(() => checkBinding({ uid: 'x', objectType: 1.5 }))).toBe('InvalidInput');
    expect(codeOf(() => checkBinding({ uid: 'x', objectType: 2 ** 32 }))).toBe('InvalidInput');
    expect(codeOf(() => checkBinding({ uid: 'x', objectType: 2, extra: 3 as unknown as string }))).toBe('InvalidInput');
  });

  it('bounds material at 64 KiB', () => {
    expect(MAX_MATERIAL_BYTES).toBe(65536);
  });
});

describe('format 2 (a DER private key of unknown exact length)', () => {
  // A 9-byte DER SEQUENCE (30 07 + 7 content bytes) padded with zeros to 16.
  const der = hex('30 07 02 01 01 04 02 aa bb');
  const padded = Buffer.concat([der, Buffer.alloc(7)]);

  it('records the padded length and cuts the value at the end of its DER', () => {
    const env = encodeEnvelope(16, Buffer.alloc(rfc5649WrappedLength(16)), ENVELOPE_FORMAT_DER);
    expect(env.subarray(0, 5)).toEqual(hex('02 00000010'));
    expect(decodeEnvelope(env)).toMatchObject({ format: 2, plaintextLength: 16 });
    const input = Buffer.from(padded);
    const out = trimDer(input, 16);
    expect(out).toEqual(der);
    expect(input.every((b) => b === 0)).toBe(true);
  });

  it('reads long-form DER lengths (X.690 §8.1.3.5)', () => {
    const body = Buffer.alloc(300, 1);
    const long = Buffer.concat([hex('30 82 01 2c'), body]);
    const p = Buffer.concat([long, Buffer.alloc(roundUp8(long.length) - long.length)]);
    expect(trimDer(Buffer.from(p), p.length)).toEqual(long);
  });

  it('refuses a format-2 envelope whose length is not padded, a non-zero tail, and non-DER values', () => {
    expect(codeOf(() => decodeEnvelope(encodeEnvelope(9, Buffer.alloc(rfc5649WrappedLength(9)), ENVELOPE_FORMAT_DER)))).toBe('IntegrityFailure');
    const dirty = Buffer.from(padded);
    dirty[15] = 1;
    expect(codeOf(() => trimDer(dirty, 16))).toBe('IntegrityFailure');
    expect(codeOf(() => trimDer(Buffer.concat([hex('04 07'), der.subarray(2), Buffer.alloc(7)]), 16))).toBe('IntegrityFailure');
    // A DER shorter than the padding allows (8 or more trailing zeros) was not what was wrapped.
    expect(codeOf(() => trimDer(Buffer.concat([hex('30 01 00'), Buffer.alloc(13)]), 16))).toBe('IntegrityFailure');
    // A DER claiming more than the value holds.
    expect(codeOf(() => trimDer(Buffer.concat([hex('30 20'), Buffer.alloc(14)]), 16))).toBe('IntegrityFailure');
  });
});
