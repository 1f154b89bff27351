// PKCS#11 primitives of the key hierarchy, one session at a time (PKCS#11 v2.40 base §5.14 key
// management: C_GenerateKey, C_WrapKey, C_UnwrapKey; §5.11-5.12 C_Sign/C_Verify with
// CKM_SHA256_HMAC; Current Mechanisms, AES Key Wrap: CKM_AES_KEY_WRAP_PAD is RFC 5649).
// The protector composes these; they are exported on their own so that tests can run the very
// same wrap path under an extractable test KEK and compare it with node's RFC 5649.

import type { Attribute, Mechanism } from 'pkcs11js';
import { HsmError, HsmErrorCode, ckrOf } from './errors.js';
import { createPublicKey } from 'node:crypto';
import {
  ENVELOPE_FORMAT,
  ENVELOPE_FORMAT_DER,
  MAC_BYTES,
  MAX_MATERIAL_BYTES,
  type EnvelopeFormat,
  decodeEnvelope,
  encodeEnvelope,
  rfc5649WrappedLength,
  trimDer,
  trimUnwrapped,
} from './envelope.js';
import type { EcCurve, KeyPairSpec } from './key-protector.js';
import { ck, type Handle, type LoadedModule } from './pkcs11-library.js';

export const WRAP_MECHANISM: Mechanism = { mechanism: ck.CKM_AES_KEY_WRAP_PAD };
export const MAC_MECHANISM: Mechanism = { mechanism: ck.CKM_SHA256_HMAC };

/**
 * The calls that have non-blocking variants in pkcs11js, dispatched to the synchronous or the
 * thread-pool version. Synchronous is the default: SoftHSM answers in microseconds, and the
 * async variants cost more in thread hand-off than they save (see the protector's header).
 */
export const DIGEST_MECHANISM: Mechanism = { mechanism: ck.CKM_SHA256 };

export class Pkcs11Calls {
  constructor(
    readonly module: LoadedModule,
    readonly useAsync: boolean,
  ) {}

  get p11() {
    return this.module.p11;
  }

  generateKey(session: Handle, mech: Mechanism, template: Attribute[]): Promise<Handle> | Handle {
    if (!this.useAsync) return this.p11.C_GenerateKey(session, mech, template);
    return this.track(this.p11.C_GenerateKeyAsync(session, mech, template));
  }

  wrapKey(session: Handle, kek: Handle, key: Handle, out: Buffer): Promise<Buffer> | Buffer {
    if (!this.useAsync) return this.p11.C_WrapKey(session, WRAP_MECHANISM, kek, key, out);
    return this.track(this.p11.C_WrapKeyAsync(session, WRAP_MECHANISM, kek, key, out));
  }

  /**
   * Always on the thread pool: RSA key generation takes from a quarter of a second (2048 bits) to
   * several seconds (4096 bits, measured with SoftHSM 2.6.1), far too long to block the event loop.
   */
  generateKeyPair(session: Handle, mech: Mechanism, publicTemplate: Attribute[], privateTemplate: Attribute[]) {
    return this.track(this.p11.C_GenerateKeyPairAsync(session, mech, publicTemplate, privateTemplate));
  }

  unwrapKey(session: Handle, kek: Handle, wrapped: Buffer, template: Attribute[]): Promise<Handle> | Handle {
    if (!this.useAsync) return this.p11.C_UnwrapKey(session, WRAP_MECHANISM, kek, wrapped, template);
    return this.track(this.p11.C_UnwrapKeyAsync(session, WRAP_MECHANISM, kek, wrapped, template));
  }

  sign(session: Handle, key: Handle, data: Buffer): Promise<Buffer> | Buffer {
    this.p11.C_SignInit(session, MAC_MECHANISM, key);
    if (!this.useAsync) return this.p11.C_Sign(session, data, Buffer.alloc(MAC_BYTES));
    return this.track(this.p11.C_SignAsync(session, data, Buffer.alloc(MAC_BYTES)));
  }

  verify(session: Handle, key: Handle, data: Buffer, mac: Buffer): Promise<boolean> | boolean {
    this.p11.C_VerifyInit(session, MAC_MECHANISM, key);
    if (!this.useAsync) return this.p11.C_Verify(session, data, mac);
    return this.track(this.p11.C_VerifyAsync(session, data, mac));
  }

  /** SHA-256 of a secret key's value inside the HSM (C_DigestKey): the value is never read. */
  digestKey(session: Handle, key: Handle): Buffer {
    this.p11.C_DigestInit(session, DIGEST_MECHANISM);
    this.p11.C_DigestKey(session, key);
    return this.p11.C_DigestFinal(session, Buffer.alloc(32));
  }

  private async track<T>(p: Promise<T>): Promise<T> {
    this.module.inflight++;
    try {
      return await p;
    } finally {
      this.module.inflight--;
    }
  }
}

const bool = (type: number, value: boolean): Attribute => ({ type, value });

/** A transient secret key that can be wrapped but not read (generate, rewrap). */
export function wrappableSessionKeyTemplate(keyType: number, valueLen?: number): Attribute[] {
  const t: Attribute[] = [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: keyType },
    bool(ck.CKA_TOKEN, false),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, true),
    bool(ck.CKA_EXTRACTABLE, true),
    bool(ck.CKA_ENCRYPT, false),
    bool(ck.CKA_DECRYPT, false),
    bool(ck.CKA_SIGN, false),
    bool(ck.CKA_VERIFY, false),
    bool(ck.CKA_WRAP, false),
    bool(ck.CKA_UNWRAP, false),
    bool(ck.CKA_DERIVE, false),
  ];
  if (valueLen !== undefined) t.push({ type: ck.CKA_VALUE_LEN, value: valueLen });
  return t;
}

/**
 * A transient key whose CKA_VALUE we read back once (reveal). Generic secret, because the
 * material may be of any length and any KMIP type; the key type is not part of the wrap.
 */
export function readableSessionKeyTemplate(): Attribute[] {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
    bool(ck.CKA_TOKEN, false),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, false),
    bool(ck.CKA_EXTRACTABLE, true),
    bool(ck.CKA_ENCRYPT, false),
    bool(ck.CKA_DECRYPT, false),
    bool(ck.CKA_SIGN, false),
    bool(ck.CKA_VERIFY, false),
    bool(ck.CKA_WRAP, false),
    bool(ck.CKA_UNWRAP, false),
    bool(ck.CKA_DERIVE, false),
  ];
}

/** Imported material (BYOK): a wrappable generic secret holding `value`. */
export function importTemplate(value: Buffer): Attribute[] {
  return [...wrappableSessionKeyTemplate(ck.CKK_GENERIC_SECRET), { type: ck.CKA_VALUE, value }];
}

/** KEK: AES-256 token object that only wraps and unwraps and can never leave the token. */
export function kekTemplate(label: string): Attribute[] {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
    { type: ck.CKA_VALUE_LEN, value: 32 },
    { type: ck.CKA_LABEL, value: label },
    bool(ck.CKA_TOKEN, true),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, true),
    bool(ck.CKA_EXTRACTABLE, false),
    bool(ck.CKA_WRAP, true),
    bool(ck.CKA_UNWRAP, true),
    bool(ck.CKA_ENCRYPT, false),
    bool(ck.CKA_DECRYPT, false),
    bool(ck.CKA_SIGN, false),
    bool(ck.CKA_VERIFY, false),
    bool(ck.CKA_DERIVE, false),
    // CKA_MODIFIABLE stays true: SoftHSM refuses C_CopyObject with CKA_TOKEN=false on an
    // unmodifiable key, and the session copies are what make wrapping fast. CKA_SENSITIVE and
    // CKA_EXTRACTABLE cannot be relaxed on a modifiable key either (PKCS#11 v2.40 §4.10,
    // secret key objects: both only ever move towards more protection).
  ];
}

/** Binding key: 256-bit generic secret token object for CKM_SHA256_HMAC, sign/verify only. */
export function bindingKeyTemplate(label: string): Attribute[] {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
    { type: ck.CKA_VALUE_LEN, value: 32 },
    { type: ck.CKA_LABEL, value: label },
    bool(ck.CKA_TOKEN, true),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, true),
    bool(ck.CKA_EXTRACTABLE, false),
    bool(ck.CKA_SIGN, true),
    bool(ck.CKA_VERIFY, true),
    bool(ck.CKA_WRAP, false),
    bool(ck.CKA_UNWRAP, false),
    bool(ck.CKA_ENCRYPT, false),
    bool(ck.CKA_DECRYPT, false),
    bool(ck.CKA_DERIVE, false),
  ];
}

// ---------------------------------------------------------------------------------------------
// Key pairs (PKCS#11 v2.40 Current Mechanisms §2.1.4 CKM_RSA_PKCS_KEY_PAIR_GEN, §2.3.6
// CKM_EC_KEY_PAIR_GEN)

/** DER OIDs of the named curves kmipd generates (RFC 5480 §2.1.1.1), as CKA_EC_PARAMS. */
export const CURVES: Readonly<Record<EcCurve, { params: Buffer; bytes: number }>> = {
  'P-256': { params: Buffer.from('06082a8648ce3d030107', 'hex'), bytes: 32 },
  'P-384': { params: Buffer.from('06052b81040022', 'hex'), bytes: 48 },
  'P-521': { params: Buffer.from('06052b81040023', 'hex'), bytes: 66 },
  // SEC 2 §2.4.1; the OASIS vectors use it (TC-ECDSA-SIGN-1-14, TC-DERIVEKEY-6-14).
  secp256k1: { params: Buffer.from('06052b8104000a', 'hex'), bytes: 32 },
};

/**
 * Templates of a generated key pair. Both halves are session objects; the private key is
 * sensitive and extractable only so that the KEK can wrap it (it is never read in the clear), and
 * neither half may do anything else: signing and decryption happen on the revealed key.
 */
export function keyPairTemplates(spec: KeyPairSpec): { mechanism: Mechanism; publicTemplate: Attribute[]; privateTemplate: Attribute[] } {
  const none = [ck.CKA_ENCRYPT, ck.CKA_VERIFY, ck.CKA_WRAP, ck.CKA_DERIVE].map((t) => bool(t, false));
  const publicTemplate: Attribute[] = [bool(ck.CKA_TOKEN, false), bool(ck.CKA_PRIVATE, false), ...none];
  const privateTemplate: Attribute[] = [
    bool(ck.CKA_TOKEN, false),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, true),
    bool(ck.CKA_EXTRACTABLE, true),
    ...[ck.CKA_DECRYPT, ck.CKA_SIGN, ck.CKA_UNWRAP, ck.CKA_DERIVE].map((t) => bool(t, false)),
  ];
  if (spec.kind === 'rsa') {
    publicTemplate.push({ type: ck.CKA_MODULUS_BITS, value: spec.bits }, { type: ck.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
    return { mechanism: { mechanism: ck.CKM_RSA_PKCS_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
  }
  publicTemplate.push({ type: ck.CKA_EC_PARAMS, value: CURVES[spec.curve].params });
  return { mechanism: { mechanism: ck.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
}

const base64url = (b: Buffer): string => b.toString('base64url');

/**
 * The SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of a generated public key, from its public
 * attributes: CKA_MODULUS and CKA_PUBLIC_EXPONENT, or CKA_EC_POINT (a DER OCTET STRING holding the
 * uncompressed point 04 || X || Y, PKCS#11 v2.40 Current Mechanisms §2.3.3). Node's key parser
 * checks the point lies on the curve while building the DER.
 */
export function publicKeySpki(calls: Pkcs11Calls, session: Handle, publicKey: Handle, spec: KeyPairSpec): Buffer {
  if (spec.kind === 'rsa') {
    const [n, e] = calls.p11.C_GetAttributeValue(session, publicKey, [{ type: ck.CKA_MODULUS }, { type: ck.CKA_PUBLIC_EXPONENT }]);
    if (n?.value === undefined || e?.value === undefined) throw new HsmError(HsmErrorCode.DeviceError, 'HSM returned no RSA public key');
    const key = createPublicKey({ key: { kty: 'RSA', n: base64url(n.value), e: base64url(e.value) }, format: 'jwk' });
    return key.export({ format: 'der', type: 'spki' });
  }
  const [point] = calls.p11.C_GetAttributeValue(session, publicKey, [{ type: ck.CKA_EC_POINT }]);
  const der = point?.value;
  const size = CURVES[spec.curve].bytes;
  const raw = 1 + 2 * size;
  // OCTET STRING, short or one-byte long form (97 bytes at most here), then 04 || X || Y.
  const header = der !== undefined && der.length === raw + 2 ? 2 : 3;
  if (der === undefined || der.length !== raw + header || der[0] !== 0x04 || der[header] !== 0x04) {
    throw new HsmError(HsmErrorCode.DeviceError, 'HSM returned an unexpected EC point encoding');
  }
  const x = der.subarray(header + 1, header + 1 + size);
  const y = der.subarray(header + 1 + size);
  const key = createPublicKey({ key: { kty: 'EC', crv: spec.curve, x: base64url(x), y: base64url(y) }, format: 'jwk' });
  return key.export({ format: 'der', type: 'spki' });
}

/** A transient EC private key (CKA_VALUE = d) that may only sign: for CKM_ECDSA over a given digest. */
export function ecSigningKeyTemplate(curve: EcCurve, d: Buffer): Attribute[] {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_PRIVATE_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_EC },
    { type: ck.CKA_EC_PARAMS, value: CURVES[curve].params },
    { type: ck.CKA_VALUE, value: d },
    bool(ck.CKA_TOKEN, false),
    bool(ck.CKA_PRIVATE, true),
    bool(ck.CKA_SENSITIVE, true),
    bool(ck.CKA_EXTRACTABLE, false),
    bool(ck.CKA_SIGN, true),
    ...[ck.CKA_DECRYPT, ck.CKA_UNWRAP, ck.CKA_DERIVE].map((t) => bool(t, false)),
  ];
}

/** A transient EC public key (CKA_EC_POINT: DER OCTET STRING of the point) that may only verify. */
export function ecVerifyingKeyTemplate(curve: EcCurve, point: Buffer): Attribute[] {
  const header = point.length < 128 ? Buffer.from([0x04, point.length]) : Buffer.from([0x04, 0x81, point.length]);
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_PUBLIC_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_EC },
    { type: ck.CKA_EC_PARAMS, value: CURVES[curve].params },
    { type: ck.CKA_EC_POINT, value: Buffer.concat([header, point]) },
    bool(ck.CKA_TOKEN, false),
    bool(ck.CKA_VERIFY, true),
    ...[ck.CKA_ENCRYPT, ck.CKA_WRAP, ck.CKA_DERIVE].map((t) => bool(t, false)),
  ];
}

/**
 * Wraps a private key under `kek` into a format-2 envelope (see envelope.ts): the HSM encodes it
 * as PKCS#8 and pads it; the recorded length is the padded one.
 */
export async function wrapPrivateKeyToEnvelope(calls: Pkcs11Calls, session: Handle, kek: Handle, key: Handle): Promise<Buffer> {
  const inner = await calls.wrapKey(session, kek, key, Buffer.alloc(MAX_MATERIAL_BYTES + 16));
  const padded = inner.length - 8;
  if (padded < 8 || padded % 8 !== 0 || padded > MAX_MATERIAL_BYTES) {
    throw new HsmError(HsmErrorCode.DeviceError, `HSM returned a ${inner.length}-byte wrap of a private key`);
  }
  return encodeEnvelope(padded, inner, ENVELOPE_FORMAT_DER);
}

/** Wraps `key` (whose value is `plaintextLength` bytes) under `kek` into an envelope. */
export async function wrapToEnvelope(
  calls: Pkcs11Calls,
  session: Handle,
  kek: Handle,
  key: Handle,
  plaintextLength: number,
  format: EnvelopeFormat = ENVELOPE_FORMAT,
): Promise<Buffer> {
  const expected = rfc5649WrappedLength(plaintextLength);
  const inner = await calls.wrapKey(session, kek, key, Buffer.alloc(expected + 16));
  if (inner.length !== expected) {
    throw new HsmError(
      HsmErrorCode.DeviceError,
      `HSM returned a ${inner.length}-byte wrap for ${plaintextLength} bytes of key material (expected ${expected})`,
    );
  }
  return encodeEnvelope(plaintextLength, inner, format);
}

/** Return values of C_UnwrapKey that mean "this blob does not decrypt under this KEK". */
const UNWRAP_INTEGRITY = new Set([
  'CKR_GENERAL_ERROR', // SoftHSM's answer to an RFC 5649 integrity-check failure (STACK.md)
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
]);

/** Unwraps an envelope's key under `kek` into a new session object; returns its handle. */
export async function unwrapEnvelope(
  calls: Pkcs11Calls,
  session: Handle,
  kek: Handle,
  envelope: Buffer,
  template: Attribute[],
): Promise<{ handle: Handle; plaintextLength: number; format: EnvelopeFormat }> {
  const { plaintextLength, wrappedKey, format } = decodeEnvelope(envelope);
  try {
    const handle = await calls.unwrapKey(session, kek, wrappedKey, template);
    return { handle, plaintextLength, format };
  } catch (e) {
    const ckr = ckrOf(e);
    if (ckr !== undefined && UNWRAP_INTEGRITY.has(ckr)) {
      throw new HsmError(HsmErrorCode.IntegrityFailure, `integrity check failed: wrapped key rejected by the HSM (${ckr})`, {
        ckr,
      });
    }
    throw e;
  }
}

/** Reads the value of a readable session key, cut to the recorded length (format 2: to its DER). */
export function readKeyValue(
  calls: Pkcs11Calls,
  session: Handle,
  key: Handle,
  plaintextLength: number,
  format: EnvelopeFormat = ENVELOPE_FORMAT,
): Buffer {
  const [attr] = calls.p11.C_GetAttributeValue(session, key, [{ type: ck.CKA_VALUE }]);
  if (attr?.value === undefined) throw new HsmError(HsmErrorCode.DeviceError, 'HSM returned no CKA_VALUE');
  return format === ENVELOPE_FORMAT_DER ? trimDer(attr.value, plaintextLength) : trimUnwrapped(attr.value, plaintextLength);
}

export async function computeMac(calls: Pkcs11Calls, session: Handle, macKey: Handle, data: Buffer): Promise<Buffer> {
  const mac = await calls.sign(session, macKey, data);
  if (mac.length !== MAC_BYTES) throw new HsmError(HsmErrorCode.DeviceError, `HSM returned a ${mac.length}-byte MAC`);
  return Buffer.from(mac);
}

/** Verifies a MAC inside the HSM; any mismatch is an IntegrityFailure. */
export async function verifyMac(
  calls: Pkcs11Calls,
  session: Handle,
  macKey: Handle,
  data: Buffer,
  mac: Buffer,
): Promise<void> {
  const fail = (ckr?: string) =>
    new HsmError(HsmErrorCode.IntegrityFailure, 'integrity check failed: MAC does not match the object binding', {
      ...(ckr ? { ckr } : {}),
    });
  if (mac.length !== MAC_BYTES) throw fail();
  let ok: boolean;
  try {
    ok = await calls.verify(session, macKey, data, mac);
  } catch (e) {
    const ckr = ckrOf(e);
    if (ckr === 'CKR_SIGNATURE_INVALID' || ckr === 'CKR_SIGNATURE_LEN_RANGE') throw fail(ckr);
    throw e;
  }
  if (!ok) throw fail();
}

/** C_DestroyObject that never throws: used in `finally` blocks where an error is already flying. */
export function destroyQuietly(calls: Pkcs11Calls, session: Handle, obj: Handle): boolean {
  try {
    calls.p11.C_DestroyObject(session, obj);
    return true;
  } catch {
    // Session objects die with their session anyway; a lost session is handled by the caller.
    return false;
  }
}
