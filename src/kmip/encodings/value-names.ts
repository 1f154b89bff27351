/**
 * Which names an Enumeration or Integer value is written with in the XML, JSON and text forms
 * (KMIP Additional Message Encodings v1.0 §6.1.6.4 / §4.1.6.4 masks, §6.1.6.7 / §4.1.6.7
 * enumerations). Normally the enumeration or mask the registry links to the item's tag; the
 * context rules on top of that:
 *  - KMIP 1.x Attribute (1.4 §2.1.1): an AttributeValue takes the enumeration or mask of the
 *    attribute its sibling AttributeName names ("Cryptographic Algorithm" → AES). A sibling
 *    VendorIdentification (2.x vendor attribute, 2.1 §2.1.1) means the name is the vendor's, not a
 *    KMIP attribute, so no names apply.
 *  - KMIP 2.x AttributeReference (2.1 §5.5): values are tags, named through the Tag Enumeration
 *    (2.1 §11.56); the registry links it as 'Tag'.
 *  - The 2.x `Tag` item (0x420138): the spec gives it no encoding; when it is Enumeration-typed its
 *    values can only be Tag Enumeration values, so they are named the same way.
 * A value the enumeration does not name is written as 8-digit hex (§6.1.6.7).
 */
import type { TtlvNode } from '../../ttlv/types.js';
import {
  Tag,
  enumForTag,
  enumInfo,
  enumValueName,
  enumValueOf,
  formatMask,
  maskForTag,
  parseMask,
  tagValue,
  type EnumInfo,
  type MaskInfo,
} from '../registry.js';
import { hexFixed, parseUint32 } from './lexical.js';

/** Where an item sits: the AttributeName of the enclosing 1.x Attribute, if any. */
export interface NamingContext {
  readonly attributeName?: string | undefined;
}

/** The tag whose names apply: an AttributeValue borrows the tag of the attribute it carries. */
function effectiveTag(tag: number, ctx: NamingContext | undefined): number | undefined {
  if (tag !== Tag.AttributeValue) return tag;
  return ctx?.attributeName === undefined ? undefined : tagValue(ctx.attributeName);
}

export function enumerationFor(tag: number, ctx?: NamingContext): EnumInfo | undefined {
  if (tag === Tag.Tag) return enumInfo('Tag');
  const t = effectiveTag(tag, ctx);
  return t === undefined ? undefined : enumForTag(t);
}

export function maskFor(tag: number, ctx?: NamingContext): MaskInfo | undefined {
  const t = effectiveTag(tag, ctx);
  return t === undefined ? undefined : maskForTag(t);
}

/**
 * The AttributeName text that names the AttributeValue among these siblings (the children of one
 * Attribute structure), or undefined when there is none or it is a vendor attribute.
 */
export function attributeNameAmong(siblings: readonly TtlvNode[]): string | undefined {
  let name: string | undefined;
  for (const s of siblings) {
    if (s.tag === Tag.VendorIdentification) return undefined;
    if (s.tag === Tag.AttributeName && s.type === 'TextString') name = s.value;
  }
  return name;
}

/** Enumeration value as its CamelCase name, or "0x%08x" when it has none. */
export function formatEnumeration(tag: number, value: number, ctx?: NamingContext): string {
  const e = enumerationFor(tag, ctx);
  return (e && enumValueName(e.xml, value)) ?? hexFixed(value >>> 0, 8);
}

/** Enumeration text: a CamelCase name of the linked enumeration, or hex. Decimal is not a form §6.1.6.7 allows. */
export function parseEnumeration(tag: number, text: string, ctx?: NamingContext): number | undefined {
  const hex = parseUint32(text, false);
  if (hex !== undefined) return hex;
  const e = enumerationFor(tag, ctx);
  return e && enumValueOf(e.xml, text);
}

/** Symbolic mask text with the given separator, or undefined when the item is not a mask. Zero stays numeric. */
export function formatMaskValue(tag: number, value: number, separator: string, ctx?: NamingContext): string | undefined {
  const m = maskFor(tag, ctx);
  return m && value !== 0 ? formatMask(m.xml, value, separator) : undefined;
}

/** Symbolic mask text (names and 0x components), or undefined when not a mask or a component is unknown. */
export function parseMaskValue(tag: number, text: string, separator: string | RegExp, ctx?: NamingContext): number | undefined {
  const m = maskFor(tag, ctx);
  return m && parseMask(m.xml, text, separator);
}

/** A tag written as text (§6.1.2 / §4.1.2): 0x-prefixed 3-byte hex, or a tag name. */
export function parseTagText(text: string): number | undefined {
  const hex = /^0x([0-9a-fA-F]{6})$/.exec(text);
  return hex ? Number.parseInt(hex[1]!, 16) : tagValue(text);
}

/**
 * Converts the children of one Structure, keeping their order but converting AttributeValue
 * children last, so that they can be named after their sibling AttributeName. Each child's tag is
 * resolved once and handed to `convertOne`.
 */
export function convertChildren<T>(
  items: readonly T[],
  tagOf: (item: T, index: number) => number,
  convertOne: (item: T, index: number, tag: number, ctx: NamingContext) => TtlvNode,
): TtlvNode[] {
  const tags = items.map(tagOf);
  const out: (TtlvNode | undefined)[] = new Array(items.length);
  const deferred: number[] = [];
  items.forEach((item, i) => {
    if (tags[i] === Tag.AttributeValue) deferred.push(i);
    else out[i] = convertOne(item, i, tags[i]!, {});
  });
  if (deferred.length > 0) {
    const ctx = { attributeName: attributeNameAmong(out.filter((n): n is TtlvNode => n !== undefined)) };
    for (const i of deferred) out[i] = convertOne(items[i]!, i, tags[i]!, ctx);
  }
  return out as TtlvNode[];
}
