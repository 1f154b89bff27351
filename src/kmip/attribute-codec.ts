/**
 * The two attribute models on the wire and the one stored model between them:
 * KMIP 1.x §2.1.1 Attribute {Attribute Name, Attribute Index, Attribute Value} inside §2.1.8
 * Template-Attribute (and its Common / Private Key / Public Key variants), and KMIP 2.x §5.1–5.4
 * Attributes structures holding typed attribute items, with §4.60 Vendor Attribute for custom ones
 * and §5.5 Attribute Reference to name an attribute.
 *
 * Stored attributes carry the KMIP XML name ('CryptographicAlgorithm', 'Name') or a custom name
 * ('x-…' from clients, 'y-…' from the server; 1.4 §3.39, carried in 2.x as Vendor Identification
 * "x" / "y"), the Attribute Index (1.4 §2.1.1; 0 for single-instance attributes) and the value
 * tagged AttributeValue, whatever tag it arrived with.
 *
 * Values are checked against the item types the attribute's tag allows in the request's version
 * (registry tagTypesIn) and, for structured attributes, against a small field table per structure
 * (1.4 §3 / 2.1 §4 tables). A value the spec would not accept fails with Invalid Field naming the
 * attribute: the 1.4 §11 tables (Create: "Incorrect attribute value(s) specified"; Locate:
 * "attributes that the server does not understand") give that reason.
 */
import { encodeTtlv } from '../ttlv/index.js';
import type { ItemTypeName, StructureNode, TtlvNode } from '../ttlv/types.js';
import { attributeRule, definedInVersion, isCustomName } from './attributes.js';
import { KmipError } from './errors.js';
import { Tag, enumForTag, tagDefinedIn, tagInfo, tagLabel, tagName, tagTypesIn, tagValue } from './registry.js';
import { atLeast, type KmipVersion } from './version.js';

/** One attribute as a client supplied it: internal name, the 1.x Attribute Index if given, the value (tag AttributeValue). */
export interface AttributeInput {
  name: string;
  index?: number;
  value: TtlvNode;
}

/** The shape the store keeps (src/store/types.ts StoredAttribute), repeated structurally so kmip/ does not import store/. */
export interface AttributeInstance {
  name: string;
  index: number;
  value: TtlvNode;
}

/**
 * The request containers that carry attributes, per role: 1.x Template-Attribute family, 2.x
 * Attributes family. Create Key Pair reads `common`, `privateKey` and `publicKey` separately.
 */
export const AttributeSets = {
  object: [Tag.TemplateAttribute, Tag.Attributes],
  common: [Tag.CommonTemplateAttribute, Tag.CommonAttributes],
  privateKey: [Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes],
  publicKey: [Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes],
} as const satisfies Record<string, readonly number[]>;

/** How strictly a value is read: `full` for values being set, `partial` for Locate filters (2.1 §6.1.28: structure fields MAY be omitted). */
export type ValueMode = 'full' | 'partial';

const isV2 = (version: KmipVersion): boolean => atLeast(version, 2, 0);

/** Vendor Identification of 2.x custom attributes ↔ the 1.x name prefix (2.1 §4.60). */
const CUSTOM_VENDORS = ['x', 'y'] as const;
/** 2.1 §4.60 / §5.5: "usage limited to alphanumeric, underscore and period". */
const VENDOR_ID = /^[A-Za-z0-9_.]+$/;
/** A custom attribute name is the client's text: bounded so it cannot become a storage or log problem. */
export const MAX_CUSTOM_NAME_LENGTH = 256;

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Internal name for a 1.x Attribute Name text: the spec name of any version (whitespace-insensitive,
 * as the 1.0–1.2 vectors need), the XML name, or a custom 'x-'/'y-' name. Undefined when the text
 * names no attribute kmipd manages in `version`.
 */
export function attributeNameFromText(text: string, version: KmipVersion): string | undefined {
  if (isCustomName(text)) return text.length <= MAX_CUSTOM_NAME_LENGTH ? text : undefined;
  const tag = tagValue(text);
  if (tag === undefined) return undefined;
  return attributeNameFromTag(tag, version);
}

/** Internal name for an attribute tag (2.x typed items, Attribute Reference enumerations). */
export function attributeNameFromTag(tag: number, version: KmipVersion): string | undefined {
  const xml = tagName(tag);
  if (xml === undefined || xml === 'CustomAttribute') return undefined;
  return definedInVersion(xml, version) ? xml : undefined;
}

/** The 1.x Attribute Name text of an internal name: the spec name (custom names as they are). */
export function attributeNameText(name: string): string {
  if (isCustomName(name)) return name;
  const rule = attributeRule(name);
  return (rule && tagInfo(rule.tag)?.name) ?? name;
}

/** The tag a 2.x response uses for an attribute; undefined for custom attributes (Vendor Attribute). */
export function attributeTag(name: string): number | undefined {
  if (isCustomName(name)) return undefined;
  return attributeRule(name)?.tag;
}

/**
 * Reads a reference to an attribute: a 1.x Attribute Name (Text String) or a 2.x Attribute
 * Reference (Enumeration of Tag, or Structure {Vendor Identification, Attribute Name}).
 * Undefined when it names no attribute kmipd knows in `version` (Get Attributes then simply
 * returns nothing for it); malformed references fail with Invalid Field.
 */
export function readAttributeReference(node: TtlvNode, version: KmipVersion): string | undefined {
  if (node.tag === Tag.AttributeName) {
    if (node.type !== 'TextString') throw invalid(`Attribute Name must be a Text String`);
    return attributeNameFromText(node.value, version);
  }
  if (node.tag !== Tag.AttributeReference) throw invalid(`${tagLabel(node.tag)} is not an attribute reference`);
  if (node.type === 'Enumeration') return attributeNameFromTag(node.value, version);
  if (node.type === 'Structure') {
    const vendor = childText(node, Tag.VendorIdentification);
    const name = childText(node, Tag.AttributeName);
    if (vendor === undefined || name === undefined) {
      throw invalid('Attribute Reference needs Vendor Identification and Attribute Name');
    }
    return customNameOf(vendor, name);
  }
  throw invalid('Attribute Reference must be an Enumeration or a Structure');
}

/** A reference to an attribute in the form `version` uses (Get Attribute List responses, 2.x requests). */
export function renderAttributeReference(name: string, version: KmipVersion): TtlvNode {
  if (!isV2(version)) return { tag: Tag.AttributeName, type: 'TextString', value: attributeNameText(name) };
  if (isCustomName(name)) {
    return {
      tag: Tag.AttributeReference,
      type: 'Structure',
      value: [
        { tag: Tag.VendorIdentification, type: 'TextString', value: name.slice(0, 1) },
        { tag: Tag.AttributeName, type: 'TextString', value: name.slice(2) },
      ],
    };
  }
  const tag = attributeTag(name);
  if (tag === undefined) throw new Error(`attribute ${name} has no tag`);
  return { tag: Tag.AttributeReference, type: 'Enumeration', value: tag };
}

function customNameOf(vendor: string, name: string): string | undefined {
  if (!VENDOR_ID.test(vendor)) throw invalid('Vendor Identification may only hold letters, digits, underscore and period');
  if (!(CUSTOM_VENDORS as readonly string[]).includes(vendor)) return undefined;
  const full = `${vendor}-${name}`;
  return name.length > 0 && full.length <= MAX_CUSTOM_NAME_LENGTH ? full : undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading attributes from requests

/**
 * Reads the attributes of the containers listed in `containers` found among a payload's children
 * (other children are the caller's). 1.x containers hold Name* (templates, 1.4 §2.1.8) and
 * Attribute*; 2.x containers hold typed attribute items and Vendor Attributes.
 */
export function readRequestAttributes(
  children: readonly TtlvNode[],
  version: KmipVersion,
  containers: readonly number[] = AttributeSets.object,
  mode: ValueMode = 'full',
): { attributes: AttributeInput[]; templateNames: string[] } {
  const attributes: AttributeInput[] = [];
  const templateNames: string[] = [];
  for (const node of children) {
    if (!containers.includes(node.tag)) continue;
    if (!tagDefinedIn(node.tag, version)) throw invalid(`${tagLabel(node.tag)} is not defined in KMIP ${version.major}.${version.minor}`);
    if (node.type !== 'Structure') throw invalid(`${tagLabel(node.tag)} must be a Structure`);
    for (const child of node.value) {
      if (child.tag === Tag.Name && !isV2(version)) {
        templateNames.push(templateName(child));
        continue;
      }
      attributes.push(readAttribute(child, version, mode));
    }
  }
  return { attributes, templateNames };
}

/** The Name of a template referenced by a 1.x Template-Attribute. */
function templateName(node: TtlvNode): string {
  const text = node.type === 'Structure' ? childText(node, Tag.NameValue) : undefined;
  if (text === undefined) throw invalid('a template Name needs a Name Value');
  return text;
}

/**
 * Reads one attribute item: a 1.x Attribute structure, a 2.x Vendor Attribute, or (2.x) a typed
 * attribute item. `mode` 'partial' accepts structure values with fields left out (Locate).
 */
export function readAttribute(node: TtlvNode, version: KmipVersion, mode: ValueMode = 'full'): AttributeInput {
  if (node.tag === Tag.Attribute) return isV2(version) ? readVendorAttribute(node, version, mode) : readV1Attribute(node, version, mode);
  if (!isV2(version)) throw invalid(`${tagLabel(node.tag)} is not an Attribute structure`);
  const name = attributeNameFromTag(node.tag, version);
  // 2.1 §11.1 (as 1.4 Table 336 for Locate): a field that is not an attribute of this version is Invalid Field.
  if (name === undefined) throw invalid(`${tagLabel(node.tag)} is not an attribute of KMIP ${version.major}.${version.minor}`);
  return { name, value: readAttributeValue(name, node, version, mode) };
}

/** The one attribute a 2.x New Attribute / Current Attribute structure holds (2.1 §5.6, §5.7). */
export function readSingleAttribute(children: readonly TtlvNode[], version: KmipVersion, container: number): AttributeInput {
  if (children.length !== 1) throw invalid(`${tagLabel(container)} must hold exactly one attribute`);
  return readAttribute(children[0] as TtlvNode, version);
}

function readV1Attribute(node: TtlvNode, version: KmipVersion, mode: ValueMode): AttributeInput {
  if (node.type !== 'Structure') throw invalid('Attribute must be a Structure');
  let nameText: string | undefined;
  let index: number | undefined;
  let value: TtlvNode | undefined;
  for (const c of node.value) {
    if (c.tag === Tag.AttributeName && c.type === 'TextString' && nameText === undefined) nameText = c.value;
    else if (c.tag === Tag.AttributeIndex && c.type === 'Integer' && index === undefined) index = c.value;
    else if (c.tag === Tag.AttributeValue && value === undefined) value = c;
    else throw invalid(`unexpected ${tagLabel(c.tag)} (${c.type}) in Attribute`);
  }
  if (nameText === undefined) throw invalid('Attribute needs an Attribute Name');
  const name = attributeNameFromText(nameText, version);
  if (name === undefined) throw invalid(`"${clipText(nameText)}" is not an attribute this server knows in KMIP ${version.major}.${version.minor}`);
  if (index !== undefined && index < 0) throw invalid(`Attribute Index of ${attributeNameText(name)} must not be negative`);
  if (value === undefined) throw invalid(`Attribute ${attributeNameText(name)} needs an Attribute Value`);
  return { name, ...(index !== undefined ? { index } : {}), value: readAttributeValue(name, value, version, mode) };
}

function readVendorAttribute(node: TtlvNode, version: KmipVersion, mode: ValueMode): AttributeInput {
  if (node.type !== 'Structure') throw invalid('Attribute must be a Structure');
  const vendor = childText(node, Tag.VendorIdentification);
  const attrName = childText(node, Tag.AttributeName);
  const values = node.value.filter((c) => c.tag === Tag.AttributeValue);
  const extra = node.value.find((c) => c.tag !== Tag.VendorIdentification && c.tag !== Tag.AttributeName && c.tag !== Tag.AttributeValue);
  if (extra !== undefined) throw invalid(`unexpected ${tagLabel(extra.tag)} in a Vendor Attribute`);
  if (vendor === undefined || attrName === undefined || values.length !== 1) {
    throw invalid('a Vendor Attribute needs Vendor Identification, Attribute Name and one Attribute Value');
  }
  const name = customNameOf(vendor, attrName);
  if (name === undefined) {
    throw new KmipError('UnsupportedAttribute', `Vendor Attributes of vendor "${clipText(vendor)}" are not supported; use "x"`);
  }
  return { name, value: readAttributeValue(name, values[0] as TtlvNode, version, mode) };
}

// ---------------------------------------------------------------------------------------------
// Values

interface FieldSpec {
  tag: number;
  required?: true;
  many?: true;
}

const f = (tag: number, opts: Omit<FieldSpec, 'tag'> = {}): FieldSpec => ({ tag, ...opts });
const req = { required: true } as const;

/**
 * Fields of the structured attributes (1.4 §3, 2.1 §4 structure tables). Field item types come
 * from the registry per version, so only membership, order-free presence and repetition live here.
 */
const structures: Readonly<Record<string, readonly FieldSpec[]>> = {
  Name: [f(Tag.NameValue, req), f(Tag.NameType, req)],
  AlternativeName: [f(Tag.AlternativeNameValue, req), f(Tag.AlternativeNameType, req)],
  RotateName: [f(Tag.RotateNameValue, req), f(Tag.RotateNameType, req)],
  Link: [f(Tag.LinkType, req), f(Tag.LinkedObjectIdentifier, req)],
  // Application Data MAY be omitted: the server then fills it for namespaces it supports (1.4 §3.36).
  ApplicationSpecificInformation: [f(Tag.ApplicationNamespace, req), f(Tag.ApplicationData)],
  RevocationReason: [f(Tag.RevocationReasonCode, req), f(Tag.RevocationMessage)],
  UsageLimits: [f(Tag.UsageLimitsTotal, req), f(Tag.UsageLimitsCount), f(Tag.UsageLimitsUnit, req)],
  Digest: [f(Tag.HashingAlgorithm, req), f(Tag.DigestValue), f(Tag.KeyFormatType)],
  KeyValueLocation: [f(Tag.KeyValueLocationValue, req), f(Tag.KeyValueLocationType, req)],
  CryptographicDomainParameters: [f(Tag.Qlength), f(Tag.RecommendedCurve)],
  CryptographicParameters: [
    f(Tag.BlockCipherMode),
    f(Tag.PaddingMethod),
    f(Tag.HashingAlgorithm),
    f(Tag.KeyRoleType),
    f(Tag.DigitalSignatureAlgorithm),
    f(Tag.CryptographicAlgorithm),
    f(Tag.RandomIV),
    f(Tag.IVLength),
    f(Tag.TagLength),
    f(Tag.FixedFieldLength),
    f(Tag.InvocationFieldLength),
    f(Tag.CounterLength),
    f(Tag.InitialCounterValue),
    f(Tag.SaltLength),
    f(Tag.MaskGenerator),
    f(Tag.MaskGeneratorHashingAlgorithm),
    f(Tag.PSource),
    f(Tag.TrailerField),
  ],
  RandomNumberGenerator: [
    f(Tag.RNGAlgorithm, req),
    f(Tag.CryptographicAlgorithm),
    f(Tag.CryptographicLength),
    f(Tag.HashingAlgorithm),
    f(Tag.DRBGAlgorithm),
    f(Tag.RecommendedCurve),
    f(Tag.FIPS186Variation),
    f(Tag.PredictionResistance),
  ],
  X_509CertificateIdentifier: [f(Tag.IssuerDistinguishedName, req), f(Tag.CertificateSerialNumber, req)],
  X_509CertificateSubject: [f(Tag.SubjectDistinguishedName, req), f(Tag.SubjectAlternativeName, { many: true })],
  X_509CertificateIssuer: [f(Tag.IssuerDistinguishedName, req), f(Tag.IssuerAlternativeName, { many: true })],
  CertificateIdentifier: [f(Tag.Issuer, req), f(Tag.SerialNumber, req)],
  CertificateSubject: [f(Tag.CertificateSubjectDistinguishedName, req), f(Tag.CertificateSubjectAlternativeName, { many: true })],
  CertificateIssuer: [f(Tag.CertificateIssuerDistinguishedName, req), f(Tag.CertificateIssuerAlternativeName, { many: true })],
};

/** Enumeration values the client may use beyond the spec tables: the extension range (1.4 §9.1.3, 8XXXXXXX). */
const isExtensionEnumValue = (v: number): boolean => v >= 0x80000000;

/**
 * Checks a value for attribute `name` in `version` and returns it tagged AttributeValue.
 * `node` is the 1.x Attribute Value or the 2.x typed item (its tag is ignored).
 */
export function readAttributeValue(name: string, node: TtlvNode, version: KmipVersion, mode: ValueMode = 'full'): TtlvNode {
  const label = attributeNameText(name);
  if (isCustomName(name)) {
    // 1.4 §3.39: any data type, or a structure without sub-structures.
    if (node.type === 'Structure' && node.value.some((c) => c.type === 'Structure')) {
      throw invalid(`custom attribute ${label} may not hold nested structures`);
    }
    return { ...node, tag: Tag.AttributeValue } as TtlvNode;
  }
  const rule = attributeRule(name);
  if (rule === undefined) throw invalid(`${label} is not an attribute`);
  const types = tagTypesIn(rule.tag, version);
  if (!types.includes(node.type)) throw invalid(`${label} must be ${describeTypes(types)}, not ${node.type}`);
  if (node.type === 'Structure') {
    checkStructure(name, label, node, version, mode);
    return { tag: Tag.AttributeValue, type: 'Structure', value: canonicalOrder(name, node.value) };
  }
  checkPrimitive(label, rule.tag, node);
  return { ...node, tag: Tag.AttributeValue } as TtlvNode;
}

/**
 * Fields in the spec's order: KMIP has one encoding per value only with a fixed field order, and
 * Locate compares stored values as bytes, so a Name sent as {Name Type, Name Value} must be found
 * by a filter written the other way round.
 */
function canonicalOrder(name: string, children: readonly TtlvNode[]): TtlvNode[] {
  const fields = structures[name] ?? [];
  const rank = (n: TtlvNode) => fields.findIndex((x) => x.tag === n.tag);
  return children.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map((x) => x.n);
}

function checkStructure(name: string, label: string, node: StructureNode, version: KmipVersion, mode: ValueMode): void {
  const fields = structures[name];
  if (fields === undefined) throw invalid(`${label} has no structure this server can check`);
  const seen = new Map<number, number>();
  for (const c of node.value) {
    const spec = fields.find((x) => x.tag === c.tag);
    if (spec === undefined || !tagDefinedIn(c.tag, version)) throw invalid(`${tagLabel(c.tag)} is not a field of ${label}`);
    const n = (seen.get(c.tag) ?? 0) + 1;
    if (n > 1 && spec.many !== true) throw invalid(`${tagLabel(c.tag)} appears more than once in ${label}`);
    seen.set(c.tag, n);
    const types = tagTypesIn(c.tag, version);
    if (!types.includes(c.type)) throw invalid(`${tagLabel(c.tag)} in ${label} must be ${describeTypes(types)}, not ${c.type}`);
    checkPrimitive(`${tagLabel(c.tag)} in ${label}`, c.tag, c);
  }
  if (mode === 'full') {
    for (const spec of fields) {
      if (spec.required === true && !seen.has(spec.tag) && tagDefinedIn(spec.tag, version)) {
        throw invalid(`${label} needs ${tagLabel(spec.tag)}`);
      }
    }
  }
}

function checkPrimitive(label: string, tag: number, node: TtlvNode): void {
  if (node.type === 'Enumeration') {
    const e = enumForTag(tag);
    if (e !== undefined && !isExtensionEnumValue(node.value) && !e.values.some((v) => v.value === node.value)) {
      throw invalid(`${label} has no value ${node.value} in ${e.name}`);
    }
  } else if (node.type === 'Structure') {
    throw invalid(`${label} may not be a Structure`);
  }
}

function describeTypes(types: readonly ItemTypeName[]): string {
  return types.length === 0 ? 'absent' : types.join(' or ');
}

// ---------------------------------------------------------------------------------------------
// Rendering attributes for responses

/**
 * One attribute instance as `version` writes it: 1.x Attribute {Attribute Name, Attribute Index
 * when > 0, Attribute Value} (the 1.4 vectors leave index 0 out), 2.x the typed item or a Vendor
 * Attribute. Undefined-in-version attributes are the caller's to filter (renderAttributes does).
 */
export function renderAttribute(attr: AttributeInstance, version: KmipVersion): TtlvNode {
  const value = { ...attr.value, tag: Tag.AttributeValue } as TtlvNode;
  if (!isV2(version)) {
    const children: TtlvNode[] = [{ tag: Tag.AttributeName, type: 'TextString', value: attributeNameText(attr.name) }];
    if (attr.index > 0) children.push({ tag: Tag.AttributeIndex, type: 'Integer', value: attr.index });
    children.push(value);
    return { tag: Tag.Attribute, type: 'Structure', value: children };
  }
  if (isCustomName(attr.name)) {
    return {
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.VendorIdentification, type: 'TextString', value: attr.name.slice(0, 1) },
        { tag: Tag.AttributeName, type: 'TextString', value: attr.name.slice(2) },
        value,
      ],
    };
  }
  const tag = attributeTag(attr.name);
  if (tag === undefined) throw new Error(`attribute ${attr.name} has no tag`);
  return { ...attr.value, tag } as TtlvNode;
}

/** Whether `version` can carry the attribute at all (rules table), with a value of a type it allows. */
export function renderableIn(attr: AttributeInstance, version: KmipVersion): boolean {
  if (!definedInVersion(attr.name, version)) return false;
  if (isCustomName(attr.name)) return true;
  const rule = attributeRule(attr.name);
  return rule !== undefined && tagTypesIn(rule.tag, version).includes(attr.value.type);
}

/** The attributes `version` defines, rendered in order; the others are left out, not failed. */
export function renderAttributes(attrs: readonly AttributeInstance[], version: KmipVersion): TtlvNode[] {
  return attrs.filter((a) => renderableIn(a, version)).map((a) => renderAttribute(a, version));
}

// ---------------------------------------------------------------------------------------------
// Comparing values

/**
 * Equality of two values, tags ignored: equal canonical bytes (KMIP has one encoding per value;
 * structured attributes are read into the spec's field order). 2.x Current Attribute matching.
 */
export function sameValue(a: TtlvNode, b: TtlvNode): boolean {
  const bytes = (v: TtlvNode) => encodeTtlv({ ...v, tag: Tag.AttributeValue } as TtlvNode);
  return bytes(a).equals(bytes(b));
}

// ---------------------------------------------------------------------------------------------

function childText(node: StructureNode, tag: number): string | undefined {
  const c = node.value.find((x) => x.tag === tag);
  return c?.type === 'TextString' ? c.value : undefined;
}

function clipText(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}
