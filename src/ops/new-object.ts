/**
 * What Create, Register and Re-key share when a new managed object comes into being (KMIP 1.4
 * §4 introduction (templates, ID Placeholder), §4.1, §4.3, §4.4, and the attributes they set
 * implicitly: §3.17 Digest, §3.22 State, §3.23 Initial Date, §3.34 Fresh, §3.38 Last Change Date,
 * §3.43 Original Creation Date; 2.1 §6.1.8, §6.1.43, §6.1.46, §4.26 Key Format Type, §3
 * Table 28 default attribute values).
 *
 * Attributes come from the request (1.x Template-Attribute, 2.x Attributes) and, in 1.x, from the
 * Templates it names: "the value in the last of the conflicting templates takes precedence ...
 * the attribute values in the request take precedence" for single-instance attributes, and the
 * union of values for multi-instance ones.
 */
import type { TtlvNode } from '../ttlv/types.js';
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask, Tag } from '../kmip/registry.js';
import { AttributeSets, readRequestAttributes, sameValue, type AttributeInput } from '../kmip/attribute-codec.js';
import { appliesToObjectType, isMultiInstance } from '../kmip/attributes.js';
import { atLeast, type KmipVersion } from '../kmip/version.js';
import type { KeySpec } from '../hsm/key-protector.js';
import type { StoredAttribute } from '../store/types.js';
import { revealObject, type Protected } from './key-material.js';
import { isArchived } from './object-attributes.js';
import type { OperationContext } from './types.js';

const S = Enum.State;
const CA = Enum.CryptographicAlgorithm;

// ---------------------------------------------------------------------------------------------
// Attribute values (stored tagged AttributeValue, as the store and the codec expect)

export function av<T extends TtlvNode['type']>(type: T, value: Extract<TtlvNode, { type: T }>['value']): TtlvNode {
  return { tag: Tag.AttributeValue, type, value } as TtlvNode;
}

export function dateValue(at: Date): TtlvNode {
  return av('DateTime', seconds(at));
}

export function seconds(at: Date): bigint {
  return BigInt(Math.floor(at.getTime() / 1000));
}

/** The first instance of an attribute. */
export function attributeValue(attrs: readonly StoredAttribute[], name: string): TtlvNode | undefined {
  return attrs.find((a) => a.name === name)?.value;
}

export function enumAttribute(attrs: readonly StoredAttribute[], name: string): number | undefined {
  const v = attributeValue(attrs, name);
  return v?.type === 'Enumeration' ? v.value : undefined;
}

export function intAttribute(attrs: readonly StoredAttribute[], name: string): number | undefined {
  const v = attributeValue(attrs, name);
  return v?.type === 'Integer' ? v.value : undefined;
}

export function dateAttribute(attrs: readonly StoredAttribute[], name: string): bigint | undefined {
  const v = attributeValue(attrs, name);
  return v?.type === 'DateTime' ? v.value : undefined;
}

/** Sets a single-instance attribute in place (index 0). */
export function setSingle(attrs: StoredAttribute[], name: string, value: TtlvNode): void {
  const at = attrs.findIndex((a) => a.name === name);
  const next = { name, index: 0, value };
  if (at >= 0) attrs[at] = next;
  else attrs.push(next);
}

/** Adds an instance of a multi-instance attribute with the next free Attribute Index (1.4 §2.1.1). */
export function addInstance(attrs: StoredAttribute[], name: string, value: TtlvNode): void {
  const index = attrs.filter((a) => a.name === name).reduce((max, a) => Math.max(max, a.index + 1), 0);
  attrs.push({ name, index, value });
}

export function removeAll(attrs: StoredAttribute[], name: string): StoredAttribute[] {
  const removed = attrs.filter((a) => a.name === name);
  const kept = attrs.filter((a) => a.name !== name);
  attrs.length = 0;
  attrs.push(...kept);
  return removed;
}

export function linkValue(linkType: number, uid: string): TtlvNode {
  return av('Structure', [
    { tag: Tag.LinkType, type: 'Enumeration', value: linkType },
    { tag: Tag.LinkedObjectIdentifier, type: 'TextString', value: uid },
  ]);
}

export function digestValue(digest: NonNullable<Protected['digest']>): TtlvNode {
  const fields: TtlvNode[] = [
    { tag: Tag.HashingAlgorithm, type: 'Enumeration', value: Enum.HashingAlgorithm.SHA_256 },
    { tag: Tag.DigestValue, type: 'ByteString', value: digest.value },
  ];
  if (digest.keyFormatType !== undefined) fields.push({ tag: Tag.KeyFormatType, type: 'Enumeration', value: digest.keyFormatType });
  return av('Structure', fields);
}

// ---------------------------------------------------------------------------------------------
// Attributes from the request and its templates

/**
 * The client's attributes for a new object: templates named in a 1.x Template-Attribute first (in
 * order), then the request's own, merged as 1.4 §4 says. A duplicate single-instance attribute
 * within the request itself is left for the rules check to refuse.
 */
export async function requestedAttributes(
  ctx: OperationContext,
  containers: readonly (TtlvNode | undefined)[],
  tags: readonly number[] = AttributeSets.object,
): Promise<AttributeInput[]> {
  const present = containers.filter((c): c is TtlvNode => c !== undefined);
  const { attributes, templateNames } = readRequestAttributes(present, ctx.version, tags);
  if (templateNames.length === 0) return attributes;
  const fromTemplates: AttributeInput[] = [];
  for (const name of templateNames) {
    for (const input of await templateAttributes(ctx, name)) {
      if (!isMultiInstance(input.name)) {
        const at = fromTemplates.findIndex((t) => t.name === input.name);
        if (at >= 0) fromTemplates.splice(at, 1);
      }
      fromTemplates.push(input);
    }
  }
  const given = new Set(attributes.filter((a) => !isMultiInstance(a.name)).map((a) => a.name));
  const merged = fromTemplates.filter((t) => !given.has(t.name));
  for (const a of attributes) {
    if (isMultiInstance(a.name) && merged.some((m) => m.name === a.name && sameValue(m.value, a.value))) continue;
    merged.push(a);
  }
  return merged;
}

/** The attributes of the Template named `name` (1.4 §2.2.6); Item Not Found if there is none (1.4 §11.2). */
async function templateAttributes(ctx: OperationContext, name: string): Promise<AttributeInput[]> {
  let uid: string | undefined;
  for (const nameType of [Enum.NameType.UninterpretedTextString, Enum.NameType.URI]) {
    const value = nameValue(name, nameType);
    [uid] = await ctx.unit.locate({ objectType: Enum.ObjectType.Template, attributes: [{ name: 'Name', value }], maxItems: 1 });
    if (uid !== undefined) break;
  }
  const template = uid === undefined ? undefined : await ctx.unit.get(uid);
  if (template === undefined || template.material === null) {
    throw new KmipError('ItemNotFound', `no Template is named "${name.length > 64 ? `${name.slice(0, 64)}…` : name}"`);
  }
  if (isArchived(template)) throw new KmipError('ObjectArchived', 'the Template is archived; recover it first');
  const { object, secret } = await revealObject(ctx.keys, template);
  try {
    if (object.objectType !== Enum.ObjectType.Template) throw new Error('template lookup returned another object type');
    const node: TtlvNode = { tag: Tag.Template, type: 'Structure', value: [...object.value.attribute] };
    return readRequestAttributes([node], ctx.version, [Tag.Template]).attributes;
  } finally {
    secret.fill(0);
  }
}

export function nameValue(text: string, nameType: number = Enum.NameType.UninterpretedTextString): TtlvNode {
  return av('Structure', [
    { tag: Tag.NameValue, type: 'TextString', value: text },
    { tag: Tag.NameType, type: 'Enumeration', value: nameType },
  ]);
}

/**
 * Names are unique within a server (1.4 §3.2, 2.1 §4.32), here within a tenant, among objects that
 * are still on-line: a destroyed object keeps its attributes (1.4 §3) but no longer holds the name.
 * 1.4 §11.2 / §11.4: Invalid Field; 2.x: Non Unique Name Attribute.
 */
export async function checkNamesUnique(ctx: OperationContext, attrs: readonly StoredAttribute[], except: readonly string[] = []): Promise<void> {
  for (const a of attrs) {
    if (a.name !== 'Name') continue;
    const holders = await ctx.unit.locate({
      attributes: [{ name: 'Name', value: a.value }],
      states: [S.PreActive, S.Active, S.Deactivated, S.Compromised],
      maxItems: except.length + 1,
    });
    if (holders.some((uid) => !except.includes(uid))) {
      const text = a.value.type === 'Structure' ? a.value.value.find((c) => c.tag === Tag.NameValue) : undefined;
      const shown = text?.type === 'TextString' ? ` "${text.value.length > 64 ? `${text.value.slice(0, 64)}…` : text.value}"` : '';
      throw new KmipError(atLeast(ctx.version, 2, 0) ? 'NonUniqueNameAttribute' : 'InvalidField', `another object already has the Name${shown}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Server-set attributes of a new object

export interface ServerAttributes {
  now: Date;
  objectType: number;
  version: KmipVersion;
  /** Key Format Type of the stored material (a 2.x attribute, kept for every object with a Key Block). */
  keyFormatType?: number;
  digest?: Protected['digest'];
  /** The server generated the material (Create, Re-key): Original Creation Date = Initial Date (2.1 §4.38). */
  generated: boolean;
}

/**
 * kmipd grants leases without limit (it does not expire them): the Lease Time it records, "the
 * maximum Lease Time it is able to serve" (1.4 §3.20), is the largest Interval.
 */
export const MAX_LEASE_SECONDS = 0xffffffff;

/**
 * The attributes the server sets on a new object (1.4 §3 "When implicitly set", 2.1 §4), written
 * over `attrs` in place, each only where it applies to the object type in `version`:
 * Initial Date, Last Change Date; Original Creation Date and Random Number Generator (Unspecified:
 * the HSM does not describe its DRBG, 1.4 §3.44) for generated objects; Fresh, Sensitive (false),
 * Extractable (true) unless the client chose, Always Sensitive and Never Extractable to match;
 * Lease Time; Key Format Type; Digest.
 */
export function addServerAttributes(attrs: StoredAttribute[], o: ServerAttributes): void {
  const applies = (name: string) => appliesToObjectType(name, o.objectType, o.version);
  const setIfAbsent = (name: string, value: TtlvNode) => {
    if (applies(name) && attributeValue(attrs, name) === undefined) setSingle(attrs, name, value);
  };
  setSingle(attrs, 'InitialDate', dateValue(o.now));
  setSingle(attrs, 'LastChangeDate', dateValue(o.now));
  if (o.generated) {
    setSingle(attrs, 'OriginalCreationDate', dateValue(o.now));
    if (applies('RandomNumberGenerator')) {
      setSingle(attrs, 'RandomNumberGenerator', av('Structure', [{ tag: Tag.RNGAlgorithm, type: 'Enumeration', value: Enum.RNGAlgorithm.Unspecified }]));
    }
  }
  if (o.objectType === Enum.ObjectType.Template) return;
  setIfAbsent('Fresh', av('Boolean', true));
  setIfAbsent('Sensitive', av('Boolean', false));
  setIfAbsent('Extractable', av('Boolean', true));
  const sensitive = attributeValue(attrs, 'Sensitive');
  const extractable = attributeValue(attrs, 'Extractable');
  if (sensitive?.type === 'Boolean') setIfAbsent('AlwaysSensitive', av('Boolean', sensitive.value));
  if (extractable?.type === 'Boolean') setIfAbsent('NeverExtractable', av('Boolean', !extractable.value));
  setIfAbsent('LeaseTime', av('Interval', MAX_LEASE_SECONDS));
  if (o.keyFormatType !== undefined) setSingle(attrs, 'KeyFormatType', av('Enumeration', o.keyFormatType));
  removeAll(attrs, 'Digest');
  if (o.digest !== undefined) addInstance(attrs, 'Digest', digestValue(o.digest));
}

/**
 * A Random Number Generator given for a generated object must be one the server uses (1.4 §3.44:
 * "SHALL fail the request" otherwise); kmipd can only vouch for Unspecified.
 */
export function checkRequestedRng(attrs: readonly StoredAttribute[], version: KmipVersion): void {
  const rng = attributeValue(attrs, 'RandomNumberGenerator');
  if (rng?.type !== 'Structure') return;
  const alg = rng.value.find((c) => c.tag === Tag.RNGAlgorithm);
  if (alg?.type === 'Enumeration' && alg.value === Enum.RNGAlgorithm.Unspecified && rng.value.length === 1) return;
  throw new KmipError(atLeast(version, 2, 0) ? 'InvalidAttributeValue' : 'InvalidField', 'kmipd cannot guarantee the requested Random Number Generator');
}

// ---------------------------------------------------------------------------------------------
// Symmetric keys kmipd generates (Create, Re-key)

interface Generator {
  /** Lengths allowed, in bits. */
  allowed(bits: number): boolean;
  defaultBits: number;
  spec(bits: number): KeySpec;
  /** For error messages. */
  lengths: string;
}

const hmac = (defaultBits: number): Generator => ({
  // HMAC keys shorter than 112 bits fall below every NIST security strength (SP 800-107 §5.3.4);
  // longer than the hash block are hashed down by HMAC itself, so 4096 is a generous cap.
  allowed: (b) => b % 8 === 0 && b >= 112 && b <= 4096,
  defaultBits,
  spec: (b) => ({ kind: 'generic', bytes: b / 8 }),
  lengths: 'a multiple of 8 from 112 to 4096',
});

/**
 * The algorithms Create and Re-key generate in the HSM (1.4 §4.1; 1.4 §2.1.3: "AES keys are 128,
 * 192 or 256 bits", "3DES keys are typically from 112 to 192 bits"; the profiles name 168).
 * 3DES keys are three 64-bit DES keys, so 168 (without parity) and 192 (with) both mean 24 bytes;
 * two-key 3DES (112) is not generated (NIST SP 800-131A Rev. 2 disallowed it).
 */
const generators: ReadonlyMap<number, Generator> = new Map<number, Generator>([
  [
    CA.AES,
    {
      allowed: (b) => b === 128 || b === 192 || b === 256,
      defaultBits: 256,
      spec: (b) => ({ kind: 'aes', bits: b as 128 | 192 | 256 }),
      lengths: '128, 192 or 256',
    },
  ],
  [CA.DES3, { allowed: (b) => b === 168 || b === 192, defaultBits: 168, spec: () => ({ kind: 'generic', bytes: 24 }), lengths: '168 or 192' }],
  [CA.HMAC_SHA1, hmac(160)],
  [CA.HMAC_SHA224, hmac(224)],
  [CA.HMAC_SHA256, hmac(256)],
  [CA.HMAC_SHA384, hmac(384)],
  [CA.HMAC_SHA512, hmac(512)],
]);

/** Cryptographic Algorithm values Create can generate. */
export const generatedAlgorithms: readonly number[] = [...generators.keys()];

/**
 * The key spec for a symmetric key of `algorithm` and `bits` (default per algorithm when absent).
 * Unsupported algorithms and lengths: Invalid Field in 1.x (1.4 §11.2 "Incorrect attribute
 * value(s)"), Invalid Attribute Value in 2.x (2.1 §6.1.8.1).
 */
export function symmetricKeySpec(algorithm: number, bits: number | undefined, version: KmipVersion): { spec: KeySpec; bits: number } {
  const reason = atLeast(version, 2, 0) ? 'InvalidAttributeValue' : 'InvalidField';
  const g = generators.get(algorithm);
  if (g === undefined) throw new KmipError(reason, 'kmipd generates AES, 3DES and HMAC (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512) keys only');
  const b = bits ?? g.defaultBits;
  if (!g.allowed(b)) throw new KmipError(reason, `Cryptographic Length must be ${g.lengths} for this algorithm`);
  return { spec: g.spec(b), bits: b };
}

/**
 * Objects that may be registered without a Key Value (meta-data only, 1.4 §3.41–3.42): their Key
 * Block is fully described by the Key Format Type, Cryptographic Algorithm and Length attributes,
 * from which Get rebuilds it.
 */
export const METADATA_ONLY: readonly number[] = [Enum.ObjectType.SymmetricKey, Enum.ObjectType.PublicKey, Enum.ObjectType.PrivateKey];

/** Byte lengths a registered symmetric key of `algorithm` may have (undefined: any). */
export function registeredSymmetricBytes(algorithm: number | undefined): readonly number[] | undefined {
  if (algorithm === CA.AES) return [16, 24, 32];
  if (algorithm === CA.DES3) return [16, 24];
  if (algorithm === CA.DES) return [8];
  return undefined;
}

/** Cryptographic Length of a registered symmetric key of `bytes`: 3DES counts 168 / 112 as the profiles do. */
export function lengthMatches(algorithm: number | undefined, bytes: number, lengthBits: number): boolean {
  if (algorithm === CA.DES3) return (bytes === 24 && (lengthBits === 168 || lengthBits === 192)) || (bytes === 16 && (lengthBits === 112 || lengthBits === 128));
  if (algorithm === CA.DES) return bytes === 8 && (lengthBits === 56 || lengthBits === 64);
  return bytes * 8 === lengthBits;
}

/**
 * Default values KMIP 2.x servers supply when the client omits them (2.1 §3 Table 28), for the
 * symmetric keys kmipd generates: AES-256 for Encrypt and Decrypt; HMAC keys for MAC Generate and
 * MAC Verify. KMIP 1.x has no defaults: Create requires Cryptographic Algorithm and Cryptographic
 * Usage Mask (1.4 §4.1 Table 165).
 */
export function defaultUsageMask(algorithm: number): number {
  const M = Mask.CryptographicUsageMask;
  const isHmac = algorithm >= CA.HMAC_SHA1 && algorithm <= CA.HMAC_SHA512;
  return isHmac ? M.MACGenerate | M.MACVerify : M.Encrypt | M.Decrypt;
}
