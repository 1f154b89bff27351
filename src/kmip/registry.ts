/**
 * The KMIP vocabulary: tags, enumerations, bit masks and protocol versions (KMIP 1.x §9.1.3,
 * KMIP 2.x §11 "Enumerations", §12 "Bit Masks", §11.56 "Tag Enumeration").
 *
 * Every fact comes from the generated tables in ./generated/registry.ts; this module only derives
 * reverse maps and lookups from them, so nothing is typed twice. Names are the normalised XML names
 * of KMIP Additional Message Encodings §6.1.3 (`UniqueIdentifier`, `ReKey`, `ItemNotFound`).
 */
import type { ItemTypeName } from '../ttlv/types.js';
import {
  Enum,
  Mask,
  Tag,
  enumRows,
  kmipVersionStrings,
  maskRows,
  tagAliasRows,
  tagRows,
  tagTypeHistoryRows,
  type EnumRow,
  type KmipVersionString,
} from './generated/registry.js';

export { Enum, Mask, Tag, kmipVersionStrings };
export type { KmipVersionString };

// ---------------------------------------------------------------------------------------------
// Types that let code say Tag.UniqueIdentifier, Enum.Operation.Create, Mask.CryptographicUsageMask.Encrypt

export type TagName = keyof typeof Tag;
export type TagValue = (typeof Tag)[TagName];
export type EnumName = keyof typeof Enum;
/** An enumeration name, or `Tag`: the KMIP 2.x Tag Enumeration whose values are tag numbers. */
export type EnumRef = EnumName | 'Tag';
export type EnumValueName<E extends EnumName> = keyof (typeof Enum)[E] & string;
export type EnumValue<E extends EnumName> = (typeof Enum)[E][EnumValueName<E>];
export type MaskName = keyof typeof Mask;
export type MaskBitName<M extends MaskName> = keyof (typeof Mask)[M] & string;
export type MaskBit<M extends MaskName> = (typeof Mask)[M][MaskBitName<M>];

// ---------------------------------------------------------------------------------------------
// Protocol versions

export interface KmipVersion {
  readonly major: number;
  readonly minor: number;
}

/** A version as a `{major, minor}` pair or as "1.4"-style text. */
export type VersionLike = KmipVersion | string;

/**
 * Parsed forms of the registry's own version strings ("1.0" … "2.1"): definedIn() compares every
 * tag's `since`/`removed` text on every encoded field, and a profile of Discover Versions showed
 * the regular expression of parseVersion on the hot path. Other text is parsed each time.
 */
const knownVersions = new Map<string, KmipVersion>();

export function parseVersion(v: VersionLike): KmipVersion {
  if (typeof v !== 'string') return v;
  const known = knownVersions.get(v);
  if (known !== undefined) return known;
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  if (!m) throw new RangeError(`not a KMIP version: ${JSON.stringify(v)}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

for (const s of kmipVersionStrings) knownVersions.set(s, Object.freeze(parseVersion(s)));

export function formatVersion(v: VersionLike): string {
  const { major, minor } = parseVersion(v);
  return `${major}.${minor}`;
}

/** Negative, zero or positive as a is older than, equal to or newer than b. */
export function compareVersions(a: VersionLike, b: VersionLike): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  return x.major - y.major || x.minor - y.minor;
}

/** The protocol versions this registry covers (and kmipd speaks), oldest first: 1.0–1.4, 2.0, 2.1. */
export const supportedVersions: readonly KmipVersion[] = Object.freeze(kmipVersionStrings.map((s) => parseVersion(s)));

export function isSupportedVersion(v: VersionLike): boolean {
  return supportedVersions.some((s) => compareVersions(s, v) === 0);
}

/** Anything the registry dates: a tag, an enumeration, an enumeration value or a mask bit. */
export interface Versioned {
  readonly since: KmipVersionString;
  readonly removed: KmipVersionString | null;
}

/** True when the item is listed by the spec tables of `version` (since ≤ version < removed). */
export function definedIn(item: Versioned, version: VersionLike): boolean {
  return compareVersions(item.since, version) <= 0 && (item.removed === null || compareVersions(version, item.removed) < 0);
}

// ---------------------------------------------------------------------------------------------
// Tags

export interface TagInfo extends Versioned {
  readonly value: number;
  /** Normalised XML / JSON name. */
  readonly xml: string;
  /** Name as written in the spec tables (latest version that lists it). */
  readonly name: string;
  /** Primary item type, or null where the spec states none (e.g. AttributeValue: it varies). */
  readonly type: ItemTypeName | null;
  /** Item types the latest version allows, primary first. */
  readonly types: readonly ItemTypeName[];
  readonly deprecated: KmipVersionString | null;
  /** Linked enumeration for Enumeration-typed values ('Tag' = the values are tag numbers). */
  readonly enum: EnumRef | null;
  /** Linked bit mask for Integer-typed values. */
  readonly mask: MaskName | null;
}

/** Spec names are matched with whitespace collapsed: the 1.0–1.2 vectors carry runs of spaces. */
function collapse(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

const tagsByValue = new Map<number, TagInfo>();
const tagValuesByName = new Map<string, number>();
for (const [value, xml, name, type, types, since, deprecated, removed, enumXml, maskXml] of tagRows) {
  const info: TagInfo = Object.freeze({
    value,
    xml,
    name,
    type,
    types,
    since,
    deprecated,
    removed,
    enum: enumXml as EnumRef | null,
    mask: maskXml as MaskName | null,
  });
  tagsByValue.set(value, info);
  tagValuesByName.set(xml, value);
  tagValuesByName.set(name, value);
}
for (const [alias, value] of tagAliasRows) {
  if (!tagValuesByName.has(alias)) tagValuesByName.set(alias, value);
}
const typeHistory = new Map(tagTypeHistoryRows);

/** XML name of a tag number, or undefined for tags the registry does not know (extensions). */
export function tagName(value: number): string | undefined {
  return tagsByValue.get(value)?.xml;
}

/** Tag number for an XML name, a spec name (whitespace-insensitive) or an earlier spelling. */
export function tagValue(name: string): number | undefined {
  return tagValuesByName.get(name) ?? tagValuesByName.get(collapse(name));
}

export function tagInfo(value: number): TagInfo | undefined {
  return tagsByValue.get(value);
}

/** A tag for messages and logs: its XML name, or 0x-prefixed 3-byte hex for unknown (extension) tags. */
export function tagLabel(value: number): string {
  return tagsByValue.get(value)?.xml ?? `0x${value.toString(16).padStart(6, '0')}`;
}

/** tagDefinedIn's answers per version (major * 256 + minor), then per known tag: schema encoding asks for every field. */
const tagDefinedCache = new Map<number, Map<number, boolean>>();

/** True when the Tag table of `version` lists this tag; false for tags the registry does not know. */
export function tagDefinedIn(value: number, version: VersionLike): boolean {
  // Unknown (extension) tags come from clients: answered without caching, so the cache stays bounded.
  if (!tagsByValue.has(value)) return false;
  const v = parseVersion(version);
  const key = v.major * 256 + v.minor;
  let byTag = tagDefinedCache.get(key);
  if (byTag === undefined) {
    // Bounded: only versions the registry knows are cached; others are answered each time.
    if (!knownVersions.has(formatVersion(v))) return tagDefinedUncached(value, v);
    byTag = new Map();
    tagDefinedCache.set(key, byTag);
  }
  let defined = byTag.get(value);
  if (defined === undefined) {
    defined = tagDefinedUncached(value, v);
    byTag.set(value, defined);
  }
  return defined;
}

function tagDefinedUncached(value: number, version: KmipVersion): boolean {
  const info = tagsByValue.get(value);
  return info !== undefined && definedIn(info, version);
}

/** Every known tag, in tag-number order. */
export function allTags(): readonly TagInfo[] {
  return [...tagsByValue.values()];
}

/** Item types a tag may carry in a given version (the spec changed a few between 1.x and 2.x). */
export function tagTypesIn(value: number, version: VersionLike): readonly ItemTypeName[] {
  const history = typeHistory.get(value);
  if (history) {
    const v = formatVersion(version);
    for (const [versions, types] of history) if ((versions as readonly string[]).includes(v)) return types;
  }
  return tagsByValue.get(value)?.types ?? [];
}

// ---------------------------------------------------------------------------------------------
// Enumerations and masks

export interface EnumValueInfo extends Versioned {
  readonly value: number;
  readonly xml: string;
  readonly name: string;
  readonly deprecated: KmipVersionString | null;
  /** Earlier spellings (xml and spec forms) with the versions that used them. */
  readonly aliases: readonly { readonly xml: string; readonly name: string; readonly versions: readonly KmipVersionString[] }[];
}

export interface EnumInfo extends Versioned {
  readonly xml: string;
  readonly name: string;
  /** Defined by reference to PKCS#11 rather than by a KMIP table (2.x §11.38, §11.39). */
  readonly derived: boolean;
  /** Tags whose Enumeration values use this enumeration. */
  readonly tags: readonly number[];
  readonly values: readonly EnumValueInfo[];
}

/** A bit mask (Cryptographic Usage Mask, Storage Status Mask, Protection Storage Mask); `value` is the bit. */
export type MaskInfo = EnumInfo;

interface Indexed {
  info: EnumInfo;
  byValue: Map<number, EnumValueInfo>;
  byName: Map<string, EnumValueInfo>;
}

function index(info: EnumInfo): Indexed {
  const byValue = new Map<number, EnumValueInfo>();
  const byName = new Map<string, EnumValueInfo>();
  for (const v of info.values) {
    if (!byValue.has(v.value)) byValue.set(v.value, v);
    byName.set(v.xml, v);
  }
  // Spec names and earlier spellings never shadow a canonical xml name.
  for (const v of info.values) {
    for (const n of [v.name, ...v.aliases.flatMap((a) => [a.xml, a.name])]) if (!byName.has(n)) byName.set(n, v);
  }
  return { info, byValue, byName };
}

function fromRow([xml, name, since, removed, derived, tags, values]: EnumRow): Indexed {
  return index(
    Object.freeze({
      xml,
      name,
      since,
      removed,
      derived,
      tags,
      values: values.map(([value, vxml, vname, vsince, deprecated, vremoved, aliases]) =>
        Object.freeze({
          value,
          xml: vxml,
          name: vname,
          since: vsince,
          deprecated,
          removed: vremoved,
          aliases: aliases.map(([axml, aname, versions]) => ({ xml: axml, name: aname, versions })),
        }),
      ),
    }),
  );
}

const enums = new Map<string, Indexed>(enumRows.map((row) => [row[0], fromRow(row)]));
const masks = new Map<string, Indexed>(maskRows.map((row) => [row[0], fromRow(row)]));

// The KMIP 2.x Tag Enumeration (§11.56) is the tag table itself; it is built from it, not copied,
// and dates from the first tag whose values use it (Attribute Reference, 2.0).
const tagEnumUsers = tagRows.filter((r) => r[8] === 'Tag');
enums.set(
  'Tag',
  index(
    Object.freeze({
      xml: 'Tag',
      name: 'Tag',
      since: tagEnumUsers.map((r) => r[5]).sort(compareVersions)[0] ?? kmipVersionStrings[0],
      removed: null,
      derived: false,
      tags: tagEnumUsers.map((r) => r[0]),
      values: [...tagsByValue.values()].map((t) =>
        Object.freeze({ value: t.value, xml: t.xml, name: t.name, since: t.since, deprecated: t.deprecated, removed: t.removed, aliases: [] }),
      ),
    }),
  ),
);

export function enumInfo(enumXml: string): EnumInfo | undefined {
  return enums.get(enumXml)?.info;
}

export function maskInfo(maskXml: string): MaskInfo | undefined {
  return masks.get(maskXml)?.info;
}

/** The enumeration an Enumeration-typed item with this tag carries, if the spec links one. */
export function enumForTag(tag: number): EnumInfo | undefined {
  const ref = tagsByValue.get(tag)?.enum;
  return ref ? enums.get(ref)?.info : undefined;
}

/** The bit mask an Integer-typed item with this tag carries, if any. */
export function maskForTag(tag: number): MaskInfo | undefined {
  const ref = tagsByValue.get(tag)?.mask;
  return ref ? masks.get(ref)?.info : undefined;
}

/** Canonical XML name of an enumeration value, or undefined when the value has no name. */
export function enumValueName(enumXml: string, value: number): string | undefined {
  return enums.get(enumXml)?.byValue.get(value)?.xml;
}

export function enumValueInfo(enumXml: string, value: number): EnumValueInfo | undefined {
  return enums.get(enumXml)?.byValue.get(value);
}

/** Numeric value for a value name: the XML name, the spec name or an earlier spelling. */
export function enumValueOf(enumXml: string, name: string): number | undefined {
  const e = enums.get(enumXml);
  return (e?.byName.get(name) ?? e?.byName.get(collapse(name)))?.value;
}

/** Numeric value of a mask bit by name (XML name, spec name or earlier spelling). */
export function maskBitOf(maskXml: string, name: string): number | undefined {
  const m = masks.get(maskXml);
  return (m?.byName.get(name) ?? m?.byName.get(collapse(name)))?.value;
}

const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Symbolic form of a mask (Additional Message Encodings §6.1.6.4 / §4.1.6.4): named bits in
 * ascending order, then the remaining unnamed bits as one 32-bit hex component. Zero is "0x00000000".
 */
export function formatMask(maskXml: string, value: number, separator = ' '): string {
  const m = masks.get(maskXml);
  if (!m) throw new RangeError(`unknown mask ${maskXml}`);
  let rest = value >>> 0;
  const parts: string[] = [];
  for (const bit of [...m.byValue.values()].sort((a, b) => a.value - b.value)) {
    if (bit.value !== 0 && (rest & bit.value) >>> 0 === bit.value) {
      parts.push(bit.xml);
      rest = (rest & ~bit.value) >>> 0;
    }
  }
  if (rest !== 0 || parts.length === 0) parts.push(hex32(rest));
  return parts.join(separator);
}

/**
 * Parses a symbolic mask: components are bit names or 32-bit hex ("0x0000000c"), OR-ed together.
 * Returns the value as a signed 32-bit Integer, or undefined if a component is neither.
 */
export function parseMask(maskXml: string, text: string, separator: string | RegExp = /\s+/): number | undefined {
  const m = masks.get(maskXml);
  if (!m) throw new RangeError(`unknown mask ${maskXml}`);
  let value = 0;
  const tokens = text.split(separator).map((t) => t.trim()).filter((t) => t !== '');
  if (tokens.length === 0) return undefined;
  for (const token of tokens) {
    if (/^0x[0-9a-f]{1,8}$/i.test(token)) value |= Number.parseInt(token.slice(2), 16);
    else {
      const bit = m.byName.get(token)?.value;
      if (bit === undefined) return undefined;
      value |= bit;
    }
  }
  return value | 0;
}
