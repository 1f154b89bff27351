/**
 * Human-readable TTLV tree for the CLI and debug logs (names per KMIP Additional Message Encodings
 * v1.0 §6.1.3; value forms as in §6.1.6, except that text strings are quoted and masks use '|').
 *
 *   RequestMessage (Structure)
 *     RequestHeader (Structure)
 *       ProtocolVersion (Structure)
 *         ProtocolVersionMajor (Integer) 1
 *     BatchItem (Structure)
 *       Operation (Enumeration) Create
 *       ...
 *         CryptographicUsageMask (Integer) Encrypt|Decrypt
 *         KeyMaterial (ByteString) ByteString[32 bytes]      (with elideBytes)
 *
 * With `elideBytes`, Byte Strings and Big Integers are replaced by their length: both carry key
 * material (raw keys; RSA private exponents and primes), which must not reach debug logs.
 */
import type { TtlvNode } from '../../ttlv/types.js';
import { tagLabel } from '../registry.js';
import { bigIntToHex, bytesToHex, formatDateTime, formatDateTimeExtended } from './lexical.js';
import { attributeNameAmong, formatEnumeration, formatMaskValue, type NamingContext } from './value-names.js';

export interface TextFormatOptions {
  /** Write `ByteString[n bytes]` / `BigInteger[n bytes]` instead of the bytes. Default false. */
  elideBytes?: boolean;
  /** Spaces per level. Default 2. */
  indent?: number;
}

function valueText(node: Exclude<TtlvNode, { type: 'Structure' }>, ctx: NamingContext, elide: boolean): string {
  switch (node.type) {
    case 'Integer':
      return formatMaskValue(node.tag, node.value, '|', ctx) ?? String(node.value);
    case 'LongInteger':
      return node.value.toString();
    case 'BigInteger': {
      const hex = bigIntToHex(node.value);
      return elide ? `BigInteger[${hex.length / 2} bytes]` : `0x${hex}`;
    }
    case 'Enumeration':
      return formatEnumeration(node.tag, node.value, ctx);
    case 'Boolean':
      return String(node.value);
    case 'TextString':
      return JSON.stringify(node.value);
    case 'ByteString':
      return elide ? `ByteString[${node.value.length} bytes]` : bytesToHex(node.value);
    case 'DateTime':
      return formatDateTime(node.value);
    case 'Interval':
      return String(node.value);
    case 'DateTimeExtended':
      return formatDateTimeExtended(node.value);
  }
}

/** The tree as text, one item per line, no trailing newline. */
export function ttlvToText(node: TtlvNode, options: TextFormatOptions = {}): string {
  const indent = options.indent ?? 2;
  const elide = options.elideBytes ?? false;
  const lines: string[] = [];
  const walk = (n: TtlvNode, depth: number, ctx: NamingContext): void => {
    const head = `${' '.repeat(depth * indent)}${tagLabel(n.tag)} (${n.type})`;
    if (n.type === 'Structure') {
      lines.push(head);
      const childCtx = { attributeName: attributeNameAmong(n.value) };
      for (const c of n.value) walk(c, depth + 1, childCtx);
    } else {
      const v = valueText(n, ctx, elide);
      lines.push(v === '' ? head : `${head} ${v}`);
    }
  };
  walk(node, 0, {});
  return lines.join('\n');
}
