/**
 * Rows ↔ managed objects (KMIP 1.4 §2.2 / 2.1 §2 with their §3 / §4 attributes): the prepared
 * statements that read and write one object, next to the code that uses them (no ORM).
 * All statements are synchronous; callers decide the transaction boundaries.
 */
import { decodeTtlv } from '../../ttlv/index.js';
import { StoreConflict, StoreError } from '../errors.js';
import { indexKeys, itemTypeCode, valueBytes } from '../index-keys.js';
import type { StoredAttribute, StoredMaterial, StoredObject } from '../types.js';
import type { TtlvNode } from '../../ttlv/types.js';
import type { SqliteDatabase } from './db.js';

interface ObjectRow {
  uid: string;
  tenant: string;
  object_type: number;
  state: number;
  version: number;
  created_at: number;
  kek_version: number | null;
  wrapped: Buffer | null;
  mac: Buffer | null;
  meta: Buffer | null;
}

interface AttributeRow {
  name: string;
  idx: number;
  ord: number;
  value: Buffer;
}

/** Stored attribute values are our own canonical encodings: generous limits, still bounded. */
const VALUE_LIMITS = { maxSize: 16 * 1024 * 1024, maxDepth: 64 };

const OBJECT_COLUMNS = 'uid, tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta';

/** Attributes that are object columns, never attribute rows (see ../types.ts). */
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

export class ObjectRows {
  private readonly s;

  constructor(private readonly db: SqliteDatabase) {
    this.s = {
      getScoped: db.prepare<[string, string], ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE uid = ? AND tenant = ?`),
      getAny: db.prepare<[string], ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE uid = ?`),
      // Sorted in JS: ORDER BY ord would cost SQLite a temp B-tree per read (~30% of a get).
      attributes: db.prepare<[string], AttributeRow>('SELECT name, idx, ord, value FROM attributes WHERE uid = ?'),
      attributeValues: db.prepare<[string, string], { value: Buffer }>('SELECT value FROM attributes WHERE uid = ? AND name = ?'),
      insert: db.prepare(
        `INSERT INTO objects (${OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING`,
      ),
      update: db.prepare(
        'UPDATE objects SET state = ?, version = version + 1, kek_version = ?, wrapped = ?, mac = ?, meta = ? ' +
          'WHERE uid = ? AND tenant = ? AND version = ?',
      ),
      updateUnchecked: db.prepare(
        'UPDATE objects SET state = ?, kek_version = ?, wrapped = ?, mac = ?, meta = ? WHERE uid = ? AND tenant = ?',
      ),
      updateMaterial: db.prepare(
        'UPDATE objects SET version = version + 1, kek_version = ?, wrapped = ?, mac = ?, meta = ? ' +
          'WHERE uid = ? AND tenant = coalesce(?, tenant) AND version = ?',
      ),
      updateMaterialUnchecked: db.prepare(
        'UPDATE objects SET kek_version = ?, wrapped = ?, mac = ?, meta = ? WHERE uid = ? AND tenant = coalesce(?, tenant)',
      ),
      exists: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM objects WHERE uid = ? AND tenant = ?'),
      deleteAttributes: db.prepare('DELETE FROM attributes WHERE uid = ?'),
      insertAttribute: db.prepare(
        'INSERT INTO attributes (uid, name, idx, ord, item_type, value, key_text, key_num) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      byKekScoped: db.prepare<[number, string, number], { uid: string }>(
        'SELECT uid FROM objects WHERE kek_version = ? AND tenant = ? LIMIT ?',
      ),
      byKekAny: db.prepare<[number, number], { uid: string }>('SELECT uid FROM objects WHERE kek_version = ? LIMIT ?'),
    };
  }

  read(uid: string, tenant: string | null): StoredObject | undefined {
    const row = tenant === null ? this.s.getAny.get(uid) : this.s.getScoped.get(uid, tenant);
    if (row === undefined) return undefined;
    return {
      uid: row.uid,
      tenant: row.tenant,
      objectType: row.object_type,
      state: row.state,
      version: row.version,
      createdAt: row.created_at,
      material:
        row.kek_version === null || row.wrapped === null || row.mac === null || row.meta === null
          ? null
          : { kekVersion: row.kek_version, wrapped: row.wrapped, mac: row.mac, meta: row.meta },
      attributes: this.s.attributes
        .all(uid)
        .sort((a, b) => a.ord - b.ord)
        .map(decodeAttribute),
    };
  }

  /** The values of one attribute of an object (no tenant check: for candidates a scoped query returned). */
  attributeValues(uid: string, name: string): TtlvNode[] {
    return this.s.attributeValues.all(uid, name).map((r) => decodeTtlv(r.value, VALUE_LIMITS));
  }

  insert(obj: PreparedObject): void {
    const m = materialParams(obj.material);
    const r = this.s.insert.run(obj.uid, obj.tenant, obj.objectType, obj.state, obj.createdAt, ...m);
    if (r.changes === 0) throw new StoreConflict(obj.uid, 'exists');
    this.writeAttributes(obj.uid, obj.attributes);
  }

  /** Full replacement guarded by the version read; `checked: false` only inside a throwaway savepoint. */
  replace(obj: PreparedObject, checked: boolean): void {
    const m = materialParams(obj.material);
    const r = checked
      ? this.s.update.run(obj.state, ...m, obj.uid, obj.tenant, obj.version)
      : this.s.updateUnchecked.run(obj.state, ...m, obj.uid, obj.tenant);
    if (r.changes === 0) {
      if (!checked) return;
      throw new StoreConflict(obj.uid, this.s.exists.get(obj.uid, obj.tenant) ? 'version' : 'missing');
    }
    this.s.deleteAttributes.run(obj.uid);
    this.writeAttributes(obj.uid, obj.attributes);
  }

  replaceMaterial(
    uid: string,
    tenant: string | null,
    material: StoredMaterial | null,
    expectedVersion: number,
    checked: boolean,
  ): void {
    const m = materialParams(material);
    const r = checked
      ? this.s.updateMaterial.run(...m, uid, tenant, expectedVersion)
      : this.s.updateMaterialUnchecked.run(...m, uid, tenant);
    if (r.changes === 0 && checked) {
      const visible = tenant === null ? this.s.getAny.get(uid) : this.s.getScoped.get(uid, tenant);
      throw new StoreConflict(uid, visible ? 'version' : 'missing');
    }
  }

  byKekVersion(kekVersion: number, tenant: string | null, limit: number): string[] {
    const n = Math.max(0, Math.floor(limit));
    const rows = tenant === null ? this.s.byKekAny.all(kekVersion, n) : this.s.byKekScoped.all(kekVersion, tenant, n);
    return rows.map((r) => r.uid);
  }

  private writeAttributes(uid: string, attributes: readonly AttributeRecord[]): void {
    attributes.forEach((a, ord) => {
      this.s.insertAttribute.run(uid, a.name, a.idx, ord, a.itemType, a.value, a.keyText, a.keyNum);
    });
  }
}

function decodeAttribute(a: { name: string; idx: number; value: Buffer }): StoredAttribute {
  return { name: a.name, index: a.idx, value: decodeTtlv(a.value, VALUE_LIMITS) };
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

function materialParams(m: StoredMaterial | null): [number | null, Buffer | null, Buffer | null, Buffer | null] {
  if (m === null) return [null, null, null, null];
  return [m.kekVersion, asBuffer(m.wrapped), asBuffer(m.mac), asBuffer(m.meta)];
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
