/**
 * Symmetric cryptography for Encrypt, Decrypt, MAC and MAC Verify (KMIP 1.4 §4.29, §4.30, §4.33,
 * §4.34 and §3.6 Cryptographic Parameters; 2.1 §6.1.17, §6.1.11, §6.1.30, §6.1.31, §4.13): which
 * parameters apply, which cipher and mode they name, what IV it needs, and the computation itself
 * on node:crypto. Mode, padding and parameter resolution live here and nowhere else.
 *
 * The HSM holds only the KEK: an object key is revealed into memory for one operation and zeroed
 * afterwards (`withKey`).
 *
 * Supported: AES-128/192/256 in ECB and CBC (Padding Method PKCS5 or None), CTR, GCM (Tag Length,
 * Authenticated Encryption Additional Data), NIST Key Wrap (RFC 3394) and AES Key Wrap with
 * Padding (RFC 5649), XTS (AES-128 key pairs, the tweak as IV); Triple DES (two or three keys) in ECB and CBC; HMAC-SHA1/224/256/384/512.
 * Streaming (Correlation Value, Init / Final Indicator): the context functions below, driven by
 * stream-operation.ts with the table in crypto-streams.ts.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type Cipher, type CipherGCM, type CipherGCMTypes, type Decipher, type DecipherGCM, type Hmac } from 'node:crypto';
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag, enumValueName } from '../kmip/registry.js';
import type { SchemaContext } from '../kmip/schema.js';
import { keyBlockOf } from '../kmip/objects.js';
import { cryptographicParameters, type CryptographicParameters } from '../kmip/payloads/encrypt.js';
import type { StoredObject } from '../store/types.js';
import { revealObject } from './key-material.js';
import { requireUse, type UsePurpose } from './key-use.js';
import { attributeValue, enumAttribute } from './new-object.js';
import { loadOnline } from './online-object.js';
import { refuse } from './refusals.js';
import type { OperationContext } from './types.js';
import { bufferView, runCrypto } from './node-crypto.js';

const BCM = Enum.BlockCipherMode;
const PM = Enum.PaddingMethod;
const CA = Enum.CryptographicAlgorithm;

/** Stored attribute values are read in a version that defines every field, leniently. */
const STORED_CONTEXT: SchemaContext = { version: { major: 2, minor: 1 }, lenientUnknown: true };

// ---------------------------------------------------------------------------------------------
// Parameters

/**
 * The parameters of one operation: those of the request, or else those stored with the key (1.4
 * §4.29 "If there are no Cryptographic Parameters provided with the request, then those stored
 * with the managed object SHALL be used"). The first stored instance is used.
 */
export function resolveParameters(requested: CryptographicParameters | undefined, obj: StoredObject): CryptographicParameters {
  if (requested !== undefined) return requested;
  const stored = attributeValue(obj.attributes, 'CryptographicParameters');
  if (stored === undefined || stored.type !== 'Structure') return {} as CryptographicParameters;
  return cryptographicParameters.decode(stored, STORED_CONTEXT);
}

/** The key's Cryptographic Algorithm: the Key Block's, else the attribute. */
function keyAlgorithm(obj: StoredObject, blockAlgorithm: number | undefined): number | undefined {
  return blockAlgorithm ?? enumAttribute(obj.attributes, 'CryptographicAlgorithm');
}

const label = (enumName: string, v: number): string => enumValueName(enumName, v) ?? `0x${(v >>> 0).toString(16)}`;

// ---------------------------------------------------------------------------------------------
// Ciphers

/** How one cipher invocation is done: what node:crypto calls it and what it needs. */
export interface CipherPlan {
  /** node:crypto cipher name. */
  cipher: string;
  mode: number;
  /** Bytes per block (padding and alignment); 1 for stream modes. */
  blockSize: number;
  /** PKCS#5/#7 padding on (ECB/CBC with Padding Method PKCS5). */
  pad: boolean;
  /** The IV this mode uses: 'none' (ECB), a fixed default (key wrap) or one the caller supplies. */
  iv: { kind: 'none' } | { kind: 'default'; value: Buffer; length: number } | { kind: 'required'; length: number | 'any'; generate: number };
  /** GCM: tag length in bytes. */
  tagLength?: number;
}

/** Tag lengths GCM permits (NIST SP 800-38D §5.2.1.2: 128, 120, 112, 104, 96, and 64 or 32 bits). */
const GCM_TAG_LENGTHS: readonly number[] = [4, 8, 12, 13, 14, 15, 16];

/** RFC 3394 §2.2.3.1 default IV; RFC 5649 §3 Alternative Initial Value (its first half). */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const KWP_IV = Buffer.from('a65959a6', 'hex');

/**
 * The cipher for a symmetric key of `algorithm` and `keyBytes` under `params`. Unsupported modes,
 * paddings or algorithms are Feature Not Supported; a mode without its needed parameters, or
 * parameters that contradict one another, Invalid Field.
 */
export function planCipher(algorithm: number | undefined, keyBytes: number, params: CryptographicParameters): CipherPlan {
  if (params.cryptographicAlgorithm !== undefined && algorithm !== undefined && params.cryptographicAlgorithm !== algorithm) {
    throw new KmipError('InvalidField', 'the Cryptographic Algorithm in Cryptographic Parameters is not the key’s');
  }
  const alg = algorithm ?? params.cryptographicAlgorithm;
  const mode = params.blockCipherMode;
  if (mode === undefined) throw new KmipError('InvalidField', 'no Block Cipher Mode was given and the key has no Cryptographic Parameters naming one');
  const padding = params.paddingMethod;
  const ivBits = params.ivLength;
  if (ivBits !== undefined && (ivBits <= 0 || ivBits % 8 !== 0)) throw new KmipError('InvalidField', 'IV Length must be a positive multiple of 8 bits');
  const ivBytes = ivBits === undefined ? undefined : ivBits / 8;

  if (alg === CA.AES) {
    if (keyBytes !== 16 && keyBytes !== 24 && keyBytes !== 32) throw new KmipError('InvalidField', 'an AES key is 128, 192 or 256 bits');
    const n = keyBytes * 8;
    switch (mode) {
      case BCM.ECB:
      case BCM.CBC: {
        const pad = blockPadding(padding);
        const cbc = mode === BCM.CBC;
        if (cbc && ivBytes !== undefined && ivBytes !== 16) throw new KmipError('InvalidField', 'CBC with AES takes a 128-bit IV');
        return { cipher: `aes-${n}-${cbc ? 'cbc' : 'ecb'}`, mode, blockSize: 16, pad, iv: cbc ? { kind: 'required', length: 16, generate: 16 } : { kind: 'none' } };
      }
      case BCM.CTR:
        noPadding(padding, 'CTR');
        if (ivBytes !== undefined && ivBytes !== 16) throw new KmipError('InvalidField', 'CTR with AES takes a 128-bit counter block');
        return { cipher: `aes-${n}-ctr`, mode, blockSize: 1, pad: false, iv: { kind: 'required', length: 16, generate: 16 } };
      case BCM.GCM: {
        noPadding(padding, 'GCM');
        const tagLength = params.tagLength ?? 16;
        if (!GCM_TAG_LENGTHS.includes(tagLength)) throw new KmipError('InvalidField', 'GCM Tag Length must be 4, 8 or 12 to 16 bytes');
        return { cipher: `aes-${n}-gcm`, mode, blockSize: 1, pad: false, iv: { kind: 'required', length: 'any', generate: ivBytes ?? 12 }, tagLength };
      }
      case BCM.XTS:
        // IEEE 1619 / SP 800-38E: the key is two AES keys of equal size; the tweak is the IV.
        // SoftHSM has no XTS mechanism, so it is computed here on the revealed key, like the others.
        noPadding(padding, 'XTS');
        if (keyBytes !== 32) throw new KmipError('InvalidField', 'XTS takes a 256-bit key (two AES-128 keys)');
        if (ivBytes !== undefined && ivBytes !== 16) throw new KmipError('InvalidField', 'XTS takes a 128-bit tweak as IV/Counter/Nonce');
        return { cipher: 'aes-128-xts', mode, blockSize: 1, pad: false, iv: { kind: 'required', length: 16, generate: 16 } };
      case BCM.NISTKeyWrap:
        noPadding(padding, 'NIST Key Wrap');
        return { cipher: `id-aes${n}-wrap`, mode, blockSize: 8, pad: false, iv: { kind: 'default', value: KW_IV, length: 8 } };
      case BCM.AESKeyWrapPadding:
        noPadding(padding, 'AES Key Wrap with Padding');
        return { cipher: `id-aes${n}-wrap-pad`, mode, blockSize: 1, pad: false, iv: { kind: 'default', value: KWP_IV, length: 4 } };
      default:
        throw new KmipError('FeatureNotSupported', `Block Cipher Mode ${label('BlockCipherMode', mode)} is not supported with AES`);
    }
  }
  if (alg === CA.DES3) {
    if (keyBytes !== 16 && keyBytes !== 24) throw new KmipError('InvalidField', 'a Triple DES key is 128 or 192 bits (two or three keys)');
    const base = keyBytes === 24 ? 'des-ede3' : 'des-ede';
    if (mode !== BCM.ECB && mode !== BCM.CBC) {
      throw new KmipError('FeatureNotSupported', `Block Cipher Mode ${label('BlockCipherMode', mode)} is not supported with Triple DES`);
    }
    const pad = blockPadding(padding);
    const cbc = mode === BCM.CBC;
    if (cbc && ivBytes !== undefined && ivBytes !== 8) throw new KmipError('InvalidField', 'CBC with Triple DES takes a 64-bit IV');
    return { cipher: cbc ? `${base}-cbc` : base, mode, blockSize: 8, pad, iv: cbc ? { kind: 'required', length: 8, generate: 8 } : { kind: 'none' } };
  }
  if (alg === undefined) throw new KmipError('InvalidField', 'the key has no Cryptographic Algorithm');
  throw new KmipError('FeatureNotSupported', `encryption with ${label('CryptographicAlgorithm', alg)} is not supported`);
}

function blockPadding(padding: number | undefined): boolean {
  if (padding === undefined || padding === PM.None) return false;
  if (padding === PM.PKCS5) return true;
  throw new KmipError('FeatureNotSupported', `Padding Method ${label('PaddingMethod', padding)} is not supported for block ciphers`);
}

function noPadding(padding: number | undefined, mode: string): void {
  if (padding !== undefined && padding !== PM.None) throw new KmipError('InvalidField', `${mode} takes no Padding Method`);
}

/** The IV an Encrypt uses, and whether it goes back to the client. */
export function encryptionIv(plan: CipherPlan, given: Uint8Array | undefined, random: Uint8Array | undefined): { iv: Buffer | null; returned: boolean } {
  switch (plan.iv.kind) {
    case 'none':
      if (given !== undefined) throw new KmipError('InvalidField', 'this Block Cipher Mode takes no IV/Counter/Nonce');
      return { iv: null, returned: false };
    case 'default':
      return { iv: given === undefined ? plan.iv.value : checkIvLength(given, plan.iv.length), returned: false };
    case 'required':
      if (given !== undefined) return { iv: checkIvLength(given, plan.iv.length), returned: false };
      if (random === undefined || random.length !== plan.iv.generate) throw new Error('encryptionIv needs generated bytes of ivToGenerate length');
      return { iv: Buffer.from(random), returned: true };
  }
}

/** How many IV bytes the server must generate for an Encrypt without IV/Counter/Nonce (0: none). */
export function ivToGenerate(plan: CipherPlan, given: Uint8Array | undefined): number {
  return plan.iv.kind === 'required' && given === undefined ? plan.iv.generate : 0;
}

/**
 * The IV a Decrypt uses. A mode that needs one and gets none fails with Invalid Message, as the
 * OASIS vectors expect (CS-BC-M-11/12/13, 1.4 and 2.1).
 */
export function decryptionIv(plan: CipherPlan, given: Uint8Array | undefined): Buffer | null {
  switch (plan.iv.kind) {
    case 'none':
      if (given !== undefined) throw new KmipError('InvalidField', 'this Block Cipher Mode takes no IV/Counter/Nonce');
      return null;
    case 'default':
      return given === undefined ? plan.iv.value : checkIvLength(given, plan.iv.length);
    case 'required':
      if (given === undefined) throw new KmipError('InvalidMessage', 'this Block Cipher Mode needs an IV/Counter/Nonce');
      return checkIvLength(given, plan.iv.length);
  }
}

function checkIvLength(iv: Uint8Array, length: number | 'any'): Buffer {
  if (length === 'any' ? iv.length === 0 : iv.length !== length) {
    throw new KmipError('InvalidField', length === 'any' ? 'the IV/Counter/Nonce is empty' : `the IV/Counter/Nonce must be ${length} bytes`);
  }
  return Buffer.from(iv.buffer, iv.byteOffset, iv.byteLength);
}


function checkInput(plan: CipherPlan, data: Uint8Array, direction: 'encrypt' | 'decrypt'): void {
  if (plan.mode === BCM.NISTKeyWrap) {
    const min = direction === 'encrypt' ? 16 : 24;
    if (data.length < min || data.length % 8 !== 0) throw new KmipError('InvalidField', `NIST Key Wrap ${direction === 'encrypt' ? 'input' : 'ciphertext'} must be a multiple of 8 bytes, at least ${min}`);
  } else if (plan.mode === BCM.AESKeyWrapPadding) {
    if (data.length === 0 || (direction === 'decrypt' && (data.length < 16 || data.length % 8 !== 0))) {
      throw new KmipError('InvalidField', 'AES Key Wrap with Padding input has an invalid length');
    }
  } else if (plan.mode === BCM.XTS) {
    if (data.length < 16) throw new KmipError('InvalidField', 'XTS needs at least 16 bytes of Data');
  } else if (!(plan.pad && direction === 'encrypt') && data.length % plan.blockSize !== 0) {
    throw new KmipError('InvalidField', `the Data must be a multiple of the ${plan.blockSize}-byte block without padding`);
  }
}

export interface Encrypted {
  data: Buffer;
  tag?: Buffer;
}

/** Encrypts `data` (synchronously; any node:crypto failure becomes Cryptographic Failure). */
export function encryptWith(plan: CipherPlan, key: Uint8Array, iv: Buffer | null, data: Uint8Array, aad: Uint8Array | undefined): Encrypted {
  if (aad !== undefined && plan.mode !== BCM.GCM) throw new KmipError('InvalidField', 'Authenticated Encryption Additional Data needs an authenticated mode (GCM)');
  checkInput(plan, data, 'encrypt');
  return runCrypto(() => {
    if (plan.mode === BCM.GCM) {
      const c = createCipheriv(plan.cipher as CipherGCMTypes, bufferView(key), iv!, { authTagLength: plan.tagLength! }) as CipherGCM;
      if (aad !== undefined) c.setAAD(bufferView(aad));
      const out = Buffer.concat([c.update(bufferView(data)), c.final()]);
      return { data: out, tag: c.getAuthTag() };
    }
    const c = createCipheriv(plan.cipher, bufferView(key), iv);
    c.setAutoPadding(plan.pad);
    return { data: Buffer.concat([c.update(bufferView(data)), c.final()]) };
  });
}

/** Decrypts `data`; a GCM tag that does not verify, bad padding or a failed unwrap: Cryptographic Failure. */
export function decryptWith(plan: CipherPlan, key: Uint8Array, iv: Buffer | null, data: Uint8Array, aad: Uint8Array | undefined, tag: Uint8Array | undefined): Buffer {
  if (plan.mode === BCM.GCM) {
    if (tag === undefined) throw new KmipError('MissingData', 'GCM decryption needs the Authenticated Encryption Tag');
    if (!GCM_TAG_LENGTHS.includes(tag.length)) throw new KmipError('InvalidField', 'the Authenticated Encryption Tag has an invalid length');
  } else {
    if (aad !== undefined) throw new KmipError('InvalidField', 'Authenticated Encryption Additional Data needs an authenticated mode (GCM)');
    if (tag !== undefined) throw new KmipError('InvalidField', 'an Authenticated Encryption Tag needs an authenticated mode (GCM)');
  }
  checkInput(plan, data, 'decrypt');
  return runCrypto(() => {
    if (plan.mode === BCM.GCM) {
      const d = createDecipheriv(plan.cipher as CipherGCMTypes, bufferView(key), iv!, { authTagLength: tag!.length }) as DecipherGCM;
      d.setAuthTag(bufferView(tag!));
      if (aad !== undefined) d.setAAD(bufferView(aad));
      return Buffer.concat([d.update(bufferView(data)), d.final()]);
    }
    const d = createDecipheriv(plan.cipher, bufferView(key), iv);
    d.setAutoPadding(plan.pad);
    return Buffer.concat([d.update(bufferView(data)), d.final()]);
  });
}

// ---------------------------------------------------------------------------------------------
// Streamed contexts (Init / Final Indicator, crypto-streams.ts)

/** Modes whose context can take the data in pieces: not the key wraps, nor XTS (one data unit per call). */
export function requireStreamable(plan: CipherPlan): void {
  const whole: readonly number[] = [BCM.NISTKeyWrap, BCM.AESKeyWrapPadding, BCM.XTS];
  if (whole.includes(plan.mode)) {
    throw new KmipError('FeatureNotSupported', `Block Cipher Mode ${label('BlockCipherMode', plan.mode)} takes its data in one piece and cannot be streamed`);
  }
}

/**
 * A cipher context for a stream: node:crypto copies the key into it, so the caller may zero its
 * key bytes right after. AAD (GCM) goes in first; a GCM decrypt receives its tag at the end.
 */
export function startCipher(plan: CipherPlan, key: Uint8Array, iv: Buffer | null, aad: Uint8Array | undefined, direction: 'encrypt' | 'decrypt'): Cipher | Decipher {
  if (aad !== undefined && plan.mode !== BCM.GCM) throw new KmipError('InvalidField', 'Authenticated Encryption Additional Data needs an authenticated mode (GCM)');
  return runCrypto(() => {
    if (plan.mode === BCM.GCM) {
      const c =
        direction === 'encrypt'
          ? createCipheriv(plan.cipher as CipherGCMTypes, bufferView(key), iv!, { authTagLength: plan.tagLength! })
          : createDecipheriv(plan.cipher as CipherGCMTypes, bufferView(key), iv!);
      if (aad !== undefined) c.setAAD(bufferView(aad));
      return c;
    }
    const c = direction === 'encrypt' ? createCipheriv(plan.cipher, bufferView(key), iv) : createDecipheriv(plan.cipher, bufferView(key), iv);
    c.setAutoPadding(plan.pad);
    return c;
  });
}

/** One piece of a stream. */
export function continueCipher(context: Cipher | Decipher, data: Uint8Array | undefined): Buffer {
  return runCrypto(() => context.update(bufferView(data ?? new Uint8Array(0))));
}

/** The last piece: the remaining output, and the tag of a GCM encryption; a GCM decryption checks `tag`. */
export function finishCipher(context: Cipher | Decipher, gcm: boolean, direction: 'encrypt' | 'decrypt', tag: Uint8Array | undefined): Encrypted {
  if (gcm && direction === 'decrypt') {
    if (tag === undefined) throw new KmipError('MissingData', 'the last piece of a GCM decryption needs the Authenticated Encryption Tag');
    if (!GCM_TAG_LENGTHS.includes(tag.length)) throw new KmipError('InvalidField', 'the Authenticated Encryption Tag has an invalid length');
  } else if (tag !== undefined) {
    throw new KmipError('InvalidField', 'an Authenticated Encryption Tag belongs to the last piece of a GCM decryption');
  }
  return runCrypto(() => {
    if (gcm && direction === 'decrypt') (context as DecipherGCM).setAuthTag(bufferView(tag!));
    const data = context.final();
    return gcm && direction === 'encrypt' ? { data, tag: (context as CipherGCM).getAuthTag() } : { data };
  });
}

// ---------------------------------------------------------------------------------------------
// HMAC

const HMAC_HASHES: ReadonlyMap<number, string> = new Map([
  [CA.HMAC_SHA1, 'sha1'],
  [CA.HMAC_SHA224, 'sha224'],
  [CA.HMAC_SHA256, 'sha256'],
  [CA.HMAC_SHA384, 'sha384'],
  [CA.HMAC_SHA512, 'sha512'],
]);

/**
 * The hash of an HMAC: the Cryptographic Algorithm of the Cryptographic Parameters, else the key's
 * (1.4 §4.33). Other MAC algorithms: Feature Not Supported.
 */
export function hmacHash(keyAlg: number | undefined, params: CryptographicParameters): string {
  const alg = params.cryptographicAlgorithm ?? keyAlg;
  if (alg === undefined) throw new KmipError('InvalidField', 'neither the key nor the Cryptographic Parameters name a MAC algorithm');
  const hash = HMAC_HASHES.get(alg);
  if (hash === undefined) throw new KmipError('FeatureNotSupported', `MAC with ${label('CryptographicAlgorithm', alg)} is not supported`);
  return hash;
}

/** An HMAC context for a streamed MAC; node:crypto copies the key into it. */
export function startHmac(hash: string, key: Uint8Array): Hmac {
  if (key.length === 0) throw new KmipError('InvalidField', 'the key is empty');
  return runCrypto(() => createHmac(hash, bufferView(key)));
}

export function hmac(hash: string, key: Uint8Array, data: Uint8Array): Buffer {
  if (key.length === 0) throw new KmipError('InvalidField', 'the key is empty');
  return runCrypto(() => createHmac(hash, bufferView(key)).update(bufferView(data)).digest());
}

/** Compares a MAC in constant time (for equal lengths; a length mismatch is simply invalid). */
export function macMatches(expected: Uint8Array, given: Uint8Array): boolean {
  if (expected.length !== given.length) return false;
  return timingSafeEqual(bufferView(expected), bufferView(given));
}

// ---------------------------------------------------------------------------------------------
// Keys

export interface KeyInUse {
  obj: StoredObject;
  /** The plaintext key bytes: valid only inside `withKey`'s callback. */
  key: Uint8Array;
  /** The key's Cryptographic Algorithm (Key Block, else attribute). */
  algorithm: number | undefined;
}

/**
 * Loads the key a crypto request names (ID Placeholder, tenant scope, on-line), checks it may be
 * used for `usage` (requireUse), reveals it, runs `use`, and zeroes every plaintext copy after.
 */
export async function withKey<T>(ctx: OperationContext, given: TtlvNode | undefined, usage: number, purpose: UsePurpose, use: (k: KeyInUse) => T | Promise<T>): Promise<T> {
  return withLoadedKey(ctx, await loadOnline(ctx, given), usage, purpose, use);
}

/** withKey for an object already loaded (key wrapping finds the wrapping key by its Unique Identifier first). */
export async function withLoadedKey<T>(ctx: OperationContext, obj: StoredObject, usage: number, purpose: UsePurpose, use: (k: KeyInUse) => T | Promise<T>): Promise<T> {
  if (obj.objectType !== Enum.ObjectType.SymmetricKey) throw refuse('objectType', ctx.version, 'this operation needs a Symmetric Key');
  requireUse(ctx.version, obj, usage, purpose, ctx.now());
  const { object, secret } = await revealObject(ctx.keys, obj);
  const copies: Uint8Array[] = [secret];
  try {
    const kb = keyBlockOf(object);
    if (kb?.keyValue === undefined || kb.keyValue.kind === 'wrapped' || kb.keyWrappingData !== undefined) {
      throw new KmipError('FeatureNotSupported', 'the key is stored wrapped and cannot be used by the server');
    }
    const m = kb.keyValue.keyMaterial;
    let key: Uint8Array;
    if (m.type === 'ByteString') key = m.value;
    else if (m.type === 'Structure') {
      const k = m.value.find((c) => c.tag === Tag.Key);
      if (k?.type !== 'ByteString') throw new KmipError('FeatureNotSupported', 'the key’s format cannot be used for this operation');
      key = k.value;
      copies.push(key);
    } else throw new KmipError('FeatureNotSupported', 'the key’s format cannot be used for this operation');
    return await use({ obj, key, algorithm: keyAlgorithm(obj, kb.cryptographicAlgorithm) });
  } finally {
    for (const c of copies) c.fill(0);
  }
}

/** The Data of a request, required for single-shot operations. */
export function requireData(data: Uint8Array | undefined): Uint8Array {
  if (data === undefined) throw new KmipError('MissingData', 'Data is required');
  return data;
}
