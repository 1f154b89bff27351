/**
 * KMIP JSON message encoding (KMIP Additional Message Encodings v1.0 §4.1 "JSON Encoding").
 *
 * Each TTLV item is an object `{"tag", "type", "value"}` (§4.1.6): `tag` is the normalised tag
 * name or "0x540001" hex for tags the registry does not know; `type` defaults to Structure and is
 * left out for Structures, as the spec's own examples do; a Structure's value is an array (null
 * is read as empty). An optional `name` property (§4.1.6) is informational and ignored on input.
 *
 * Value forms written: Integer a Number, masks "Encrypt|Decrypt" (§4.1.6.4); Long Integer a Number
 * below 2^52 in magnitude, else 16-digit two's complement hex (§4.1.6.5); Big Integer 0x hex,
 * sign-extended to a multiple of 8 bytes (§4.1.6.6); Enumeration its CamelCase name or 0x hex
 * (§4.1.6.7); Boolean true/false; Byte String hex without 0x; Date-Time ISO 8601; Interval a
 * Number. Readers also take every alternative the spec lists (hex for numbers, Booleans, dates).
 */
import type { ItemTypeName, TtlvNode } from '../../ttlv/types.js';
import { tagName } from '../registry.js';
import { EncodingError, pathSteps } from './encoding-error.js';
import {
  bigIntToHex,
  bytesToHex,
  formatDateTime,
  formatDateTimeExtended,
  hexFixed,
  hexToBigInt,
  hexToBytes,
  int64ToHex,
  isItemTypeName,
  parseBoolean,
  parseDateTime,
  parseDateTimeExtended,
  parseInt32,
  parseInt64,
  parseUint32,
} from './lexical.js';
import {
  attributeNameAmong,
  convertChildren,
  formatEnumeration,
  formatMaskValue,
  parseEnumeration,
  parseMaskValue,
  parseTagText,
  type NamingContext,
} from './value-names.js';

/** Scalar JSON values this encoding writes. */
export type JsonScalar = number | string | boolean;

/** One TTLV item in the JSON encoding. */
export interface JsonTtlv {
  tag: string;
  name?: string;
  type?: ItemTypeName;
  value: JsonTtlv[] | JsonScalar;
}

/** Numbers a JSON reader can hold exactly; the spec draws the line at 2^52 (§4.1.6.5). */
const JSON_NUMBER_LIMIT = 1n << 52n;
const SEPARATOR = '|';

function scalarToJson(node: Exclude<TtlvNode, { type: 'Structure' }>, ctx: NamingContext): JsonScalar {
  switch (node.type) {
    case 'Integer':
      return formatMaskValue(node.tag, node.value, SEPARATOR, ctx) ?? node.value;
    case 'LongInteger':
      return node.value > -JSON_NUMBER_LIMIT && node.value < JSON_NUMBER_LIMIT ? Number(node.value) : int64ToHex(node.value);
    case 'BigInteger':
      return `0x${bigIntToHex(node.value)}`;
    case 'Enumeration':
      return formatEnumeration(node.tag, node.value, ctx);
    case 'Boolean':
      return node.value;
    case 'TextString':
      return node.value;
    case 'ByteString':
      return bytesToHex(node.value);
    case 'DateTime':
      return formatDateTime(node.value);
    case 'Interval':
      return node.value;
    case 'DateTimeExtended':
      return formatDateTimeExtended(node.value);
  }
}

function toJson(node: TtlvNode, ctx: NamingContext): JsonTtlv {
  const tag = tagName(node.tag) ?? hexFixed(node.tag, 6);
  if (node.type === 'Structure') {
    const childCtx = { attributeName: attributeNameAmong(node.value) };
    return { tag, value: node.value.map((c) => toJson(c, childCtx)) };
  }
  return { tag, type: node.type, value: scalarToJson(node, ctx) };
}

export function ttlvToJson(node: TtlvNode): JsonTtlv {
  return toJson(node, {});
}

export function ttlvToJsonText(node: TtlvNode, indent = 2): string {
  return JSON.stringify(ttlvToJson(node), null, indent);
}

// ---------------------------------------------------------------------------------------------
// Reading

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x/i.test(v);

function readTag(v: unknown, path: string): number {
  if (typeof v !== 'string') throw new EncodingError('json', path, 'tag must be a string');
  const value = parseTagText(v);
  if (value === undefined) throw new EncodingError('json', path, `unknown tag ${JSON.stringify(v)}`);
  return value;
}

function parseScalar(tag: number, type: Exclude<ItemTypeName, 'Structure'>, v: unknown, ctx: NamingContext): TtlvNode | undefined {
  switch (type) {
    case 'Integer': {
      let value: number | undefined;
      if (typeof v === 'number') value = Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff ? v | 0 : undefined;
      else if (isHex(v)) value = parseInt32(v);
      else if (typeof v === 'string') value = parseMaskValue(tag, v, SEPARATOR, ctx);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'LongInteger': {
      let value: bigint | undefined;
      if (typeof v === 'number') value = Number.isSafeInteger(v) ? BigInt(v) : undefined;
      else if (isHex(v)) value = parseInt64(v);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'BigInteger': {
      let value: bigint | undefined;
      if (typeof v === 'number') value = Number.isSafeInteger(v) ? BigInt(v) : undefined;
      else if (isHex(v)) value = hexToBigInt(v.slice(2));
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Enumeration': {
      let value: number | undefined;
      if (typeof v === 'number') value = Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
      else if (typeof v === 'string') value = parseEnumeration(tag, v, ctx);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Boolean': {
      const value = typeof v === 'boolean' ? v : isHex(v) ? parseBoolean(v) : undefined;
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'TextString':
      return typeof v === 'string' ? { tag, type, value: v } : undefined;
    case 'ByteString': {
      const value = typeof v === 'string' ? hexToBytes(v) : undefined;
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'DateTime': {
      const value = typeof v === 'string' ? parseDateTime(v) : undefined;
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Interval': {
      let value: number | undefined;
      if (typeof v === 'number') value = Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
      else if (isHex(v)) value = parseUint32(v, false);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'DateTimeExtended': {
      const value = typeof v === 'string' ? parseDateTimeExtended(v) : undefined;
      return value === undefined ? undefined : { tag, type, value };
    }
  }
}

function fromJson(v: unknown, path: string, ctx: NamingContext, knownTag?: number): TtlvNode {
  if (!isObject(v)) throw new EncodingError('json', path, 'a TTLV item must be an object');
  const tag = knownTag ?? readTag(v['tag'], path);
  const typeText = v['type'] ?? 'Structure';
  if (typeof typeText !== 'string' || !isItemTypeName(typeText)) {
    throw new EncodingError('json', path, `unknown item type ${JSON.stringify(typeText)}`);
  }
  const value = v['value'];
  if (typeText === 'Structure') {
    if (value !== undefined && value !== null && !Array.isArray(value)) {
      throw new EncodingError('json', path, 'a Structure value must be an array');
    }
    const items: unknown[] = value ?? [];
    const steps = pathSteps(items.map((c) => (isObject(c) && typeof c['tag'] === 'string' ? c['tag'] : '?')));
    const children = convertChildren(
      items,
      // A non-object child has no tag; fromJson then reports it (-1 is never a tag).
      (c, i) => (isObject(c) ? readTag(c['tag'], `${path}/${steps[i]}`) : -1),
      (c, i, childTag, childCtx) => fromJson(c, `${path}/${steps[i]}`, childCtx, childTag),
    );
    return { tag, type: 'Structure', value: children };
  }
  if (value === undefined) throw new EncodingError('json', path, 'value missing');
  const node = parseScalar(tag, typeText, value, ctx);
  if (node === undefined) throw new EncodingError('json', path, `${JSON.stringify(value)} is not a valid ${typeText} here`);
  return node;
}

export function jsonToTtlv(value: unknown): TtlvNode {
  const tag = isObject(value) && typeof value['tag'] === 'string' ? value['tag'] : '?';
  return fromJson(value, `/${tag}`, {});
}

export function jsonTextToTtlv(text: string): TtlvNode {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EncodingError('json', '/', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return jsonToTtlv(value);
}
