/**
 * What Create Key Pair and Re-key Key Pair share (KMIP 1.4 §4.2, §4.5; 2.1 §6.1.9, §6.1.47): the
 * key pair kmipd generates for a set of attributes, the attributes of each half, and the two new
 * managed objects.
 *
 * Algorithms (generated inside the HSM, hsm/key-ops.ts): RSA with a 2048-, 3072- or 4096-bit
 * modulus (public exponent 65537); EC (or ECDSA / ECDH, the 1.x names for keys of those uses) on
 * P-256, P-384, P-521 and secp256k1, chosen by Cryptographic Domain Parameters (Recommended Curve)
 * or by the Cryptographic Length. The private key rests as PKCS#8, the public key as X.509
 * (SubjectPublicKeyInfo); Get converts (asymmetric-formats.ts).
 *
 * Attribute precedence (1.4 §4.2 after Table 166): single-instance attributes given for the
 * private or public key win over the common ones; multi-instance attributes are the union.
 */
import { KmipError } from '../kmip/errors.js';
import { AttributeSets, sameValue, type AttributeInput } from '../kmip/attribute-codec.js';
import { isMultiInstance } from '../kmip/attributes.js';
import { Enum, Mask, Tag } from '../kmip/registry.js';
import { atLeast, type KmipVersion } from '../kmip/version.js';
import type { ManagedObject } from '../kmip/objects.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { EcCurve, KeyPairSpec } from '../hsm/key-protector.js';
import type { NewObject, StoredAttribute } from '../store/index.js';
import { bindingOf, digestOf, digestOfStored, encodeMeta, joinObject, protectObject } from './key-material.js';
import { addInstance, addServerAttributes, attributeValue, av, enumAttribute, intAttribute, linkValue, requestedAttributes, setSingle } from './new-object.js';
import type { OperationContext } from './types.js';

const CA = Enum.CryptographicAlgorithm;
const RC = Enum.RecommendedCurve;
const OT = Enum.ObjectType;
const KF = Enum.KeyFormatType;
const M = Mask.CryptographicUsageMask;

/** The curves kmipd generates: KMIP Recommended Curve, JWK name, field size in bits. */
const CURVES: readonly { rc: number; curve: EcCurve; bits: number }[] = [
  { rc: RC.P_256, curve: 'P-256', bits: 256 },
  { rc: RC.P_384, curve: 'P-384', bits: 384 },
  { rc: RC.P_521, curve: 'P-521', bits: 521 },
  { rc: RC.SECP256K1, curve: 'secp256k1', bits: 256 },
];

const RSA_BITS: readonly number[] = [2048, 3072, 4096];
const EC_ALGORITHMS: readonly number[] = [CA.EC, CA.ECDSA, CA.ECDH];

export interface KeyPairPlan {
  spec: KeyPairSpec;
  algorithm: number;
  /** Cryptographic Length of both halves: the modulus size, or the curve's field size. */
  bits: number;
  /** Recommended Curve of an EC pair. */
  curve?: number;
}

/**
 * The key pair the attributes ask for. 1.x requires the Cryptographic Algorithm (as Create does,
 * 1.4 Table 165); 2.x defaults to RSA-2048 (2.1 Table 28 leaves the values to the server).
 * Anything kmipd cannot generate: Invalid Field (1.4 §11.3), Invalid Attribute Value in 2.x.
 */
export function keyPairPlan(attrs: readonly StoredAttribute[], version: KmipVersion): KeyPairPlan {
  const reason = atLeast(version, 2, 0) ? 'InvalidAttributeValue' : 'InvalidField';
  let algorithm = enumAttribute(attrs, 'CryptographicAlgorithm');
  if (algorithm === undefined && !atLeast(version, 2, 0)) throw new KmipError('InvalidField', 'Create Key Pair requires the Cryptographic Algorithm attribute');
  algorithm ??= CA.RSA;
  const length = intAttribute(attrs, 'CryptographicLength');
  if (algorithm === CA.RSA) {
    const bits = length ?? 2048;
    if (!RSA_BITS.includes(bits)) throw new KmipError(reason, 'RSA key pairs are 2048, 3072 or 4096 bits');
    return { spec: { kind: 'rsa', bits: bits as 2048 | 3072 | 4096 }, algorithm, bits };
  }
  if (EC_ALGORITHMS.includes(algorithm)) {
    const params = attributeValue(attrs, 'CryptographicDomainParameters');
    const rcNode = params?.type === 'Structure' ? params.value.find((c) => c.tag === Tag.RecommendedCurve) : undefined;
    const rc = rcNode?.type === 'Enumeration' ? rcNode.value : undefined;
    const c = rc !== undefined ? CURVES.find((x) => x.rc === rc) : CURVES.find((x) => x.bits === (length ?? 256));
    if (c === undefined) throw new KmipError(reason, 'EC key pairs are on P-256, P-384, P-521 or secp256k1');
    if (length !== undefined && length !== c.bits) throw new KmipError(reason, 'Cryptographic Length does not match the curve');
    return { spec: { kind: 'ec', curve: c.curve }, algorithm, bits: c.bits, curve: c.rc };
  }
  throw new KmipError(reason, 'kmipd generates RSA and EC key pairs only');
}

/**
 * The client's attributes of each half: the common container's (with its templates), then the
 * half's own, which take precedence for single-instance attributes.
 */
export async function keyPairInputs(
  ctx: OperationContext,
  req: {
    commonTemplateAttribute: TtlvNode | undefined;
    privateKeyTemplateAttribute: TtlvNode | undefined;
    publicKeyTemplateAttribute: TtlvNode | undefined;
    commonAttributes: TtlvNode | undefined;
    privateKeyAttributes: TtlvNode | undefined;
    publicKeyAttributes: TtlvNode | undefined;
  },
): Promise<{ common: AttributeInput[]; privateKey: AttributeInput[]; publicKey: AttributeInput[] }> {
  const common = await requestedAttributes(ctx, [req.commonTemplateAttribute, req.commonAttributes], AttributeSets.common);
  const own = async (containers: (TtlvNode | undefined)[], tags: readonly number[]) => merge(common, await requestedAttributes(ctx, containers, tags));
  return {
    common,
    privateKey: await own([req.privateKeyTemplateAttribute, req.privateKeyAttributes], AttributeSets.privateKey),
    publicKey: await own([req.publicKeyTemplateAttribute, req.publicKeyAttributes], AttributeSets.publicKey),
  };
}

function merge(common: readonly AttributeInput[], own: readonly AttributeInput[]): AttributeInput[] {
  const ownSingles = new Set(own.filter((a) => !isMultiInstance(a.name)).map((a) => a.name));
  const out = common.filter((c) => !ownSingles.has(c.name));
  for (const a of own) {
    if (isMultiInstance(a.name) && out.some((m) => m.name === a.name && sameValue(m.value, a.value))) continue;
    out.push(a);
  }
  return out;
}

/** One Name on both halves would make two objects answer to it (1.4 §3.2: names are unique). */
export function checkDistinctNames(version: KmipVersion, a: readonly StoredAttribute[], b: readonly StoredAttribute[]): void {
  const names = b.filter((x) => x.name === 'Name');
  if (a.some((x) => x.name === 'Name' && names.some((y) => sameValue(x.value, y.value)))) {
    throw new KmipError(atLeast(version, 2, 0) ? 'NonUniqueNameAttribute' : 'InvalidField', 'the private and the public key cannot have the same Name');
  }
}

/**
 * Fills in what the server decides for one half: algorithm, length, domain parameters, the usage
 * mask when the client gave none (private: Sign, and Decrypt for RSA; public: Verify, and Encrypt
 * for RSA), and the Link to the other half.
 */
export function completeHalf(attrs: StoredAttribute[], plan: KeyPairPlan, half: 'private' | 'public', otherUid: string): void {
  setSingle(attrs, 'CryptographicAlgorithm', av('Enumeration', plan.algorithm));
  setSingle(attrs, 'CryptographicLength', av('Integer', plan.bits));
  if (plan.curve !== undefined && attributeValue(attrs, 'CryptographicDomainParameters') === undefined) {
    setSingle(attrs, 'CryptographicDomainParameters', av('Structure', [{ tag: Tag.RecommendedCurve, type: 'Enumeration', value: plan.curve }]));
  }
  if (intAttribute(attrs, 'CryptographicUsageMask') === undefined) {
    const rsa = plan.spec.kind === 'rsa';
    const mask = half === 'private' ? M.Sign | (rsa ? M.Decrypt : 0) : M.Verify | (rsa ? M.Encrypt : 0);
    setSingle(attrs, 'CryptographicUsageMask', av('Integer', mask));
  }
  const linkType = half === 'private' ? Enum.LinkType.PublicKeyLink : Enum.LinkType.PrivateKeyLink;
  addInstance(attrs, 'Link', linkValue(linkType, otherUid));
}

function skeleton(objectType: number, keyFormatType: number, plan: KeyPairPlan, value: Uint8Array): ManagedObject {
  return {
    objectType,
    value: {
      keyBlock: {
        keyFormatType,
        keyCompressionType: undefined,
        keyValue: { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value }, attribute: [], attributes: undefined },
        cryptographicAlgorithm: plan.algorithm,
        cryptographicLength: plan.bits,
        keyWrappingData: undefined,
      },
    },
  } as ManagedObject;
}

/**
 * Generates the pair in the HSM and returns the two new objects (state and server attributes
 * set; not yet inserted). The private key's Digest is computed on the one reveal Create also
 * makes for symmetric keys, and that buffer is zeroed.
 */
export async function generateKeyPairObjects(
  ctx: OperationContext,
  plan: KeyPairPlan,
  half: { uid: string; attributes: StoredAttribute[] }[],
  now: Date,
): Promise<{ privateKey: NewObject; publicKey: NewObject }> {
  const [priv, pub] = half as [{ uid: string; attributes: StoredAttribute[] }, { uid: string; attributes: StoredAttribute[] }];
  const base = { tenant: ctx.tenant, state: Enum.State.PreActive, createdAt: now.getTime() };
  const pair = await ctx.keys.generateKeyPair(plan.spec, bindingOf({ uid: priv.uid, objectType: OT.PrivateKey, tenant: ctx.tenant }));
  const privateKey: NewObject = {
    ...base,
    uid: priv.uid,
    objectType: OT.PrivateKey,
    material: { ...pair.privateKey, meta: encodeMeta(skeleton(OT.PrivateKey, KF.PKCS_8, plan, new Uint8Array(0))) },
    attributes: priv.attributes,
  };
  const publicObject = joinObject(skeleton(OT.PublicKey, KF.X_509, plan, new Uint8Array(0)), pair.publicKey);
  const publicDigest = digestOf(publicObject);
  const { material } = await protectObject(ctx.keys, bindingOf({ uid: pub.uid, objectType: OT.PublicKey, tenant: ctx.tenant }), publicObject);
  const publicKey: NewObject = { ...base, uid: pub.uid, objectType: OT.PublicKey, material, attributes: pub.attributes };
  const privateDigest = await digestOfStored(ctx.keys, { ...privateKey, version: 0 });
  addServerAttributes(priv.attributes, { now, objectType: OT.PrivateKey, version: ctx.version, keyFormatType: KF.PKCS_8, digest: privateDigest, generated: true });
  addServerAttributes(pub.attributes, { now, objectType: OT.PublicKey, version: ctx.version, keyFormatType: KF.X_509, digest: publicDigest, generated: true });
  return { privateKey, publicKey };
}
