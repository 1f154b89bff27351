/**
 * Placeholders of the OASIS KMIP test-case files (KMIP Test Cases v1.4 and Profiles v2.1 test
 * cases, as described in ../shared/kmip-vectors/README.md) and the per-file bindings they refer to.
 *
 * Three kinds, told apart by name:
 *  - `$NOW`, `$NOW+N`, `$NOW-N` — in a request: the current time plus or minus N seconds; in an
 *    expected response: "a time during this run" (the window is checked by the comparator).
 *  - `$UNIQUE_IDENTIFIER` and `$UNIQUE_IDENTIFIER_n` — object identities. Bound the first time
 *    they appear in a response (numbering restarts per file); afterwards every occurrence, in a
 *    request or a response, means exactly the bound value. Two different names bound to the same
 *    object is a difference: the vector says they are different objects.
 *  - any other `$NAME` (`$IV_COUNTER_NONCE`, `$CORRELATION_VALUE`, `$DATA_0`, `$MAC_DATA`, ...) —
 *    a value the server chooses. In a response it matches any value of the right item type and
 *    is (re)bound to what the server sent: the latest one wins, because e.g. a new stream gets a
 *    new correlation value. In a request it is replaced by its binding; a name no response has
 *    bound yet takes the value of the same tag in the most recent response that carried one
 *    (CS-BC-M-13-14 sends `$IV_COUNTER_NONCE` after a response that gave the IV as a literal).
 *
 * Literal values that the server chose and a later request replays (ciphertext produced under a
 * server-chosen IV, ...) are "captures": see vector-file.ts for how they are found and
 * runner.ts for how they are replayed.
 */
import type { ItemTypeName, TtlvNode } from '../ttlv/types.js';
import { bytesToHex, formatDateTime, formatDateTimeExtended, plainLeafText } from '../kmip/encodings/lexical.js';

export type Placeholder =
  | { readonly kind: 'now'; readonly text: string; readonly offsetSeconds: number }
  | { readonly kind: 'identifier'; readonly text: string }
  | { readonly kind: 'server-value'; readonly text: string };

const NOW = /^\$NOW(?:([+-])(\d+))?$/;
const IDENTIFIER = /^\$UNIQUE_IDENTIFIER(?:_\d+)?$/;
const SERVER_VALUE = /^\$[A-Z][A-Z0-9_]*$/;

/** The placeholder a `value` attribute holds, or undefined for a literal value. */
export function parsePlaceholder(text: string): Placeholder | undefined {
  const now = NOW.exec(text);
  if (now) {
    const n = now[2] === undefined ? 0 : Number(now[2]);
    return { kind: 'now', text, offsetSeconds: now[1] === '-' ? -n : n };
  }
  if (IDENTIFIER.test(text)) return { kind: 'identifier', text };
  if (SERVER_VALUE.test(text)) return { kind: 'server-value', text };
  return undefined;
}

/** A bound value: a TTLV leaf (tag kept for messages; only type and value matter for equality). */
export type LeafNode = Exclude<TtlvNode, { type: 'Structure' }>;

/** The bindings of one file. Identifiers are never rebound; server values and captures are. */
export class Bindings {
  readonly identifiers = new Map<string, LeafNode>();
  readonly serverValues = new Map<string, LeafNode>();
  /** Literal value key (see literalKey) → the value the server actually sent in its place. */
  readonly captures = new Map<string, LeafNode>();
  /** Tag → the latest value of that tag in any response payload, for unbound request placeholders. */
  readonly latestByTag = new Map<number, LeafNode>();

}

/** Same item type and same value. */
export function sameLeaf(x: LeafNode, y: LeafNode): boolean {
  if (x.type !== y.type) return false;
  if (x.type === 'ByteString') return Buffer.compare(Buffer.from(x.value), Buffer.from(y.value as Uint8Array)) === 0;
  return x.value === y.value;
}

/**
 * Key that identifies a literal value across the expected responses and later requests of a
 * file: the item type plus a canonical text (byte strings compare case-insensitively).
 */
export function literalKey(type: ItemTypeName, text: string): string | undefined {
  if (type === 'ByteString') return `ByteString:${text.trim().toLowerCase()}`;
  if (type === 'TextString') return `TextString:${text}`;
  return undefined;
}

/** Key of an actual leaf, comparable with literalKey of the XML text that denotes the same value. */
export function leafKey(node: LeafNode): string | undefined {
  if (node.type === 'ByteString') return `ByteString:${bytesToHex(node.value)}`;
  if (node.type === 'TextString') return `TextString:${node.value}`;
  return undefined;
}

/**
 * The XML `value` text that xmlToTtlv reads back as exactly this leaf's value, so a binding can
 * be spliced into a request through the XML converter's value hook.
 */
export function leafText(node: LeafNode): string {
  return plainLeafText(node);
}

/** Request text for `$NOW±N` at `nowMs`, in the form the item type takes. */
export function nowText(type: ItemTypeName, offsetSeconds: number, nowMs: number): string | undefined {
  const seconds = BigInt(Math.floor(nowMs / 1000) + offsetSeconds);
  if (type === 'DateTime') return formatDateTime(seconds);
  if (type === 'DateTimeExtended') return formatDateTimeExtended(seconds * 1_000_000n + BigInt(Math.floor(nowMs % 1000)) * 1000n);
  return undefined;
}

/**
 * A neutral value of each item type. Placeholders are replaced by it when an expected response
 * is converted to TTLV; the comparator then reads the placeholder from the side table, never
 * this value.
 */
export function neutralText(type: ItemTypeName): string {
  switch (type) {
    case 'TextString':
      return '';
    case 'ByteString':
      return '';
    case 'DateTime':
    case 'DateTimeExtended':
      return '1970-01-01T00:00:00+00:00';
    case 'Enumeration':
      return '0x00000000';
    case 'Boolean':
      return 'false';
    case 'BigInteger':
      return '0000000000000000';
    default:
      return '0';
  }
}
