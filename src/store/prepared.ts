/**
 * Managed objects (KMIP 1.4 §2.2 / 2.1 §2) as the stores buffer and write them, whatever the
 * database: attribute values (1.4 §3 / 2.1 §4) encoded once to their canonical bytes with their
 * index keys (./index-keys.ts), material copied so later changes to the caller's object cannot
 * leak into a unit, and the shape checks that make a bad object fail its caller, not a commit.
 */
import { Tag } from '../kmip/registry.js';
import { decodeTtlv, encodeStructureHeader, encodeTtlv } from '../ttlv/index.js';
import { StoreError } from './errors.js';
import { indexKeys, itemTypeCode, valueBytes } from './index-keys.js';
import type { StoredAttribute, StoredMaterial, StoredObject } from './types.js';
import { HEADER_LENGTH, type TtlvNode } from '../ttlv/types.js';

/** Stored attribute values are our own canonical encodings: generous limits, still bounded. */
const VALUE_LIMITS = { maxSize: 16 * 1024 * 1024, maxDepth: 64 };
/** The whole-object attribute list: as large as a database value may be (SQLite's default 1e9 bytes). */
const LIST_LIMITS = { maxSize: 1_000_000_000, maxDepth: 65 };

/** Attributes that are object columns, never attribute rows (see ./types.ts). */
const COLUMN_ATTRIBUTES = new Set(['UniqueIdentifier', 'ObjectType', 'State']);

/** One attribute instance, encoded once when the write is buffered. */
export interface AttributeRecord {
  name: string;
  idx: number;
  itemType: number;
  value: Buffer;
  keyText: string | null;
  keyNum: bigint | null;
}

/**
 * A buffered object: a private snapshot (material copied, attributes encoded), so later changes to
 * the caller's object cannot leak into the unit, and pending reads decode it like a committed row.
 */
export interface PreparedObject {
  uid: string;
  tenant: string;
  objectType: number;
  state: number;
  version: number;
  createdAt: number;
  material: StoredMaterial | null;
  attributes: AttributeRecord[];
  /** All of `attributes` as one item (see encodeAttributeList), written beside the attribute rows. */
  attributeList: Buffer;
}

/** A stored value's bytes back to a TTLV node (tagged AttributeValue). */
export function decodeValue(bytes: Uint8Array): TtlvNode {
  return decodeTtlv(bytes, VALUE_LIMITS);
}

export function decodeAttribute(a: { name: string; idx: number; value: Uint8Array }): StoredAttribute {
  return { name: a.name, index: a.idx, value: decodeValue(a.value) };
}

/**
 * Every attribute instance of an object, in stored order, as ONE canonical TTLV item, so that
 * reading an object is one row and one decode instead of a row and a decode per instance:
 * Attributes { Attribute { Attribute Name, Attribute Index, Attribute Value } ... } (the KMIP 1.4
 * §2.1.1 Attribute structure, always with its index). Built by concatenating the values'
 * canonical bytes (already encoded for the attribute rows), so both copies hold the same bytes.
 */
export function encodeAttributeList(attributes: readonly { name: string; idx: number; value: Uint8Array }[]): Buffer {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const a of attributes) {
    const name = nameItem(a.name);
    const index = a.idx < SMALL_INDEXES.length ? SMALL_INDEXES[a.idx]! : indexItem(a.idx);
    const length = name.length + index.length + a.value.length;
    parts.push(encodeStructureHeader(Tag.Attribute, length), name, index, a.value);
    total += HEADER_LENGTH + length;
  }
  return Buffer.concat([encodeStructureHeader(Tag.Attributes, total), ...parts], HEADER_LENGTH + total);
}

/**
 * Attribute Name items, encoded once per name: every write encodes the list, and names repeat
 * (the registry's, plus a deployment's custom ones). Bounded; never mutated (Buffer.concat copies).
 */
const NAME_ITEMS = new Map<string, Buffer>();
const NAME_ITEMS_MAX = 1024;

function nameItem(name: string): Buffer {
  let item = NAME_ITEMS.get(name);
  if (item === undefined) {
    item = encodeTtlv({ tag: Tag.AttributeName, type: 'TextString', value: name });
    if (NAME_ITEMS.size < NAME_ITEMS_MAX) NAME_ITEMS.set(name, item);
  }
  return item;
}

const indexItem = (idx: number): Buffer => encodeTtlv({ tag: Tag.AttributeIndex, type: 'Integer', value: idx });
const SMALL_INDEXES: readonly Buffer[] = Array.from({ length: 16 }, (_, i) => indexItem(i));

/** The attributes of an encoded list (encodeAttributeList), in its order, shaped like decodeAttribute's. */
export function decodeAttributeList(bytes: Uint8Array): StoredAttribute[] {
  const root = decodeTtlv(bytes, LIST_LIMITS);
  if (root.type !== 'Structure' || root.tag !== Tag.Attributes) throw badList();
  return root.value.map((item) => {
    if (item.type !== 'Structure' || item.value.length !== 3) throw badList();
    const [name, index, value] = item.value as [TtlvNode, TtlvNode, TtlvNode];
    if (name.type !== 'TextString' || index.type !== 'Integer' || value.tag !== Tag.AttributeValue) throw badList();
    return { name: name.value, index: index.value, value };
  });
}

function badList(): StoreError {
  return new StoreError('Io', 'a stored attribute list is not in the expected shape');
}

/** Validates and snapshots an object for buffering. */
export function prepareObject(obj: StoredObject): PreparedObject {
  validateObject(obj);
  const attributes = obj.attributes.map((a): AttributeRecord => {
    const keys = indexKeys(a.name, a.value);
    return {
      name: a.name,
      idx: a.index,
      itemType: itemTypeCode(a.value),
      value: valueBytes(a.value),
      keyText: keys.text,
      keyNum: keys.num,
    };
  });
  return {
    uid: obj.uid,
    tenant: obj.tenant,
    objectType: obj.objectType,
    state: obj.state,
    version: obj.version,
    createdAt: obj.createdAt,
    material: copyMaterial(obj.material),
    attributes,
    attributeList: encodeAttributeList(attributes),
  };
}

/** The object a buffered snapshot stands for, shaped exactly like a committed read. */
export function preparedToStored(p: PreparedObject): StoredObject {
  return {
    uid: p.uid,
    tenant: p.tenant,
    objectType: p.objectType,
    state: p.state,
    version: p.version,
    createdAt: p.createdAt,
    material: copyMaterial(p.material),
    attributes: decodeAttributeList(p.attributeList),
  };
}

export function copyMaterial(m: StoredMaterial | null): StoredMaterial | null {
  if (m === null) return null;
  return { kekVersion: m.kekVersion, wrapped: Buffer.from(m.wrapped), mac: Buffer.from(m.mac), meta: Buffer.from(m.meta) };
}

/** The material columns (kek_version, wrapped, mac, meta) of a write; all null without material. */
export function materialParams(m: StoredMaterial | null): [number | null, Buffer | null, Buffer | null, Buffer | null] {
  if (m === null) return [null, null, null, null];
  return [m.kekVersion, asBuffer(m.wrapped), asBuffer(m.mac), asBuffer(m.meta)];
}

/** Material from its four columns, or null when the object holds none. */
export function materialFromColumns(
  kekVersion: number | null,
  wrapped: Buffer | null,
  mac: Buffer | null,
  meta: Buffer | null,
): StoredMaterial | null {
  return kekVersion === null || wrapped === null || mac === null || meta === null ? null : { kekVersion, wrapped, mac, meta };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Shape checks done when a write is buffered, so a bad object fails its caller, not the group. */
function validateObject(obj: StoredObject): void {
  const bad = (why: string) => new StoreError('InvalidObject', `object ${obj.uid}: ${why}`);
  if (typeof obj.uid !== 'string' || obj.uid.length === 0) throw bad('empty unique identifier');
  if (typeof obj.tenant !== 'string' || obj.tenant.length === 0) throw bad('empty tenant');
  if (!Number.isSafeInteger(obj.createdAt)) throw bad('createdAt is not an integer');
  if (obj.material !== null && !Number.isSafeInteger(obj.material.kekVersion)) throw bad('kekVersion is not an integer');
  const seen = new Set<string>();
  for (const a of obj.attributes) {
    if (COLUMN_ATTRIBUTES.has(a.name)) throw bad(`${a.name} is a field of the object, not an attribute row`);
    if (!Number.isInteger(a.index) || a.index < 0) throw bad(`${a.name} has a bad attribute index`);
    const key = `${a.name}\u0000${a.index}`;
    if (seen.has(key)) throw bad(`${a.name} index ${a.index} appears twice`);
    seen.add(key);
  }
}
