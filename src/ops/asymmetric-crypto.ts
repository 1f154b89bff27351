/**
 * Cryptography with managed asymmetric keys (KMIP 1.4 §4.29–4.32, §3.6 Cryptographic Parameters;
 * 2.1 §6.1.17, §6.1.11, §6.1.51, §6.1.52, §4.13): RSA and ECDSA signatures, RSA encryption. The
 * private key is revealed by the HSM for the operation, read into a node KeyObject and the
 * revealed buffer zeroed; public keys are read the same way.
 *
 * Signatures:
 *  - RSA PKCS#1 v1.5 (RFC 8017 §8.2) and RSASSA-PSS (§8.1; MGF1 with the same hash, salt as long
 *    as the hash unless Salt Length says otherwise), SHA-1/224/256/384/512 and SHA3-256/384/512;
 *  - ECDSA (FIPS 186-4 §6), DER-encoded signatures (RFC 3279 §2.2.3), as the OASIS vectors use.
 * The scheme comes from the request's Cryptographic Parameters (Digital Signature Algorithm, or
 * Padding Method + Hashing Algorithm), else the key's Cryptographic Parameters attribute, else
 * PKCS#1 v1.5 or ECDSA with SHA-256.
 *
 * Digested Data (1.4 §4.31: the client hashed the data itself) is signed as given: ECDSA signs
 * and verifies the digest inside the HSM (CKM_ECDSA; node's signer always hashes); RSA PKCS#1 v1.5 wraps it in the DigestInfo of the named hash (RFC 8017 §9.2 note
 * 1), or signs it raw when no hash is named (TC-RSA-SIGN-DIGESTEDDATA-1-14 gives none); PSS
 * encodes it with EMSA-PSS (§9.1.1 from step 4) and applies the raw RSA operation.
 *
 * Signature Verify answers with the Validity Indicator: a signature that does not verify, or
 * parameters that cannot describe a signature by this key (RSA parameters for an EC key,
 * TC-ECDSA-SIGN-DIGESTEDDATA-1-14), are Invalid, not a failure.
 *
 * Encryption: RSA-OAEP (RFC 8017 §7.1; hash and MGF1 hash from the parameters, SHA-1 when absent
 * as RFC 8017 defaults). RSAES-PKCS1-v1_5 (§7.2) is refused (Feature Not Supported): its
 * decryption is the Bleichenbacher oracle, and node 20 no longer offers it for private keys.
 */
import {
  constants,
  createHash,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask, Tag, enumValueName } from '../kmip/registry.js';
import type { KeyWrapper } from './key-wrapping.js';
import type { CryptographicParameters } from '../kmip/payloads/encrypt.js';
import type { StoredObject } from '../store/types.js';
import type { EcCurve, KeyProtector } from '../hsm/key-protector.js';
import { FormatUnsupported, keyObjectOf } from './asymmetric-formats.js';
import { requireUse, type UsePurpose } from './key-use.js';
import { revealObject } from './key-material.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import { resolveParameters } from './symmetric-crypto.js';
import type { OperationContext } from './types.js';
import { bufferView, runCrypto } from './node-crypto.js';

const CA = Enum.CryptographicAlgorithm;
const HA = Enum.HashingAlgorithm;
const PM = Enum.PaddingMethod;
const DSA = Enum.DigitalSignatureAlgorithm;
const OT = Enum.ObjectType;

const label = (enumName: string, v: number): string => enumValueName(enumName, v) ?? `0x${(v >>> 0).toString(16)}`;

/** Hashes kmipd signs with: node name, digest length, DigestInfo prefix (RFC 8017 §9.2 note 1). */
const HASHES: ReadonlyMap<number, { name: string; bytes: number; digestInfo?: Buffer }> = new Map([
  [HA.SHA_1, { name: 'sha1', bytes: 20, digestInfo: Buffer.from('3021300906052b0e03021a05000414', 'hex') }],
  [HA.SHA_224, { name: 'sha224', bytes: 28, digestInfo: Buffer.from('302d300d06096086480165030402040500041c', 'hex') }],
  [HA.SHA_256, { name: 'sha256', bytes: 32, digestInfo: Buffer.from('3031300d060960864801650304020105000420', 'hex') }],
  [HA.SHA_384, { name: 'sha384', bytes: 48, digestInfo: Buffer.from('3041300d060960864801650304020205000430', 'hex') }],
  [HA.SHA_512, { name: 'sha512', bytes: 64, digestInfo: Buffer.from('3051300d060960864801650304020305000440', 'hex') }],
  [HA.SHA3_256, { name: 'sha3-256', bytes: 32, digestInfo: Buffer.from('3031300d060960864801650304020805000420', 'hex') }],
  [HA.SHA3_384, { name: 'sha3-384', bytes: 48, digestInfo: Buffer.from('3041300d060960864801650304020905000430', 'hex') }],
  [HA.SHA3_512, { name: 'sha3-512', bytes: 64, digestInfo: Buffer.from('3051300d060960864801650304020a05000440', 'hex') }],
]);

/** Digital Signature Algorithm → scheme and hash (1.4 §9.1.3.2.7, 2.1 §11.16). */
const SIGNATURE_ALGORITHMS: ReadonlyMap<number, { key: 'rsa' | 'ec'; pss?: boolean; hash?: number }> = new Map([
  [DSA.SHA_1WithRSAEncryption, { key: 'rsa', hash: HA.SHA_1 }],
  [DSA.SHA_224WithRSAEncryption, { key: 'rsa', hash: HA.SHA_224 }],
  [DSA.SHA_256WithRSAEncryption, { key: 'rsa', hash: HA.SHA_256 }],
  [DSA.SHA_384WithRSAEncryption, { key: 'rsa', hash: HA.SHA_384 }],
  [DSA.SHA_512WithRSAEncryption, { key: 'rsa', hash: HA.SHA_512 }],
  [DSA.SHA3_256WithRSAEncryption, { key: 'rsa', hash: HA.SHA3_256 }],
  [DSA.SHA3_384WithRSAEncryption, { key: 'rsa', hash: HA.SHA3_384 }],
  [DSA.SHA3_512WithRSAEncryption, { key: 'rsa', hash: HA.SHA3_512 }],
  [DSA.RSASSA_PSS, { key: 'rsa', pss: true }],
  [DSA.ECDSAWithSHA_1, { key: 'ec', hash: HA.SHA_1 }],
  [DSA.ECDSAWithSHA224, { key: 'ec', hash: HA.SHA_224 }],
  [DSA.ECDSAWithSHA256, { key: 'ec', hash: HA.SHA_256 }],
  [DSA.ECDSAWithSHA384, { key: 'ec', hash: HA.SHA_384 }],
  [DSA.ECDSAWithSHA512, { key: 'ec', hash: HA.SHA_512 }],
]);

const RSA_ALGORITHMS: readonly number[] = [CA.RSA];
const EC_ALGORITHMS: readonly number[] = [CA.EC, CA.ECDSA];

// ---------------------------------------------------------------------------------------------
// The key

export interface AsymmetricKeyInUse {
  obj: StoredObject;
  key: KeyObject;
}

/**
 * Runs `use` with the managed key `given` of `objectType` (Private Key to sign or decrypt, Public
 * Key to verify or encrypt), after the usage and state checks of key-use.ts.
 */
export async function withAsymmetricKey<T>(
  ctx: OperationContext,
  obj: StoredObject,
  objectType: number,
  usage: number,
  purpose: UsePurpose,
  use: (k: AsymmetricKeyInUse) => T | Promise<T>,
): Promise<T> {
  if (obj.objectType !== objectType) {
    throw refuse('objectType', ctx.version, `this operation needs a ${objectType === OT.PrivateKey ? 'Private' : 'Public'} Key`);
  }
  requireUse(ctx.version, obj, usage, purpose, ctx.now());
  const { object, secret } = await revealObject(ctx.keys, obj);
  let key: KeyObject;
  try {
    key = keyObjectOf(object);
  } catch (e) {
    if (e instanceof FormatUnsupported) throw new KmipError('FeatureNotSupported', 'the key’s format cannot be used for this operation');
    throw e;
  } finally {
    secret.fill(0);
  }
  return use({ obj, key });
}

/** The object an Encrypt or Decrypt names, when it is an asymmetric key (else the symmetric path runs). */
export async function asymmetricTarget(ctx: OperationContext, given: TtlvNode | undefined): Promise<StoredObject | undefined> {
  const obj = await loadOnline(ctx, given);
  return obj.objectType === OT.PrivateKey || obj.objectType === OT.PublicKey ? obj : undefined;
}

// ---------------------------------------------------------------------------------------------
// Signatures

export interface SignaturePlan {
  scheme: 'pkcs1' | 'pss' | 'ecdsa';
  /** Hashing Algorithm; undefined only for raw PKCS#1 v1.5 over Digested Data. */
  hash: number | undefined;
  saltLength: number | undefined;
}

/** node's name of the plan's hash (streams hash the data as it arrives). */
export function hashName(plan: SignaturePlan): string {
  const h = plan.hash === undefined ? undefined : HASHES.get(plan.hash);
  if (h === undefined) throw new KmipError('FeatureNotSupported', 'a signature without a named hash cannot be streamed');
  return h.name;
}

/** Thrown when the parameters cannot describe a signature by this key (Verify answers Invalid). */
class Mismatch extends KmipError {
  constructor(message: string) {
    super('InvalidField', message);
  }
}

/** The signature scheme of `params` for `key` (see the header for the defaults). */
export function planSignature(params: CryptographicParameters, key: KeyObject, digested: boolean): SignaturePlan {
  const keyType = key.asymmetricKeyType === 'rsa' ? 'rsa' : key.asymmetricKeyType === 'ec' ? 'ec' : undefined;
  if (keyType === undefined) throw new KmipError('FeatureNotSupported', 'kmipd signs with RSA and EC keys only');
  let hash = params.hashingAlgorithm;
  let pss = params.paddingMethod === PM.PSS;
  if (params.digitalSignatureAlgorithm !== undefined) {
    const d = SIGNATURE_ALGORITHMS.get(params.digitalSignatureAlgorithm);
    if (d === undefined) throw new KmipError('FeatureNotSupported', `Digital Signature Algorithm ${label('DigitalSignatureAlgorithm', params.digitalSignatureAlgorithm)} is not supported`);
    if (d.key !== keyType) throw new Mismatch('the Digital Signature Algorithm does not suit the key');
    hash = d.hash ?? hash;
    pss ||= d.pss === true;
  }
  const alg = params.cryptographicAlgorithm;
  if (alg !== undefined) {
    const fits = keyType === 'rsa' ? RSA_ALGORITHMS.includes(alg) : EC_ALGORITHMS.includes(alg);
    if (!fits) throw new Mismatch('the Cryptographic Algorithm in Cryptographic Parameters is not the key’s');
  }
  if (hash !== undefined && !HASHES.has(hash)) throw new KmipError('FeatureNotSupported', `Hashing Algorithm ${label('HashingAlgorithm', hash)} is not supported`);
  if (keyType === 'ec') {
    if (params.paddingMethod !== undefined && params.paddingMethod !== PM.None) throw new Mismatch('ECDSA takes no Padding Method');
    return { scheme: 'ecdsa', hash: hash ?? HA.SHA_256, saltLength: undefined };
  }
  if (params.paddingMethod !== undefined && params.paddingMethod !== PM.PSS && params.paddingMethod !== PM.PKCS1V1_5) {
    throw new Mismatch(`RSA signatures take PKCS1 v1.5 or PSS padding, not ${label('PaddingMethod', params.paddingMethod)}`);
  }
  if (pss) {
    const mgfHash = params.maskGeneratorHashingAlgorithm;
    if (mgfHash !== undefined && mgfHash !== (hash ?? HA.SHA_256)) throw new KmipError('FeatureNotSupported', 'PSS with a different MGF1 hash is not supported');
    return { scheme: 'pss', hash: hash ?? HA.SHA_256, saltLength: params.saltLength };
  }
  // Raw PKCS#1 v1.5 over a digest whose hash the client did not name.
  return { scheme: 'pkcs1', hash: hash ?? (digested ? undefined : HA.SHA_256), saltLength: undefined };
}

export type SignatureInput = { data: Uint8Array } | { digest: Uint8Array };


function checkDigest(plan: SignaturePlan, digest: Uint8Array): void {
  const h = plan.hash === undefined ? undefined : HASHES.get(plan.hash);
  // ECDSA signs any digest (it is truncated to the order's size); PKCS#1 and PSS embed it whole.
  if (h !== undefined && plan.scheme !== 'ecdsa' && digest.length !== h.bytes) {
    throw new KmipError('InvalidField', `Digested Data must be ${h.bytes} bytes for ${label('HashingAlgorithm', plan.hash!)}`);
  }
  if (digest.length === 0) throw new KmipError('InvalidField', 'Digested Data is empty');
}

const modulusBytes = (key: KeyObject): number => Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);

/** The curve and components of an EC key, for the HSM's CKM_ECDSA (JWK names, RFC 7518 §6.2). */
function ecParts(key: KeyObject): { curve: EcCurve; d?: Buffer; point: Buffer } {
  const j = key.export({ format: 'jwk' });
  const curve = j.crv as EcCurve;
  if (!['P-256', 'P-384', 'P-521', 'secp256k1'].includes(curve)) throw new KmipError('FeatureNotSupported', 'ECDSA over Digested Data is supported on P-256, P-384, P-521 and secp256k1');
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(j.x ?? '', 'base64url'), Buffer.from(j.y ?? '', 'base64url')]);
  return j.d === undefined ? { curve, point } : { curve, d: Buffer.from(j.d, 'base64url'), point };
}

export async function signWith(plan: SignaturePlan, key: KeyObject, input: SignatureInput, keys: KeyProtector): Promise<Buffer> {
  const hash = plan.hash === undefined ? undefined : HASHES.get(plan.hash);
  if ('digest' in input) {
    checkDigest(plan, input.digest);
    if (plan.scheme === 'ecdsa') {
      const { curve, d } = ecParts(key);
      try {
        return ecdsaDer(await keys.signEcdsaDigest(curve, d!, input.digest));
      } finally {
        d?.fill(0);
      }
    }
  }
  return runCrypto(() => {
    if ('data' in input) {
      const opts = nodeSignatureOptions(plan, key, constants.RSA_PSS_SALTLEN_DIGEST);
      return nodeSign(hash!.name, bufferView(input.data), opts);
    }
    if (plan.scheme === 'pkcs1') {
      const t = hash?.digestInfo === undefined ? bufferView(input.digest) : Buffer.concat([hash.digestInfo, input.digest]);
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, t);
    }
    const em = emsaPssEncode(input.digest, hash!.name, hash!.bytes, plan.saltLength ?? hash!.bytes, (key.asymmetricKeyDetails?.modulusLength ?? 0) - 1);
    try {
      return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, leftPad(em, modulusBytes(key)));
    } finally {
      em.fill(0);
    }
  });
}

/** node:crypto sign/verify options for `plan`; a PSS salt length not given defaults to `pssSalt` (sign: the digest length; verify: any). */
function nodeSignatureOptions(plan: SignaturePlan, key: KeyObject, pssSalt: number) {
  if (plan.scheme === 'pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: plan.saltLength ?? pssSalt };
  if (plan.scheme === 'ecdsa') return { key, dsaEncoding: 'der' as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

export async function verifyWith(plan: SignaturePlan, key: KeyObject, input: SignatureInput, signature: Uint8Array, keys: KeyProtector): Promise<boolean> {
  const sig = bufferView(signature);
  const hash = plan.hash === undefined ? undefined : HASHES.get(plan.hash);
  if ('digest' in input) {
    checkDigest(plan, input.digest);
    if (plan.scheme === 'ecdsa') {
      const { curve, point } = ecParts(key);
      const rs = ecdsaRaw(sig, (point.length - 1) / 2);
      return rs !== undefined && keys.verifyEcdsaDigest(curve, point, input.digest, rs);
    }
  }
  try {
    if ('data' in input) {
      const opts = nodeSignatureOptions(plan, key, constants.RSA_PSS_SALTLEN_AUTO);
      return nodeVerify(hash!.name, bufferView(input.data), opts, sig);
    }
    if (sig.length !== modulusBytes(key)) return false;
    if (plan.scheme === 'pkcs1') {
      const t = hash?.digestInfo === undefined ? bufferView(input.digest) : Buffer.concat([hash.digestInfo, input.digest]);
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig);
      return recovered.equals(t);
    }
    const em = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, sig);
    return emsaPssVerify(input.digest, em, hash!.name, hash!.bytes, plan.saltLength, (key.asymmetricKeyDetails?.modulusLength ?? 0) - 1);
  } catch (e) {
    if (e instanceof KmipError) throw e;
    // A malformed signature (wrong length, bad DER) is an invalid one.
    return false;
  }
}

// ECDSA-Sig-Value (RFC 3279 §2.2.3): SEQUENCE { r INTEGER, s INTEGER } ↔ the r || s of PKCS#11.

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}

function derInteger(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

export function ecdsaDer(rs: Buffer): Buffer {
  const half = rs.length / 2;
  const body = Buffer.concat([derInteger(rs.subarray(0, half)), derInteger(rs.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** r || s of a DER signature, each `size` bytes; undefined when it is not one. */
export function ecdsaRaw(der: Buffer, size: number): Buffer | undefined {
  let o = 0;
  const readLength = (): number | undefined => {
    const first = der[o++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    if (first !== 0x81) return undefined;
    const n = der[o++];
    return n === undefined || n < 0x80 ? undefined : n;
  };
  if (der[o++] !== 0x30) return undefined;
  const total = readLength();
  if (total === undefined || o + total !== der.length) return undefined;
  const out = Buffer.alloc(2 * size);
  for (let k = 0; k < 2; k++) {
    if (der[o++] !== 0x02) return undefined;
    const len = readLength();
    if (len === undefined || len === 0 || o + len > der.length) return undefined;
    let v = der.subarray(o, o + len);
    o += len;
    if (v.length > 1 && v[0] === 0 && ((v[1] ?? 0) & 0x80) === 0) return undefined; // not minimal
    if ((v[0] ?? 0) & 0x80) return undefined; // negative
    if (v[0] === 0 && v.length > 1) v = v.subarray(1);
    if (v.length > size) return undefined;
    v.copy(out, k * size + size - v.length);
  }
  return o === der.length ? out : undefined;
}

// EMSA-PSS (RFC 8017 §9.1) for Digested Data, which node's sign() cannot take for PSS.

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out = Buffer.alloc(length);
  let filled = 0;
  for (let counter = 0; filled < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    filled += createHash(hash).update(seed).update(c).digest().copy(out, filled);
  }
  return out;
}

function emsaPssEncode(mHash: Uint8Array, hash: string, hLen: number, sLen: number, emBits: number): Buffer {
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new KmipError('InvalidField', 'the key is too short for this PSS salt length');
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - sLen - 1] = 0x01;
  salt.copy(db, db.length - sLen);
  const mask = mgf1(h, db.length, hash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

function emsaPssVerify(mHash: Uint8Array, decrypted: Buffer, hash: string, hLen: number, sLen: number | undefined, emBits: number): boolean {
  const emLen = Math.ceil(emBits / 8);
  // The raw RSA output is as long as the modulus; EM is its last emLen bytes (RFC 8017 §8.1.2 step 2c).
  const lead = decrypted.subarray(0, decrypted.length - emLen);
  if (lead.some((b) => b !== 0)) return false;
  const em = decrypted.subarray(decrypted.length - emLen);
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] ?? 0) & ~topBits) !== 0) return false;
  const mask = mgf1(Buffer.from(h), maskedDb.length, hash);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topBits;
  const one = db.indexOf(0x01);
  if (one < 0 || db.subarray(0, one).some((b) => b !== 0)) return false;
  const salt = db.subarray(one + 1);
  if (sLen !== undefined && salt.length !== sLen) return false;
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return h2.equals(h);
}

function leftPad(b: Buffer, length: number): Buffer {
  if (b.length >= length) return b;
  return Buffer.concat([Buffer.alloc(length - b.length), b]);
}

/** Is this error a parameters/key mismatch (Signature Verify answers Invalid)? */
export function isMismatch(e: unknown): boolean {
  return e instanceof Mismatch;
}

/** The request's Cryptographic Parameters, else the key's (resolveParameters), for signatures. */
export function signatureParameters(requested: CryptographicParameters | undefined, obj: StoredObject): CryptographicParameters {
  return resolveParameters(requested, obj);
}

// ---------------------------------------------------------------------------------------------
// RSA encryption

export interface RsaCipherPlan {
  padding: number;
  oaepHash: string | undefined;
  label: Buffer | undefined;
}

/** RSA encryption scheme from the parameters: OAEP (also when none is named). */
export function planRsaCipher(params: CryptographicParameters, key: KeyObject): RsaCipherPlan {
  if (key.asymmetricKeyType !== 'rsa') throw new KmipError('FeatureNotSupported', 'only RSA keys encrypt and decrypt');
  if (params.cryptographicAlgorithm !== undefined && params.cryptographicAlgorithm !== CA.RSA) {
    throw new KmipError('InvalidField', 'the Cryptographic Algorithm in Cryptographic Parameters is not the key’s');
  }
  const padding = params.paddingMethod ?? PM.OAEP;
  if (padding !== PM.OAEP) throw new KmipError('FeatureNotSupported', `RSA encryption with Padding Method ${label('PaddingMethod', padding)} is not supported`);
  const hash = HASHES.get(params.hashingAlgorithm ?? HA.SHA_1);
  if (hash === undefined) throw new KmipError('FeatureNotSupported', 'unsupported Hashing Algorithm for OAEP');
  const mgf = params.maskGeneratorHashingAlgorithm;
  if (mgf !== undefined && mgf !== (params.hashingAlgorithm ?? HA.SHA_1)) {
    throw new KmipError('FeatureNotSupported', 'OAEP with a different MGF1 hash is not supported');
  }
  return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash.name, label: params.pSource === undefined ? undefined : bufferView(params.pSource) };
}

export function rsaEncrypt(plan: RsaCipherPlan, key: KeyObject, data: Uint8Array): Buffer {
  return runCrypto(() =>
    publicEncrypt({ key, padding: plan.padding, ...(plan.oaepHash ? { oaepHash: plan.oaepHash } : {}), ...(plan.label ? { oaepLabel: plan.label } : {}) }, bufferView(data)),
  );
}

export function rsaDecrypt(plan: RsaCipherPlan, key: KeyObject, data: Uint8Array): Buffer {
  return runCrypto(() =>
    privateDecrypt({ key, padding: plan.padding, ...(plan.oaepHash ? { oaepHash: plan.oaepHash } : {}), ...(plan.label ? { oaepLabel: plan.label } : {}) }, bufferView(data)),
  );
}

// ---------------------------------------------------------------------------------------------
// Key wrapping with RSA-OAEP (1.4 §2.1.5–2.1.6: Wrapping Method Encrypt under a Public Key)

/** The Private Key a Public Key links to (Create Key Pair sets the link; Register may). */
async function linkedPrivateKey(ctx: OperationContext, pub: StoredObject): Promise<StoredObject> {
  for (const a of pub.attributes) {
    if (a.name !== 'Link' || a.value.type !== 'Structure') continue;
    const type = a.value.value.find((c) => c.tag === Tag.LinkType);
    const target = a.value.value.find((c) => c.tag === Tag.LinkedObjectIdentifier);
    if (type?.type === 'Enumeration' && type.value === Enum.LinkType.PrivateKeyLink && target?.type === 'TextString') {
      return loadOnline(ctx, { tag: Tag.UniqueIdentifier, type: 'TextString', value: target.value });
    }
  }
  throw new KmipError('FeatureNotSupported', 'the wrapping Public Key has no Private Key Link: kmipd cannot unwrap what it wrapped');
}

/**
 * RSA-OAEP wrapping: a Public Key with Wrap Key in its usage mask wraps; the Private Key it links
 * to, with Unwrap Key, unwraps what was registered wrapped under that Public Key.
 */
export const publicKeyWrapper: KeyWrapper = {
  async wrap(ctx, pub, params, plaintext) {
    return withAsymmetricKey(ctx, pub, OT.PublicKey, Mask.CryptographicUsageMask.WrapKey, 'protect', ({ key }) => ({
      bytes: rsaEncrypt(planRsaCipher(params, key), key, plaintext),
    }));
  },
  async unwrap(ctx, pub, params, wrapped) {
    const priv = await linkedPrivateKey(ctx, pub);
    return withAsymmetricKey(ctx, priv, OT.PrivateKey, Mask.CryptographicUsageMask.UnwrapKey, 'process', ({ key }) => rsaDecrypt(planRsaCipher(params, key), key, wrapped));
  },
};
