/**
 * TTLV item types and the in-memory tree (KMIP 1.4 §9.1.1, KMIP 2.1 §9.1.1).
 * Nodes are plain data: a tag (3-byte number), an item type name and a value.
 * This module knows bytes and item types only; tag and enumeration names live in kmip/.
 */

/** Item type codes as they appear in the type byte. Names equal the KMIP XML `type=` spelling. */
export const ItemType = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;

export type ItemTypeName = keyof typeof ItemType;

/** Type byte → name, derived from ItemType. */
export const itemTypeName: ReadonlyMap<number, ItemTypeName> = new Map(
  (Object.entries(ItemType) as [ItemTypeName, number][]).map(([n, c]) => [c, n]),
);

export interface StructureNode { tag: number; type: 'Structure'; value: TtlvNode[] }
/** Signed 32-bit. */
export interface IntegerNode { tag: number; type: 'Integer'; value: number }
/** Signed 64-bit. */
export interface LongIntegerNode { tag: number; type: 'LongInteger'; value: bigint }
/** Arbitrary precision, two's complement big-endian on the wire, length a multiple of 8. */
export interface BigIntegerNode { tag: number; type: 'BigInteger'; value: bigint }
/** Unsigned 32-bit. */
export interface EnumerationNode { tag: number; type: 'Enumeration'; value: number }
export interface BooleanNode { tag: number; type: 'Boolean'; value: boolean }
export interface TextStringNode { tag: number; type: 'TextString'; value: string }
export interface ByteStringNode { tag: number; type: 'ByteString'; value: Uint8Array }
/** Seconds since the POSIX epoch, signed 64-bit. */
export interface DateTimeNode { tag: number; type: 'DateTime'; value: bigint }
/** Seconds, unsigned 32-bit. */
export interface IntervalNode { tag: number; type: 'Interval'; value: number }
/** Microseconds since the POSIX epoch, signed 64-bit (KMIP 2.0+). */
export interface DateTimeExtendedNode { tag: number; type: 'DateTimeExtended'; value: bigint }

export type TtlvNode =
  | StructureNode
  | IntegerNode
  | LongIntegerNode
  | BigIntegerNode
  | EnumerationNode
  | BooleanNode
  | TextStringNode
  | ByteStringNode
  | DateTimeNode
  | IntervalNode
  | DateTimeExtendedNode;

/** The value type that goes with an item type name. */
export type ValueOf<T extends ItemTypeName> = Extract<TtlvNode, { type: T }>['value'];

/** Length of the value field for fixed-size types; undefined for variable-length ones. */
export const fixedLength: Readonly<Partial<Record<ItemTypeName, number>>> = {
  Integer: 4,
  LongInteger: 8,
  Enumeration: 4,
  Boolean: 8,
  DateTime: 8,
  Interval: 4,
  DateTimeExtended: 8,
};

/** Every TTLV item starts with tag (3) + type (1) + length (4). */
export const HEADER_LENGTH = 8;

/** Values are padded to a multiple of 8 bytes. Arithmetic, not bit masks: lengths from the wire reach 2^32 - 1. */
export function paddedLength(length: number): number {
  return length + ((8 - (length % 8)) % 8);
}

/** Limits applied while decoding untrusted input. */
export interface DecodeLimits {
  /** Maximum total size of one message in bytes (header included). */
  maxSize: number;
  /** Maximum nesting depth of Structures (the top-level item is depth 1). */
  maxDepth: number;
}

export const defaultDecodeLimits: DecodeLimits = { maxSize: 1024 * 1024, maxDepth: 32 };
