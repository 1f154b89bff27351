/**
 * How an attribute value (KMIP 1.4 §3, 2.1 §4) is stored and found: its canonical TTLV bytes
 * (exact-match Locate compares them, 1.4 §4.9 / 2.1 §6.1.27) plus at most one text and one
 * numeric index key derived from it. The keys only narrow an index search; equality of the
 * bytes decides. Extraction is deterministic, so a query value yields the same keys as the
 * stored value it equals.
 *
 * The one table of per-attribute extractors is `structureKeys`; every other value is keyed by
 * its item type (text for Text/Byte Strings, number for enumerations, integers, dates, booleans).
 */
import { Tag } from '../kmip/registry.js';
import { encodeTtlv } from '../ttlv/index.js';
import { ItemType, type StructureNode, type TtlvNode } from '../ttlv/types.js';

export interface IndexKeys {
  /** Selective key (names, identifiers, namespaces): Locate may drive its search from it. */
  text: string | null;
  /** Enumerations, integers, dates, booleans: checked per candidate, or ranged for dates. */
  num: bigint | null;
}

/** Long texts are indexed by a prefix; the value bytes still decide equality. */
const MAX_KEY_TEXT = 256;
const NONE: IndexKeys = { text: null, num: null };

function child(s: StructureNode, tag: number): TtlvNode | undefined {
  return s.value.find((n) => n.tag === tag);
}

function textOf(n: TtlvNode | undefined): string | null {
  if (n === undefined) return null;
  if (n.type === 'TextString') return n.value;
  if (n.type === 'ByteString') return Buffer.from(n.value).toString('hex');
  return null;
}

function clip(s: string | null): string | null {
  return s === null ? null : s.length > MAX_KEY_TEXT ? s.slice(0, MAX_KEY_TEXT) : s;
}

const field =
  (tag: number) =>
  (s: StructureNode): IndexKeys => ({ text: clip(textOf(child(s, tag))), num: null });

/** Attribute (XML name) → keys of its Structure value. */
const structureKeys: Readonly<Record<string, (s: StructureNode) => IndexKeys>> = {
  Name: field(Tag.NameValue),
  AlternativeName: field(Tag.AlternativeNameValue),
  RotateName: field(Tag.RotateNameValue),
  Link: field(Tag.LinkedObjectIdentifier),
  KeyValueLocation: field(Tag.KeyValueLocationValue),
  Digest: field(Tag.DigestValue),
  // Namespace and data together: one namespace holds many objects, the pair identifies one.
  ApplicationSpecificInformation: (s) => {
    const ns = textOf(child(s, Tag.ApplicationNamespace));
    if (ns === null) return NONE;
    return { text: clip(`${ns}\u001f${textOf(child(s, Tag.ApplicationData)) ?? ''}`), num: null };
  },
};

/** The index keys of one attribute value. */
export function indexKeys(name: string, value: TtlvNode): IndexKeys {
  switch (value.type) {
    case 'Structure': {
      const extract = structureKeys[name];
      return extract ? extract(value) : NONE;
    }
    case 'TextString':
    case 'ByteString':
      return { text: clip(textOf(value)), num: null };
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      return { text: null, num: BigInt(value.value) };
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return { text: null, num: value.value };
    case 'Boolean':
      return { text: null, num: value.value ? 1n : 0n };
    case 'BigInteger':
      return NONE;
  }
}

/** The fields each structure's text key is made of (see structureKeys). */
const keyedFields: Readonly<Record<string, readonly number[]>> = {
  Name: [Tag.NameValue],
  AlternativeName: [Tag.AlternativeNameValue],
  RotateName: [Tag.RotateNameValue],
  Link: [Tag.LinkedObjectIdentifier],
  KeyValueLocation: [Tag.KeyValueLocationValue],
  Digest: [Tag.DigestValue],
  ApplicationSpecificInformation: [Tag.ApplicationNamespace, Tag.ApplicationData],
};

/**
 * Narrowing key of a structure filter with fields left out (Locate, KMIP 2.1 §6.1.28): the whole
 * text key when its fields are all given, a prefix when only the leading part is (Application
 * Specific Information by namespace alone), null when the keyed field is absent. `exact` says the
 * key alone decides the match: the filter holds nothing but keyed fields and the key is not
 * clipped, so no value needs checking afterwards.
 */
export function partialKeys(name: string, value: TtlvNode): ({ text: string } | { prefix: string }) & { exact: boolean } | null {
  if (value.type !== 'Structure') return null;
  const keyed = keyedFields[name] ?? [];
  const onlyKeyed = value.value.every((c) => keyed.includes(c.tag) && (c.type === 'TextString' || c.type === 'ByteString'));
  if (name === 'ApplicationSpecificInformation') {
    const ns = textOf(child(value, Tag.ApplicationNamespace));
    if (ns === null || ns.includes('\u001f')) return null;
    if (child(value, Tag.ApplicationData) === undefined) {
      return ns.length + 1 > MAX_KEY_TEXT ? null : { prefix: `${ns}\u001f`, exact: onlyKeyed };
    }
  }
  const full = structureKeys[name] ? indexKeys(name, value).text : null;
  if (full === null) return null;
  return { text: full, exact: onlyKeyed && full.length < MAX_KEY_TEXT };
}

/**
 * Whether a stored value holds every field of a partial structure filter with an equal value
 * (fields given twice must be held twice). Non-structures compare whole.
 */
export function containsFields(stored: TtlvNode, filter: TtlvNode): boolean {
  if (filter.type !== 'Structure' || stored.type !== 'Structure') return valueBytes(stored).equals(valueBytes(filter));
  const have = stored.value.map((n) => ({ tag: n.tag, bytes: encodeTtlv(n) }));
  return filter.value.every((want) => {
    const bytes = encodeTtlv(want);
    const i = have.findIndex((h) => h.tag === want.tag && h.bytes.equals(bytes));
    if (i < 0) return false;
    have.splice(i, 1);
    return true;
  });
}

/** Canonical stored bytes of a value: the tag is irrelevant, so it is always AttributeValue. */
export function valueBytes(value: TtlvNode): Buffer {
  return encodeTtlv({ ...value, tag: Tag.AttributeValue } as TtlvNode);
}

export function itemTypeCode(value: TtlvNode): number {
  return ItemType[value.type];
}
