/**
 * Managed objects (KMIP 1.4 §2.2 / 2.1 §2) as the stores buffer and write them, whatever the
 * database: attribute values (1.4 §3 / 2.1 §4) encoded once to their canonical bytes with their
 * index keys (./index-keys.ts), material copied so later changes to the caller's object cannot
 * leak into a unit, and the shape checks that make a bad object fail its caller, not a commit.
 */
import { decodeTtlv } from '../ttlv/index.js';
import { StoreError } from './errors.js';
import { indexKeys, itemTypeCode, valueBytes } from './index-keys.js';
import type { StoredAttribute, StoredMaterial, StoredObject } from './types.js';
import type { TtlvNode } from '../ttlv/types.js';

/** Stored attribute values are our own canonical encodings: generous limits, still bounded. */
const VALUE_LIMITS = { maxSize: 16 * 1024 * 1024, maxDepth: 64 };

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
}

/** A stored value's bytes back to a TTLV node (tagged AttributeValue). */
export function decodeValue(bytes: Uint8Array): TtlvNode {
  return decodeTtlv(bytes, VALUE_LIMITS);
}

export function decodeAttribute(a: { name: string; idx: number; value: Uint8Array }): StoredAttribute {
  return { name: a.name, index: a.idx, value: decodeValue(a.value) };
}

/** Validates and snapshots an object for buffering. */
export function prepareObject(obj: StoredObject): PreparedObject {
  validateObject(obj);
  return {
    uid: obj.uid,
    tenant: obj.tenant,
    objectType: obj.objectType,
    state: obj.state,
    version: obj.version,
    createdAt: obj.createdAt,
    material: copyMaterial(obj.material),
    attributes: obj.attributes.map((a) => {
      const keys = indexKeys(a.name, a.value);
      return {
        name: a.name,
        idx: a.index,
        itemType: itemTypeCode(a.value),
        value: valueBytes(a.value),
        keyText: keys.text,
        keyNum: keys.num,
      };
    }),
  };
}

/** The object a buffered snapshot stands for, shaped exactly like a committed read. */
export function preparedToStored(p: PreparedObject): StoredObject {
  return { ...p, material: copyMaterial(p.material), attributes: p.attributes.map(decodeAttribute) };
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
