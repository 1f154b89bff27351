/**
 * The Managed Objects and the structures that carry key material, as schema data: KMIP 1.4 §2.1.3
 * Key Block, §2.1.4 Key Value, §2.1.5 Key Wrapping Data, §2.1.7 Transparent Key Structures, §2.2
 * Managed Objects; KMIP 2.1 §2 Objects and §3 Object Data Structures (the same shapes; 2.x puts a
 * Key Value's attributes in one Attributes structure where 1.x repeats Attribute, and drops
 * Template).
 *
 * Decoding is version-agnostic (a field is known by its tag); encoding leaves out fields the target
 * version does not define, like every other shape (schema.ts). Key Material stays a raw node here:
 * its shape depends on the Key Format Type, which `transparentKeyMaterial` maps to a structure.
 */
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from './errors.js';
import { Enum, Tag, tagLabel } from './registry.js';
import {
  anyNode,
  bigInteger,
  byteString,
  enumeration,
  integer,
  many,
  one,
  optional,
  rawStructure,
  some,
  struct,
  textString,
  type Codec,
  type StructCodec,
} from './schema.js';

// ---------------------------------------------------------------------------------------------
// Key Wrapping Data (1.4 §2.1.5 Tables 9–11; 2.1 §3.3)

/** Encryption Key Information / MAC/Signature Key Information. */
export const keyInformation = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  cryptographicParameters: optional(Tag.CryptographicParameters, rawStructure),
});

export const keyWrappingData = struct({
  wrappingMethod: one(Tag.WrappingMethod, enumeration),
  encryptionKeyInformation: optional(Tag.EncryptionKeyInformation, keyInformation),
  macSignatureKeyInformation: optional(Tag.MACSignatureKeyInformation, keyInformation),
  macSignature: optional(Tag.MACSignature, byteString),
  ivCounterNonce: optional(Tag.IVCounterNonce, byteString),
  encodingOption: optional(Tag.EncodingOption, enumeration),
});
export type KeyWrappingData = ReturnType<typeof keyWrappingData.decode>;

/** Key Wrapping Specification (1.4 §2.1.6 Table 12; 2.1 §7.18): decoded so Get can refuse it cleanly. */
export const keyWrappingSpecification = struct({
  wrappingMethod: one(Tag.WrappingMethod, enumeration),
  encryptionKeyInformation: optional(Tag.EncryptionKeyInformation, keyInformation),
  macSignatureKeyInformation: optional(Tag.MACSignatureKeyInformation, keyInformation),
  attributeNames: many(Tag.AttributeName, textString),
  encodingOption: optional(Tag.EncodingOption, enumeration),
});

// ---------------------------------------------------------------------------------------------
// Key Value (1.4 §2.1.4 Table 8; 2.1 §3.2)

/** A plaintext Key Value: the Key Material and the attributes bound to it. */
export interface PlainKeyValue {
  readonly kind: 'plain';
  /** A Byte String (Raw, Opaque, PKCS#1, PKCS#8, …) or a Structure (Transparent formats). */
  readonly keyMaterial: TtlvNode;
  /** 1.x: Attribute structures carried inside the Key Value. */
  readonly attribute: readonly TtlvNode[];
  /** 2.x: one Attributes structure. */
  readonly attributes: TtlvNode | undefined;
}

/** A wrapped Key Value: the Byte String a Key Wrapping Data explains. */
export interface WrappedKeyValue {
  readonly kind: 'wrapped';
  readonly bytes: Uint8Array;
}

export type KeyValue = PlainKeyValue | WrappedKeyValue;

const plainKeyValue = struct({
  keyMaterial: one(Tag.KeyMaterial, anyNode),
  attribute: many(Tag.Attribute, anyNode),
  attributes: optional(Tag.Attributes, anyNode),
});

/** Key Value is a Structure when plaintext and a Byte String when wrapped (1.4 Table 7). */
export const keyValue: Codec<KeyValue> = {
  decode(node, ctx) {
    if (node.type === 'ByteString') return { kind: 'wrapped', bytes: node.value };
    if (node.type !== 'Structure') throw new KmipError('InvalidMessage', 'KeyValue must be a Structure or a Byte String');
    const v = plainKeyValue.decode(node, ctx);
    if (v.keyMaterial.type !== 'ByteString' && v.keyMaterial.type !== 'Structure') {
      throw new KmipError('InvalidMessage', 'KeyMaterial must be a Byte String or a Structure');
    }
    return { kind: 'plain', keyMaterial: v.keyMaterial, attribute: v.attribute, attributes: v.attributes };
  },
  encode(tag, value, ctx) {
    if (value.kind === 'wrapped') return { tag, type: 'ByteString', value: value.bytes };
    return plainKeyValue.encode(
      tag,
      { keyMaterial: value.keyMaterial, attribute: [...value.attribute], attributes: value.attributes },
      ctx,
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Key Block (1.4 §2.1.3 Table 7; 2.1 §3.1)

export const keyBlock = struct({
  keyFormatType: one(Tag.KeyFormatType, enumeration),
  keyCompressionType: optional(Tag.KeyCompressionType, enumeration),
  keyValue: optional(Tag.KeyValue, keyValue),
  cryptographicAlgorithm: optional(Tag.CryptographicAlgorithm, enumeration),
  cryptographicLength: optional(Tag.CryptographicLength, integer),
  keyWrappingData: optional(Tag.KeyWrappingData, keyWrappingData),
});
export type KeyBlock = ReturnType<typeof keyBlock.decode>;

// ---------------------------------------------------------------------------------------------
// Transparent key structures (1.4 §2.1.7 Tables 14–28; 2.1 §3.4–3.17): the Key Material of the
// Transparent Key Format Types. Extension formats are not described and pass unchecked.

const KF = Enum.KeyFormatType;

export const transparentSymmetricKey = struct({ key: one(Tag.Key, byteString) });
const dsaPrivate = struct({ p: one(Tag.P, bigInteger), q: one(Tag.Q, bigInteger), g: one(Tag.G, bigInteger), x: one(Tag.X, bigInteger) });
const dsaPublic = struct({ p: one(Tag.P, bigInteger), q: one(Tag.Q, bigInteger), g: one(Tag.G, bigInteger), y: one(Tag.Y, bigInteger) });
const rsaPrivate = struct({
  modulus: one(Tag.Modulus, bigInteger),
  privateExponent: optional(Tag.PrivateExponent, bigInteger),
  publicExponent: optional(Tag.PublicExponent, bigInteger),
  p: optional(Tag.P, bigInteger),
  q: optional(Tag.Q, bigInteger),
  primeExponentP: optional(Tag.PrimeExponentP, bigInteger),
  primeExponentQ: optional(Tag.PrimeExponentQ, bigInteger),
  crtCoefficient: optional(Tag.CRTCoefficient, bigInteger),
});
const rsaPublic = struct({ modulus: one(Tag.Modulus, bigInteger), publicExponent: one(Tag.PublicExponent, bigInteger) });
const dhPrivate = struct({
  p: one(Tag.P, bigInteger),
  q: optional(Tag.Q, bigInteger),
  g: one(Tag.G, bigInteger),
  j: optional(Tag.J, bigInteger),
  x: one(Tag.X, bigInteger),
});
const dhPublic = struct({
  p: one(Tag.P, bigInteger),
  q: optional(Tag.Q, bigInteger),
  g: one(Tag.G, bigInteger),
  j: optional(Tag.J, bigInteger),
  y: one(Tag.Y, bigInteger),
});
const ecPrivate = struct({ recommendedCurve: one(Tag.RecommendedCurve, enumeration), d: one(Tag.D, bigInteger) });
const ecPublic = struct({ recommendedCurve: one(Tag.RecommendedCurve, enumeration), qString: one(Tag.QString, byteString) });

/** Key Format Type → the structure its Key Material must have. */
export const transparentKeyMaterial: ReadonlyMap<number, StructCodec<unknown>> = new Map<number, StructCodec<unknown>>([
  [KF.TransparentSymmetricKey, transparentSymmetricKey],
  [KF.TransparentDSAPrivateKey, dsaPrivate],
  [KF.TransparentDSAPublicKey, dsaPublic],
  [KF.TransparentRSAPrivateKey, rsaPrivate],
  [KF.TransparentRSAPublicKey, rsaPublic],
  [KF.TransparentDHPrivateKey, dhPrivate],
  [KF.TransparentDHPublicKey, dhPublic],
  [KF.TransparentECDSAPrivateKey, ecPrivate],
  [KF.TransparentECDSAPublicKey, ecPublic],
  [KF.TransparentECDHPrivateKey, ecPrivate],
  [KF.TransparentECDHPublicKey, ecPublic],
  [KF.TransparentECMQVPrivateKey, ecPrivate],
  [KF.TransparentECMQVPublicKey, ecPublic],
  [KF.TransparentECPrivateKey, ecPrivate],
  [KF.TransparentECPublicKey, ecPublic],
]);

/** Key Format Types whose Key Material is a Byte String (1.4 Table 8). */
export const byteStringKeyFormats: ReadonlySet<number> = new Set([KF.Raw, KF.Opaque, KF.PKCS_1, KF.PKCS_8, KF.X_509, KF.ECPrivateKey, KF.PKCS_12, KF.PKCS_10]);

/** Extension Key Format Types (high bit set, 1.4 §9.1.3.2.3): either encoding is allowed. */
export function isExtensionValue(value: number): boolean {
  return value >>> 0 >= 0x80000000;
}

// ---------------------------------------------------------------------------------------------
// Managed Objects (1.4 §2.2 Tables 45–53; 2.1 §2 Tables 2–10)

export const symmetricKey = struct({ keyBlock: one(Tag.KeyBlock, keyBlock) });
export const publicKey = struct({ keyBlock: one(Tag.KeyBlock, keyBlock) });
export const privateKey = struct({ keyBlock: one(Tag.KeyBlock, keyBlock) });
export const secretData = struct({
  secretDataType: one(Tag.SecretDataType, enumeration),
  keyBlock: one(Tag.KeyBlock, keyBlock),
});
export const splitKey = struct({
  splitKeyParts: one(Tag.SplitKeyParts, integer),
  keyPartIdentifier: one(Tag.KeyPartIdentifier, integer),
  splitKeyThreshold: one(Tag.SplitKeyThreshold, integer),
  splitKeyMethod: one(Tag.SplitKeyMethod, enumeration),
  primeFieldSize: optional(Tag.PrimeFieldSize, bigInteger),
  keyBlock: one(Tag.KeyBlock, keyBlock),
});
export const pgpKey = struct({
  pgpKeyVersion: one(Tag.PGPKeyVersion, integer),
  keyBlock: one(Tag.KeyBlock, keyBlock),
});
export const certificate = struct({
  certificateType: one(Tag.CertificateType, enumeration),
  certificateValue: one(Tag.CertificateValue, byteString),
});
export const opaqueObject = struct({
  opaqueDataType: one(Tag.OpaqueDataType, enumeration),
  opaqueDataValue: one(Tag.OpaqueDataValue, byteString),
});
/** 1.x only (deprecated in 1.3, gone in 2.0): a named set of attributes. */
export const template = struct({ attribute: some(Tag.Attribute, anyNode) });

export type SymmetricKeyObject = ReturnType<typeof symmetricKey.decode>;
export type SecretDataObject = ReturnType<typeof secretData.decode>;
export type SplitKeyObject = ReturnType<typeof splitKey.decode>;
export type PgpKeyObject = ReturnType<typeof pgpKey.decode>;
export type CertificateObject = ReturnType<typeof certificate.decode>;
export type OpaqueObjectValue = ReturnType<typeof opaqueObject.decode>;
export type TemplateObject = ReturnType<typeof template.decode>;

const OT = Enum.ObjectType;

/** A managed object as it travels in Register and Get, tagged by its Object Type value. */
export type ManagedObject =
  | { readonly objectType: typeof OT.SymmetricKey; readonly value: SymmetricKeyObject }
  | { readonly objectType: typeof OT.PublicKey; readonly value: SymmetricKeyObject }
  | { readonly objectType: typeof OT.PrivateKey; readonly value: SymmetricKeyObject }
  | { readonly objectType: typeof OT.SecretData; readonly value: SecretDataObject }
  | { readonly objectType: typeof OT.SplitKey; readonly value: SplitKeyObject }
  | { readonly objectType: typeof OT.PGPKey; readonly value: PgpKeyObject }
  | { readonly objectType: typeof OT.Certificate; readonly value: CertificateObject }
  | { readonly objectType: typeof OT.OpaqueObject; readonly value: OpaqueObjectValue }
  | { readonly objectType: typeof OT.Template; readonly value: TemplateObject };

/** The payload fields that carry an object, one per Object Type, spread into Register and Get payloads. */
export const objectFields = {
  certificate: optional(Tag.Certificate, certificate),
  symmetricKey: optional(Tag.SymmetricKey, symmetricKey),
  publicKey: optional(Tag.PublicKey, publicKey),
  privateKey: optional(Tag.PrivateKey, privateKey),
  splitKey: optional(Tag.SplitKey, splitKey),
  template: optional(Tag.Template, template),
  secretData: optional(Tag.SecretData, secretData),
  opaqueObject: optional(Tag.OpaqueObject, opaqueObject),
  pgpKey: optional(Tag.PGPKey, pgpKey),
};

export type ObjectFields = { [K in keyof typeof objectFields]: ReturnType<(typeof objectFields)[K]['codec']['decode']> | undefined };

/** Object Type value → payload field and element tag. */
const fieldOfType: ReadonlyMap<number, { field: keyof ObjectFields; tag: number }> = new Map(
  (Object.entries(objectFields) as [keyof ObjectFields, { tag: number }][]).map(([field, def]) => {
    const typeName = tagLabel(def.tag) as keyof typeof OT;
    return [OT[typeName], { field, tag: def.tag }];
  }),
);

/** Object Type values that have an object structure (Certificate Request is a Certify input, not storable). */
export const objectTypesWithStructure: readonly number[] = [...fieldOfType.keys()];

/** The Structure tag of an Object Type's object (SymmetricKey → Tag.SymmetricKey). */
export function objectTag(objectType: number): number | undefined {
  return fieldOfType.get(objectType)?.tag;
}

/** The object carried by a payload, checked against the payload's Object Type (1.4 §11.4). */
export function objectFromFields(fields: ObjectFields, objectType: number): ManagedObject {
  const present = [...fieldOfType.entries()].filter(([, f]) => fields[f.field] !== undefined);
  if (present.length === 0) throw new KmipError('InvalidField', 'the request carries no managed object');
  if (present.length > 1) throw new KmipError('InvalidMessage', 'the request carries more than one managed object');
  const [type, f] = present[0]!;
  if (type !== objectType) {
    throw new KmipError('InvalidField', `ObjectType does not match the object provided (${tagLabel(f.tag)})`);
  }
  return { objectType: type, value: fields[f.field] } as ManagedObject;
}

/** Payload fields holding exactly `obj`, the others undefined. */
export function fieldsFromObject(obj: ManagedObject): ObjectFields {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(objectFields)) out[k] = undefined;
  const f = fieldOfType.get(obj.objectType);
  if (f === undefined) throw new Error(`object type ${obj.objectType} has no object structure`);
  out[f.field] = obj.value;
  return out as ObjectFields;
}

/** The codec of one Object Type's structure. */
export function objectCodec(objectType: number): StructCodec<unknown> | undefined {
  const f = fieldOfType.get(objectType);
  return f === undefined ? undefined : (objectFields[f.field].codec as StructCodec<unknown>);
}

/** The Key Block of objects that have one (keys, Secret Data, Split Key, PGP Key). */
export function keyBlockOf(obj: ManagedObject): KeyBlock | undefined {
  return 'keyBlock' in obj.value ? obj.value.keyBlock : undefined;
}
