/**
 * Key material at rest and on its way out (KMIP 1.4 §2.1.3–2.1.7, §2.2, §3.17 Digest, §4.11 Get;
 * 2.1 §2–3, §4.21, §6.1.19).
 *
 * What rests: the secret part of an object, protected by the HSM (`KeyProtector.protect` or
 * `generate`) and bound to {uid, Object Type, tenant}, so a row moved to another object or tenant
 * no longer reveals. The secret part is the Key Material of a Key Block (its bytes; for a
 * Transparent structure its TTLV encoding), or a wrapped Key Value as registered, the Certificate
 * Value, the Opaque Data Value, or a Template's attributes. Everything else about the object
 * (Key Format Type, Cryptographic Algorithm/Length of the Key Block, Secret Data Type, Key
 * Wrapping Data, …) is `meta`: the object's own TTLV structure with the secret field emptied, a
 * record nobody can learn the key from.
 *
 * Plaintext handling: buffers this module creates or reveals are zeroed once used; Get's response
 * codec (`zeroAfterEncode`) copies the material into the response tree and zeroes the revealed
 * buffer. Key material never goes into an error message or a log field.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag, enumValueName } from '../kmip/registry.js';
import type { SchemaContext, StructCodec } from '../kmip/schema.js';
import {
  byteStringKeyFormats,
  isExtensionValue,
  keyBlockOf,
  objectCodec,
  objectTag,
  transparentKeyMaterial,
  transparentSymmetricKey,
  type KeyBlock,
  type KeyValue,
  type ManagedObject,
} from '../kmip/objects.js';
import type { Binding, KeySpec, KeyProtector } from '../hsm/key-protector.js';
import type { StoredMaterial, StoredObject } from '../store/types.js';
import { convertAsymmetric } from './asymmetric-formats.js';

const OT = Enum.ObjectType;
const KF = Enum.KeyFormatType;

/** Meta records are written in one version that defines every field they use, and read leniently. */
const META_CONTEXT: SchemaContext = { version: { major: 2, minor: 1 }, lenientUnknown: true };

/** The HSM binding of an object's material: tenant included so a row moved between tenants fails. */
export function bindingOf(obj: Pick<StoredObject, 'uid' | 'objectType' | 'tenant'>): Binding {
  return { uid: obj.uid, objectType: obj.objectType, extra: obj.tenant };
}

// ---------------------------------------------------------------------------------------------
// Splitting an object into its secret and the rest

interface Split {
  /** The secret bytes. `owned`: created here (zero after use); otherwise a view of the request. */
  secret: Uint8Array;
  owned: boolean;
  /** The object with the secret field emptied. */
  skeleton: ManagedObject;
}

const empty = new Uint8Array(0);

function emptyLike(material: TtlvNode): TtlvNode {
  return material.type === 'Structure'
    ? { tag: material.tag, type: 'Structure', value: [] }
    : { tag: material.tag, type: 'ByteString', value: empty };
}

function splitKeyValue(kv: KeyValue): { secret: Uint8Array; owned: boolean; emptied: KeyValue } {
  if (kv.kind === 'wrapped') return { secret: kv.bytes, owned: false, emptied: { kind: 'wrapped', bytes: empty } };
  const m = kv.keyMaterial;
  const secret = m.type === 'ByteString' ? m.value : encodeTtlv(m);
  return { secret, owned: m.type !== 'ByteString', emptied: { ...kv, keyMaterial: emptyLike(m) } };
}

function withKeyBlock(obj: ManagedObject, keyBlock: KeyBlock): ManagedObject {
  return { objectType: obj.objectType, value: { ...obj.value, keyBlock } } as ManagedObject;
}

/** Separates the secret part of an object from everything else. */
export function splitObject(obj: ManagedObject): Split {
  const kb = keyBlockOf(obj);
  if (kb !== undefined) {
    if (kb.keyValue === undefined) throw new KmipError('InvalidField', 'the Key Block has no Key Value');
    const s = splitKeyValue(kb.keyValue);
    return { secret: s.secret, owned: s.owned, skeleton: withKeyBlock(obj, { ...kb, keyValue: s.emptied }) };
  }
  switch (obj.objectType) {
    case OT.Certificate:
      return { secret: obj.value.certificateValue, owned: false, skeleton: { ...obj, value: { ...obj.value, certificateValue: empty } } };
    case OT.OpaqueObject:
      return { secret: obj.value.opaqueDataValue, owned: false, skeleton: { ...obj, value: { ...obj.value, opaqueDataValue: empty } } };
    case OT.Template: {
      const node = encodeObject(obj);
      return { secret: node, owned: true, skeleton: { objectType: OT.Template, value: { attribute: [] } } };
    }
    default:
      throw new KmipError('InvalidField', 'this object type cannot be stored');
  }
}

/** Puts a secret back into a skeleton. The result references `secret` (or copies decoded from it). */
export function joinObject(skeleton: ManagedObject, secret: Uint8Array): ManagedObject {
  const kb = keyBlockOf(skeleton);
  if (kb !== undefined) {
    const kv = kb.keyValue;
    if (kv === undefined) throw new Error('stored key block without a key value');
    let keyValue: KeyValue;
    if (kv.kind === 'wrapped') keyValue = { kind: 'wrapped', bytes: secret };
    else if (kv.keyMaterial.type === 'Structure') keyValue = { ...kv, keyMaterial: { ...decodeTtlv(secret), tag: Tag.KeyMaterial } };
    else keyValue = { ...kv, keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: secret } };
    return withKeyBlock(skeleton, { ...kb, keyValue });
  }
  switch (skeleton.objectType) {
    case OT.Certificate:
      return { ...skeleton, value: { ...skeleton.value, certificateValue: secret } };
    case OT.OpaqueObject:
      return { ...skeleton, value: { ...skeleton.value, opaqueDataValue: secret } };
    case OT.Template:
      return decodeObject(OT.Template, decodeTtlv(secret));
    default:
      throw new Error(`object type ${skeleton.objectType} has no stored form`);
  }
}

function codecOf(objectType: number): { tag: number; codec: StructCodec<unknown> } {
  const tag = objectTag(objectType);
  const codec = objectCodec(objectType);
  if (tag === undefined || codec === undefined) throw new Error(`object type ${objectType} has no structure`);
  return { tag, codec };
}

function encodeObject(obj: ManagedObject): Buffer {
  const { tag, codec } = codecOf(obj.objectType);
  return encodeTtlv(codec.encode(tag, obj.value, META_CONTEXT));
}

function decodeObject(objectType: number, node: TtlvNode): ManagedObject {
  const { codec } = codecOf(objectType);
  return { objectType, value: codec.decode(node, META_CONTEXT) } as ManagedObject;
}

/** The meta record of a skeleton: its TTLV encoding (no secret in it). */
export function encodeMeta(skeleton: ManagedObject): Uint8Array {
  if (skeleton.objectType === OT.Template) return encodeTtlv({ tag: Tag.Template, type: 'Structure', value: [] });
  return encodeObject(skeleton);
}

export function decodeMeta(objectType: number, meta: Uint8Array): ManagedObject {
  if (objectType === OT.Template) return { objectType: OT.Template, value: { attribute: [] } };
  return decodeObject(objectType, decodeTtlv(meta));
}

// ---------------------------------------------------------------------------------------------
// Storing and revealing

export interface Protected {
  material: StoredMaterial;
  /** SHA-256 of the material in its default format, for the Digest attribute (when one is kept). */
  digest: { value: Uint8Array; keyFormatType: number | undefined } | undefined;
}

/**
 * Protects a registered object's secret under the HSM and returns the stored form. The request's
 * copy of the secret is zeroed afterwards: nothing else reads it.
 */
export async function protectObject(keys: KeyProtector, binding: Binding, obj: ManagedObject): Promise<Protected> {
  const { secret, skeleton } = splitObject(obj);
  try {
    if (secret.length === 0) throw new KmipError('InvalidField', 'the object carries no key material');
    const digest = digestOf(obj);
    const pm = await keys.protect(secret, binding);
    return { material: { ...pm, meta: encodeMeta(skeleton) }, digest };
  } finally {
    secret.fill(0);
    wipeObject(obj);
  }
}

/** Zeroes every Byte String of an object's secret part (the decoded request's copies). */
export function wipeObject(obj: ManagedObject): void {
  const wipe = (node: TtlvNode): void => {
    if (node.type === 'ByteString') node.value.fill(0);
    else if (node.type === 'Structure') node.value.forEach(wipe);
  };
  const kv = keyBlockOf(obj)?.keyValue;
  if (kv?.kind === 'plain') wipe(kv.keyMaterial);
  else if (kv?.kind === 'wrapped') kv.bytes.fill(0);
  else if (obj.objectType === OT.Certificate) obj.value.certificateValue.fill(0);
  else if (obj.objectType === OT.OpaqueObject) obj.value.opaqueDataValue.fill(0);
}

/** Key material generated inside the HSM for a skeleton (Create, Re-key), and what its Digest needs. */
export interface GeneratedObject {
  material: StoredMaterial;
  /** The HSM's SHA-256 of the key value; undefined if the module cannot digest keys. */
  sha256: Uint8Array | undefined;
}

/** Key material generated inside the HSM for a skeleton (Create, Re-key): the plaintext never exists here. */
export async function generateObject(keys: KeyProtector, binding: Binding, spec: KeySpec, skeleton: ManagedObject): Promise<GeneratedObject> {
  const { sha256, ...pm } = await keys.generate(spec, binding);
  return { material: { ...pm, meta: encodeMeta(skeleton) }, sha256 };
}

/** The object with its secret, revealed by the HSM. The caller zeroes `secret` after use. */
export async function revealObject(keys: KeyProtector, obj: StoredObject): Promise<{ object: ManagedObject; secret: Buffer }> {
  if (obj.material === null) throw new Error('revealObject on an object without material');
  const skeleton = decodeMeta(obj.objectType, obj.material.meta);
  const secret = await keys.reveal(obj.material, bindingOf(obj));
  try {
    return { object: joinObject(skeleton, secret), secret };
  } catch (err) {
    secret.fill(0);
    throw err;
  }
}

/**
 * Digest (1.4 §3.17, 2.1 §4.21): SHA-256 over the Key Material bytes, or over the TTLV encoding of
 * a Key Material structure, in the object's default format (Raw for symmetric keys); over the
 * Certificate Value for certificates.
 *
 * Not kept for Secret Data and Opaque Objects, nor for wrapped keys: a SHA-256 of a password or
 * of a short opaque secret sitting beside the row would let anyone holding a copy of the
 * database guess it offline, which the HSM protection of the value exists to prevent.
 */
export function digestOf(obj: ManagedObject): Protected['digest'] {
  const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
  if (obj.objectType === OT.Certificate) return { value: sha256(obj.value.certificateValue), keyFormatType: undefined };
  if (obj.objectType === OT.SecretData || obj.objectType === OT.OpaqueObject || obj.objectType === OT.Template) return undefined;
  const kb = keyBlockOf(obj);
  if (kb?.keyValue === undefined || kb.keyValue.kind === 'wrapped' || kb.keyWrappingData !== undefined) return undefined;
  const m = kb.keyValue.keyMaterial;
  if (obj.objectType === OT.SymmetricKey && kb.keyFormatType === KF.TransparentSymmetricKey && m.type === 'Structure') {
    const key = m.value.find((c) => c.tag === Tag.Key);
    if (key?.type === 'ByteString') return { value: sha256(key.value), keyFormatType: KF.Raw };
  }
  if (m.type === 'ByteString') return { value: sha256(m.value), keyFormatType: kb.keyFormatType };
  const encoded = encodeTtlv(m);
  try {
    return { value: sha256(encoded), keyFormatType: kb.keyFormatType };
  } finally {
    encoded.fill(0);
  }
}

/**
 * Digest of freshly generated Raw material: the SHA-256 the HSM computed when it generated the key
 * (no reveal), or, from a module that cannot digest keys, over the material read once and zeroed.
 */
export async function digestOfGenerated(keys: KeyProtector, obj: StoredObject, generated: GeneratedObject): Promise<Protected['digest']> {
  if (generated.sha256 !== undefined && keyBlockOf(decodeMeta(obj.objectType, generated.material.meta))?.keyFormatType === KF.Raw) {
    return { value: generated.sha256, keyFormatType: KF.Raw };
  }
  return digestOfStored(keys, obj);
}

/** SHA-256 of freshly generated Raw material, read once from the HSM and zeroed. */
export async function digestOfStored(keys: KeyProtector, obj: StoredObject): Promise<Protected['digest']> {
  const { object, secret } = await revealObject(keys, obj);
  try {
    return digestOf(object);
  } finally {
    secret.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Formats on Get (1.4 §4.11: the registered format SHALL be returned; other conversions MAY be)

const kftName = (v: number): string => enumValueName('KeyFormatType', v) ?? `0x${(v >>> 0).toString(16)}`;

function unsupportedFormat(requested: number, obj: ManagedObject): KmipError {
  const stored = keyBlockOf(obj)?.keyFormatType;
  return new KmipError(
    'KeyFormatTypeNotSupported',
    stored === undefined
      ? `this object has no Key Block; it cannot be returned as ${kftName(requested)}`
      : `a ${kftName(stored)} key cannot be returned as ${kftName(requested)}`,
  );
}

/**
 * The object in Key Format Type `requested`. Conversions kmipd performs: Raw ↔ Transparent
 * Symmetric Key for symmetric keys; PKCS#1, PKCS#8, X.509, ECPrivateKey and the Transparent RSA
 * and EC formats for private and public keys (asymmetric-formats.ts); Raw ↔ Opaque for Secret Data (the same bytes, 1.4 §2.1.3
 * "Opaque … encoding unknown"). A wrapped key only in the format it was registered in. Anything
 * else: Key Format Type Not Supported. New buffers are added to `created` for zeroing.
 */
export function convertFormat(obj: ManagedObject, requested: number | undefined, created: Uint8Array[]): ManagedObject {
  if (requested === undefined) return obj;
  const kb = keyBlockOf(obj);
  if (kb === undefined) {
    const native =
      (obj.objectType === OT.Certificate && obj.value.certificateType === Enum.CertificateType.X_509 && requested === KF.X_509) ||
      (obj.objectType === OT.OpaqueObject && requested === KF.Opaque);
    if (native) return obj;
    throw unsupportedFormat(requested, obj);
  }
  if (kb.keyFormatType === requested) return obj;
  const kv = kb.keyValue;
  if (kv === undefined || kv.kind === 'wrapped' || kb.keyWrappingData !== undefined) throw unsupportedFormat(requested, obj);
  const m = kv.keyMaterial;

  if (obj.objectType === OT.SymmetricKey) {
    if (kb.keyFormatType === KF.Raw && requested === KF.TransparentSymmetricKey && m.type === 'ByteString') {
      const keyMaterial: TtlvNode = { tag: Tag.KeyMaterial, type: 'Structure', value: [{ tag: Tag.Key, type: 'ByteString', value: m.value }] };
      return withKeyBlock(obj, { ...kb, keyFormatType: requested, keyValue: { ...kv, keyMaterial } });
    }
    if (kb.keyFormatType === KF.TransparentSymmetricKey && requested === KF.Raw && m.type === 'Structure') {
      const key = transparentSymmetricKey.decode(m, META_CONTEXT).key;
      created.push(key);
      return withKeyBlock(obj, { ...kb, keyFormatType: requested, keyValue: { ...kv, keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: key } } });
    }
  }
  if (obj.objectType === OT.PrivateKey || obj.objectType === OT.PublicKey) {
    const converted = convertAsymmetric(obj, kb, requested, created);
    if (converted !== undefined) return converted;
  }
  if (obj.objectType === OT.SecretData) {
    const bytesFormats: readonly number[] = [KF.Raw, KF.Opaque];
    if (bytesFormats.includes(kb.keyFormatType) && bytesFormats.includes(requested) && m.type === 'ByteString') {
      return withKeyBlock(obj, { ...kb, keyFormatType: requested });
    }
  }
  throw unsupportedFormat(requested, obj);
}

/** Key Compression Type on Get: only the stored one (absent = uncompressed, 1.4 §2.1.3). */
export function checkCompression(obj: ManagedObject, requested: number | undefined): void {
  if (requested === undefined) return;
  const stored = keyBlockOf(obj)?.keyCompressionType;
  const ok = stored === undefined ? requested === Enum.KeyCompressionType.ECPublicKeyTypeUncompressed && keyBlockOf(obj) !== undefined : stored === requested;
  if (!ok) throw new KmipError('KeyCompressionTypeNotSupported', 'the key cannot be returned in the requested Key Compression Type');
}

// ---------------------------------------------------------------------------------------------
// Zeroing after the response is encoded

/**
 * Byte Strings copied, so the response tree does not alias buffers about to be zeroed; the copies
 * are listed in `secrets` for the message encoder to zero once the message is encoded.
 */
function copyBytes(node: TtlvNode, secrets: Uint8Array[] | undefined): TtlvNode {
  if (node.type === 'ByteString') {
    const copy = Uint8Array.from(node.value);
    secrets?.push(copy);
    return { ...node, value: copy };
  }
  if (node.type === 'Structure') return { ...node, value: node.value.map((c) => copyBytes(c, secrets)) };
  return node;
}

/** What a handler returning plaintext adds to its response value: the buffers to zero once encoded. */
export interface Plaintexts {
  plaintexts?: Uint8Array[];
}

/**
 * A response codec that encodes a copy of the material and then zeroes every buffer the handler
 * listed: the executor encodes the payload right after the handler returns, so plaintext lives
 * only in the response being written. A failed encoding zeroes them too.
 */
export function zeroAfterEncode<S>(inner: StructCodec<S>): StructCodec<S & Plaintexts> {
  const zero = (value: Plaintexts) => {
    for (const b of value.plaintexts ?? []) b.fill(0);
  };
  return {
    // Decoding (a client reading a response) carries no plaintext list.
    decode: (node, ctx) => inner.decode(node, ctx) as S & Plaintexts,
    decodeChildren: (children, ctx, at) => inner.decodeChildren(children, ctx, at) as S & Plaintexts,
    encodeChildren(value, ctx) {
      try {
        return inner.encodeChildren(value, ctx).map((c) => copyBytes(c, ctx.secrets));
      } finally {
        zero(value);
      }
    },
    encode(tag, value, ctx) {
      try {
        return copyBytes(inner.encode(tag, value, ctx), ctx.secrets);
      } finally {
        zero(value);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Validating registered key blocks

const bits = (n: bigint): number => n.toString(2).length;

/**
 * Checks a registered Key Block: the Key Material has the encoding its Key Format Type requires
 * (1.4 Table 8, Transparent structures Tables 14–28), and asymmetric keys parse (PKCS#1, PKCS#8,
 * SubjectPublicKeyInfo, SEC 1) with the size they claim. Returns the key size in bits when it can
 * be read from the material. A Key Block without Key Value (a meta-data only object, 1.4 §3.41–3.42)
 * has nothing to check. Never quotes the material in its messages.
 */
export function inspectKeyBlock(objectType: number, kb: KeyBlock, ctx: SchemaContext): { bits?: number } {
  const kv = kb.keyValue;
  if (kv === undefined) return {};
  if (kv.kind === 'wrapped' || kb.keyWrappingData !== undefined) {
    if (kb.keyWrappingData === undefined) throw new KmipError('InvalidField', 'a Byte String Key Value needs Key Wrapping Data');
    return {};
  }
  const m = kv.keyMaterial;
  const kft = kb.keyFormatType;
  const transparent = transparentKeyMaterial.get(kft);
  if (transparent !== undefined) {
    if (m.type !== 'Structure') throw new KmipError('InvalidField', `${kftName(kft)} Key Material must be a Structure`);
    const t = transparent.decode(m, ctx) as Record<string, unknown>;
    if (kft === KF.TransparentSymmetricKey) return { bits: (t.key as Uint8Array).length * 8 };
    const modulus = t.modulus ?? t.p;
    return typeof modulus === 'bigint' ? { bits: bits(modulus) } : {};
  }
  if (byteStringKeyFormats.has(kft) && m.type !== 'ByteString') {
    throw new KmipError('InvalidField', `${kftName(kft)} Key Material must be a Byte String`);
  }
  if (m.type !== 'ByteString') return {};
  if (m.value.length === 0) throw new KmipError('InvalidField', 'the Key Material is empty');
  if (objectType === OT.SymmetricKey || objectType === OT.SecretData || objectType === OT.SplitKey) {
    return kft === KF.Raw || kft === KF.Opaque ? { bits: m.value.length * 8 } : {};
  }
  if (objectType === OT.PrivateKey || objectType === OT.PublicKey) return { ...asymmetricBits(objectType, kft, m.value) };
  return {};
}

function asymmetricBits(objectType: number, kft: number, der: Uint8Array): { bits?: number } {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  let parsed: KeyObject;
  try {
    if (objectType === OT.PrivateKey) {
      if (kft === KF.PKCS_1) parsed = createPrivateKey({ key, format: 'der', type: 'pkcs1' });
      else if (kft === KF.PKCS_8) parsed = createPrivateKey({ key, format: 'der', type: 'pkcs8' });
      else if (kft === KF.ECPrivateKey) parsed = createPrivateKey({ key, format: 'der', type: 'sec1' });
      else return {};
    } else {
      if (kft === KF.PKCS_1) parsed = createPublicKey({ key, format: 'der', type: 'pkcs1' });
      else if (kft === KF.X_509) parsed = createPublicKey({ key, format: 'der', type: 'spki' });
      else return {};
    }
  } catch (err) {
    // PKCS#8 includes EncryptedPrivateKeyInfo (1.4 §2.1.3): well-formed, but its size is sealed.
    if (kft === KF.PKCS_8 && (err as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE') return {};
    // OpenSSL's message may describe the input; the client gets ours only.
    throw new KmipError('InvalidField', `the Key Material is not a valid ${kftName(kft)} ${objectType === OT.PrivateKey ? 'private' : 'public'} key`);
  }
  const length = parsed.asymmetricKeyDetails?.modulusLength;
  return length === undefined ? {} : { bits: length };
}

/** Facts the server records about a registered certificate (1.4 §3.8–3.9; 2.1 §4.7–4.8). */
export function inspectCertificate(type: number, value: Uint8Array): { length: number } {
  if (type === Enum.CertificateType.X_509) {
    try {
      new X509Certificate(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    } catch {
      throw new KmipError('InvalidField', 'the Certificate Value is not a DER-encoded X.509 certificate');
    }
  } else if (!isExtensionValue(type) && type !== Enum.CertificateType.PGP) {
    throw new KmipError('InvalidField', 'unknown Certificate Type');
  }
  return { length: value.length };
}
