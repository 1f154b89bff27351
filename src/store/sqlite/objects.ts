/**
 * Rows ↔ managed objects (KMIP 1.4 §2.2 / 2.1 §2 with their §3 / §4 attributes): the prepared
 * statements that read and write one object, next to the code that uses them (no ORM).
 * All statements are synchronous; callers decide the transaction boundaries.
 */
import { StoreConflict } from '../errors.js';
import { decodeAttribute, decodeValue, materialFromColumns, materialParams, type AttributeRecord, type PreparedObject } from '../prepared.js';
import type { StoredMaterial, StoredObject } from '../types.js';
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

const OBJECT_COLUMNS = 'uid, tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta';

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
      material: materialFromColumns(row.kek_version, row.wrapped, row.mac, row.meta),
      attributes: this.s.attributes
        .all(uid)
        .sort((a, b) => a.ord - b.ord)
        .map(decodeAttribute),
    };
  }

  /** The values of one attribute of an object (no tenant check: for candidates a scoped query returned). */
  attributeValues(uid: string, name: string): TtlvNode[] {
    return this.s.attributeValues.all(uid, name).map((r) => decodeValue(r.value));
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
