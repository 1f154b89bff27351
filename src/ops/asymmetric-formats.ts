/**
 * Asymmetric keys in their Key Format Types (KMIP 1.4 §2.1.3 Table 8, §2.1.7 Transparent Key
 * Structures Tables 17–28; 2.1 §3.4–3.17, §11.18 Key Format Type): reading a stored Private or
 * Public Key into a node KeyObject, and writing a KeyObject in a requested format for Get.
 *
 *   format                               private key                 public key
 *   PKCS#1 (RFC 8017 A.1)                RSAPrivateKey               RSAPublicKey
 *   PKCS#8 (RFC 5208)                    PrivateKeyInfo              –
 *   X.509 (RFC 5280 §4.1.2.7)            –                           SubjectPublicKeyInfo
 *   ECPrivateKey (RFC 5915)              ECPrivateKey                –
 *   Transparent RSA Private/Public       Modulus, exponents, CRT     Modulus, Public Exponent
 *   Transparent EC(DSA/DH/MQV) Priv/Pub  Recommended Curve, D        Recommended Curve, Q String
 *
 * Conversions go through node's key parser, which checks the key is well formed. What a key
 * cannot be written as (an EC key as PKCS#1, an encrypted PKCS#8, a Transparent RSA Private Key
 * without its CRT values) is left to the caller to refuse (Key Format Type Not Supported).
 * Buffers created here are added to `created` for zeroing; node's KeyObject and the BigInteger
 * values of Transparent structures are immutable and cannot be zeroed (they are dropped as soon
 * as the response is encoded).
 */
import { createECDH, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { TtlvNode } from '../ttlv/types.js';
import { Enum, Tag } from '../kmip/registry.js';
import type { SchemaContext } from '../kmip/schema.js';
import { keyBlockOf, transparentKeyMaterial, type KeyBlock, type ManagedObject } from '../kmip/objects.js';
import { bufferView } from './node-crypto.js';

const KF = Enum.KeyFormatType;
const OT = Enum.ObjectType;
const RC = Enum.RecommendedCurve;

const CONTEXT: SchemaContext = { version: { major: 2, minor: 1 }, lenientUnknown: true };

/** Curves by KMIP Recommended Curve: JWK name, OpenSSL name, field size in bytes. */
const CURVES: readonly { rc: number; jwk: string; openssl: string; bytes: number }[] = [
  { rc: RC.P_256, jwk: 'P-256', openssl: 'prime256v1', bytes: 32 },
  { rc: RC.P_384, jwk: 'P-384', openssl: 'secp384r1', bytes: 48 },
  { rc: RC.P_521, jwk: 'P-521', openssl: 'secp521r1', bytes: 66 },
  { rc: RC.SECP256K1, jwk: 'secp256k1', openssl: 'secp256k1', bytes: 32 },
];

const EC_PRIVATE: readonly number[] = [KF.TransparentECPrivateKey, KF.TransparentECDSAPrivateKey, KF.TransparentECDHPrivateKey, KF.TransparentECMQVPrivateKey];
const EC_PUBLIC: readonly number[] = [KF.TransparentECPublicKey, KF.TransparentECDSAPublicKey, KF.TransparentECDHPublicKey, KF.TransparentECMQVPublicKey];

/** Why a key cannot be read or written in a format: the caller turns it into a KMIP error. */
export class FormatUnsupported extends Error {}

const b64 = (b: Uint8Array): string => bufferView(b).toString('base64url');
const bigToB64 = (n: bigint, size?: number): string => {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let buf = Buffer.from(hex, 'hex');
  if (size !== undefined && buf.length < size) buf = Buffer.concat([Buffer.alloc(size - buf.length), buf]);
  return buf.toString('base64url');
};
const b64ToBig = (s: string | undefined): bigint => {
  if (s === undefined) throw new FormatUnsupported('missing JWK component');
  const hex = Buffer.from(s, 'base64url').toString('hex');
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
};

/** The key of a Private or Public Key object as stored (plain Key Material only). */
export function keyObjectOf(obj: ManagedObject): KeyObject {
  const kb = keyBlockOf(obj);
  const kv = kb?.keyValue;
  if (kb === undefined || kv === undefined || kv.kind !== 'plain' || kb.keyWrappingData !== undefined) throw new FormatUnsupported('no plain key material');
  const m = kv.keyMaterial;
  const kft = kb.keyFormatType;
  const priv = obj.objectType === OT.PrivateKey;
  if (!priv && obj.objectType !== OT.PublicKey) throw new FormatUnsupported('not an asymmetric key');
  try {
    if (m.type === 'ByteString') {
      const key = bufferView(m.value);
      if (priv) {
        if (kft === KF.PKCS_1) return createPrivateKey({ key, format: 'der', type: 'pkcs1' });
        if (kft === KF.PKCS_8) return createPrivateKey({ key, format: 'der', type: 'pkcs8' });
        if (kft === KF.ECPrivateKey) return createPrivateKey({ key, format: 'der', type: 'sec1' });
      } else {
        if (kft === KF.PKCS_1) return createPublicKey({ key, format: 'der', type: 'pkcs1' });
        if (kft === KF.X_509) return createPublicKey({ key, format: 'der', type: 'spki' });
      }
    } else if (m.type === 'Structure') {
      const jwk = transparentToJwk(kft, m);
      if (jwk !== undefined) return priv ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    }
  } catch (e) {
    if (e instanceof FormatUnsupported) throw e;
    // An encrypted PKCS#8, or material node cannot read: nothing to convert from.
    throw new FormatUnsupported('the stored key cannot be parsed');
  }
  throw new FormatUnsupported('the stored format is not convertible');
}

function transparentToJwk(kft: number, m: TtlvNode): JsonWebKey | undefined {
  const codec = transparentKeyMaterial.get(kft);
  if (codec === undefined) return undefined;
  const t = codec.decode(m, CONTEXT) as Record<string, unknown>;
  const big = (k: string): bigint => {
    const v = t[k];
    if (typeof v !== 'bigint') throw new FormatUnsupported(`Transparent key without ${k}`);
    return v;
  };
  if (kft === KF.TransparentRSAPublicKey) return { kty: 'RSA', n: bigToB64(big('modulus')), e: bigToB64(big('publicExponent')) };
  if (kft === KF.TransparentRSAPrivateKey) {
    return {
      kty: 'RSA',
      n: bigToB64(big('modulus')),
      e: bigToB64(big('publicExponent')),
      d: bigToB64(big('privateExponent')),
      p: bigToB64(big('p')),
      q: bigToB64(big('q')),
      dp: bigToB64(big('primeExponentP')),
      dq: bigToB64(big('primeExponentQ')),
      qi: bigToB64(big('crtCoefficient')),
    };
  }
  if (EC_PUBLIC.includes(kft) || EC_PRIVATE.includes(kft)) {
    const curve = CURVES.find((c) => c.rc === t['recommendedCurve']);
    if (curve === undefined) throw new FormatUnsupported('unsupported curve');
    let point: Buffer;
    let d: string | undefined;
    if (EC_PRIVATE.includes(kft)) {
      d = bigToB64(big('d'), curve.bytes);
      // The public point is not part of the structure (1.4 Table 24); node needs it, so derive it.
      const ecdh = createECDH(curve.openssl);
      ecdh.setPrivateKey(Buffer.from(d, 'base64url'));
      point = ecdh.getPublicKey();
    } else {
      point = bufferView(t['qString'] as Uint8Array);
    }
    if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) throw new FormatUnsupported('only uncompressed EC points');
    const jwk: JsonWebKey = { kty: 'EC', crv: curve.jwk, x: b64(point.subarray(1, 1 + curve.bytes)), y: b64(point.subarray(1 + curve.bytes)) };
    if (d !== undefined) jwk.d = d;
    return jwk;
  }
  return undefined;
}

/** The Recommended Curve of an EC key (undefined for other keys or curves kmipd does not name). */
export function curveOf(key: KeyObject): number | undefined {
  const name = key.asymmetricKeyDetails?.namedCurve;
  return CURVES.find((c) => c.openssl === name)?.rc;
}

/**
 * The Key Material of `key` in `kft`, or undefined when that format cannot hold this key. DER
 * buffers are pushed to `created`.
 */
export function keyMaterialIn(key: KeyObject, kft: number, created: Uint8Array[]): TtlvNode | undefined {
  const priv = key.type === 'private';
  const type = key.asymmetricKeyType;
  const der = (opts: { type: 'pkcs1' | 'pkcs8' | 'sec1' | 'spki' }): TtlvNode => {
    const out = priv
      ? key.export({ format: 'der', type: opts.type as 'pkcs1' | 'pkcs8' | 'sec1' })
      : key.export({ format: 'der', type: opts.type as 'pkcs1' | 'spki' });
    created.push(out);
    return { tag: Tag.KeyMaterial, type: 'ByteString', value: out };
  };
  const structure = (value: unknown): TtlvNode => transparentKeyMaterial.get(kft)!.encode(Tag.KeyMaterial, value, CONTEXT);
  if (kft === KF.PKCS_1 && type === 'rsa') return der({ type: 'pkcs1' });
  if (kft === KF.PKCS_8 && priv) return der({ type: 'pkcs8' });
  if (kft === KF.X_509 && !priv) return der({ type: 'spki' });
  if (kft === KF.ECPrivateKey && priv && type === 'ec') return der({ type: 'sec1' });
  if (type === 'rsa' && (kft === KF.TransparentRSAPrivateKey || kft === KF.TransparentRSAPublicKey)) {
    if ((kft === KF.TransparentRSAPrivateKey) !== priv) return undefined;
    const j = key.export({ format: 'jwk' });
    if (!priv) return structure({ modulus: b64ToBig(j.n), publicExponent: b64ToBig(j.e) });
    return structure({
      modulus: b64ToBig(j.n),
      privateExponent: b64ToBig(j.d),
      publicExponent: b64ToBig(j.e),
      p: b64ToBig(j.p),
      q: b64ToBig(j.q),
      primeExponentP: b64ToBig(j.dp),
      primeExponentQ: b64ToBig(j.dq),
      crtCoefficient: b64ToBig(j.qi),
    });
  }
  if (type === 'ec' && (EC_PRIVATE.includes(kft) || EC_PUBLIC.includes(kft))) {
    if (EC_PRIVATE.includes(kft) !== priv) return undefined;
    const recommendedCurve = curveOf(key);
    if (recommendedCurve === undefined) return undefined;
    const j = key.export({ format: 'jwk' });
    if (priv) return structure({ recommendedCurve, d: b64ToBig(j.d) });
    const qString = Buffer.concat([Buffer.from([4]), Buffer.from(j.x ?? '', 'base64url'), Buffer.from(j.y ?? '', 'base64url')]);
    return structure({ recommendedCurve, qString });
  }
  return undefined;
}

/**
 * A Private or Public Key object in Key Format Type `requested`, or undefined when kmipd cannot
 * convert it (the caller answers Key Format Type Not Supported).
 */
export function convertAsymmetric(obj: ManagedObject, kb: KeyBlock, requested: number, created: Uint8Array[]): ManagedObject | undefined {
  let key: KeyObject;
  try {
    key = keyObjectOf(obj);
  } catch (e) {
    if (e instanceof FormatUnsupported) return undefined;
    throw e;
  }
  let keyMaterial: TtlvNode | undefined;
  try {
    keyMaterial = keyMaterialIn(key, requested, created);
  } catch (e) {
    if (e instanceof FormatUnsupported) return undefined;
    throw e;
  }
  if (keyMaterial === undefined || kb.keyValue === undefined || kb.keyValue.kind !== 'plain') return undefined;
  const keyBlock: KeyBlock = { ...kb, keyFormatType: requested, keyValue: { ...kb.keyValue, keyMaterial } };
  return { objectType: obj.objectType, value: { ...obj.value, keyBlock } } as ManagedObject;
}
