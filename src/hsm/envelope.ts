// Byte formats of protected material (pure functions, no PKCS#11):
//
// The envelope stored as ProtectedMaterial.wrapped:
//   u8  format (1)
//   u32 plaintext length in bytes (big-endian)
//   ..  output of C_WrapKey with CKM_AES_KEY_WRAP_PAD (AES Key Wrap with Padding, RFC 5649)
// The length is ours to keep because SoftHSM 2.6.1 zero-pads the key to a multiple of 8 before
// applying RFC 5649, so the Message Length Indicator inside the wrap is the padded length and
// unwrapping returns the padded value (measured: 1 byte in, 8 bytes out). Format 1 means
// "RFC 5649 under the KEK + HMAC-SHA256 under the binding key"; a new scheme gets a new number.
//
// Format 2 is the same scheme for a private key generated inside the HSM: C_WrapKey wraps it as
// a PKCS#8 PrivateKeyInfo (PKCS#11 v2.40 §5.14), which SoftHSM zero-pads to a multiple of 8
// before RFC 5649 (measured: a 1217-byte RSA-2048 PKCS#8 unwraps as 1224 bytes). Its exact length
// is not known when it is wrapped, since the plaintext never reaches kmipd, so the u32 holds the
// padded length and the DER SEQUENCE delimits itself: reveal cuts the value at the end of the
// DER and requires the tail to be zero.
//
// The MAC input binds the envelope to the object it belongs to (canonical, length-prefixed):
//   "KMIPD-PM" | u8 format (1) | u32 kekVersion | u32 objectType | u32 len | uid (UTF-8)
//   | u8 hasExtra | [u32 len | extra (UTF-8)] | u32 len | envelope

import { HsmError, HsmErrorCode } from './errors.js';
import type { Binding } from './key-protector.js';

export const ENVELOPE_FORMAT = 1;
/** Format 2: the plaintext is one DER SEQUENCE, zero-padded to the recorded (padded) length. */
export const ENVELOPE_FORMAT_DER = 2;
export type EnvelopeFormat = typeof ENVELOPE_FORMAT | typeof ENVELOPE_FORMAT_DER;
const HEADER_BYTES = 5;
const MAC_DOMAIN = Buffer.from('KMIPD-PM', 'ascii');
export const MAC_BYTES = 32;

/** Upper bound on one piece of key material; keeps buffers bounded for hostile Register calls. */
export const MAX_MATERIAL_BYTES = 64 * 1024;

/** Length of an RFC 5649 wrap of `n` bytes: one 16-byte block up to 8 bytes, else padded + 8. */
export function rfc5649WrappedLength(n: number): number {
  return n <= 8 ? 16 : roundUp8(n) + 8;
}

export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export function checkMaterialLength(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_MATERIAL_BYTES) {
    throw new HsmError(
      HsmErrorCode.InvalidInput,
      `key material length must be an integer from 1 to ${MAX_MATERIAL_BYTES} bytes, got ${String(n)}`,
    );
  }
}

export function checkKekVersion(v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) {
    throw new HsmError(HsmErrorCode.InvalidInput, `KEK version must be a positive integer, got ${String(v)}`);
  }
}

export function checkBinding(b: Binding): void {
  if (typeof b.uid !== 'string' || b.uid.length === 0) {
    throw new HsmError(HsmErrorCode.InvalidInput, 'binding uid must be a non-empty string');
  }
  if (!Number.isInteger(b.objectType) || b.objectType < 0 || b.objectType > 0xffffffff) {
    throw new HsmError(HsmErrorCode.InvalidInput, 'binding objectType must be a 32-bit unsigned integer');
  }
  if (b.extra !== undefined && typeof b.extra !== 'string') {
    throw new HsmError(HsmErrorCode.InvalidInput, 'binding extra must be a string when present');
  }
}

export function encodeEnvelope(plaintextLength: number, wrappedKey: Buffer, format: EnvelopeFormat = ENVELOPE_FORMAT): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + wrappedKey.length);
  out.writeUInt8(format, 0);
  out.writeUInt32BE(plaintextLength, 1);
  wrappedKey.copy(out, HEADER_BYTES);
  return out;
}

export interface DecodedEnvelope {
  format: EnvelopeFormat;
  /** Format 1: the exact length; format 2: the padded length (a multiple of 8). */
  plaintextLength: number;
  /** A view into the envelope, not a copy. */
  wrappedKey: Buffer;
}

/**
 * Parses an envelope. Callers verify the MAC first; a malformed envelope whose MAC verified
 * would mean the binding key signed garbage, so it is still reported as an integrity failure.
 */
export function decodeEnvelope(envelope: Buffer): DecodedEnvelope {
  const format = envelope.length < HEADER_BYTES ? 0 : envelope.readUInt8(0);
  if (format !== ENVELOPE_FORMAT && format !== ENVELOPE_FORMAT_DER) {
    throw integrity('unknown protected-material format');
  }
  const plaintextLength = envelope.readUInt32BE(1);
  const wrappedKey = envelope.subarray(HEADER_BYTES);
  if (
    plaintextLength < 1 ||
    plaintextLength > MAX_MATERIAL_BYTES ||
    wrappedKey.length !== rfc5649WrappedLength(plaintextLength) ||
    (format === ENVELOPE_FORMAT_DER && plaintextLength % 8 !== 0)
  ) {
    throw integrity('protected-material envelope is malformed');
  }
  return { format, plaintextLength, wrappedKey };
}

export function macInput(binding: Binding, kekVersion: number, envelope: Buffer): Buffer {
  const uid = Buffer.from(binding.uid, 'utf8');
  const extra = binding.extra === undefined ? undefined : Buffer.from(binding.extra, 'utf8');
  const size =
    MAC_DOMAIN.length + 1 + 4 + 4 + 4 + uid.length + 1 + (extra ? 4 + extra.length : 0) + 4 + envelope.length;
  const out = Buffer.alloc(size);
  let o = MAC_DOMAIN.copy(out, 0);
  o = out.writeUInt8(ENVELOPE_FORMAT, o);
  o = out.writeUInt32BE(kekVersion, o);
  o = out.writeUInt32BE(binding.objectType, o);
  o = out.writeUInt32BE(uid.length, o);
  o += uid.copy(out, o);
  o = out.writeUInt8(extra ? 1 : 0, o);
  if (extra) {
    o = out.writeUInt32BE(extra.length, o);
    o += extra.copy(out, o);
  }
  o = out.writeUInt32BE(envelope.length, o);
  envelope.copy(out, o);
  return out;
}

/**
 * Cuts an unwrapped value down to the recorded plaintext length. A conforming RFC 5649
 * implementation returns exactly `length` bytes; SoftHSM 2.6.1 returns the value zero-padded to
 * a multiple of 8 (see the header). Anything else is refused. The input is zeroed whenever the
 * result is a different buffer, so the caller only has to zero what it gets back.
 */
export function trimUnwrapped(value: Buffer, length: number): Buffer {
  if (value.length === length) return value;
  if (value.length === roundUp8(length) && value.length > length) {
    let tail = 0;
    for (let i = length; i < value.length; i++) tail |= value[i] ?? 0;
    if (tail === 0) {
      const out = Buffer.alloc(length);
      value.copy(out, 0, 0, length);
      value.fill(0);
      return out;
    }
  }
  value.fill(0);
  throw integrity('unwrapped key material has an unexpected length');
}

/**
 * Cuts an unwrapped format-2 value (a DER SEQUENCE, zero-padded to `paddedLength`) at the end of
 * its DER encoding. Only definite lengths up to 4 length octets (X.690 §8.1.3); the padding must
 * be fewer than 8 zero bytes. The input is zeroed whenever the result is a different buffer.
 */
export function trimDer(value: Buffer, paddedLength: number): Buffer {
  const fail = (detail: string): never => {
    value.fill(0);
    throw integrity(detail);
  };
  // SoftHSM may also hand back the padded value cut to a shorter length; anything else is refused.
  if (value.length > paddedLength || value.length < 2 || value[0] !== 0x30) return fail('unwrapped key material is not a DER SEQUENCE');
  const first = value[1] ?? 0;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || value.length < 2 + n) return fail('unwrapped key material has an unsupported DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (value[2 + i] ?? 0);
    header = 2 + n;
  }
  const total = header + length;
  if (total > value.length || value.length - total >= 8) return fail('unwrapped key material has an unexpected length');
  let tail = 0;
  for (let i = total; i < value.length; i++) tail |= value[i] ?? 0;
  if (tail !== 0) return fail('unwrapped key material has a non-zero padding');
  if (total === value.length) return value;
  const out = Buffer.alloc(total);
  value.copy(out, 0, 0, total);
  value.fill(0);
  return out;
}

function integrity(detail: string): HsmError {
  return new HsmError(HsmErrorCode.IntegrityFailure, `integrity check failed: ${detail}`);
}
