/**
 * Rows ↔ managed objects (KMIP 1.4 §2.2 / 2.1 §2 with their §3 / §4 attributes): the prepared
 * statements that read and write one object, next to the code that uses them (no ORM).
 * All statements are synchronous; callers decide the transaction boundaries.
 */
import { StoreConflict } from '../errors.js';
import {
  decodeAttribute,
  decodeAttributeList,
  decodeValue,
  materialFromColumns,
  materialParams,
  type AttributeRecord,
  type PreparedObject,
} from '../prepared.js';
import type { StoredMaterial, StoredObject } from '../types.js';
import type { TtlvNode } from '../../ttlv/types.js';
import type { SqliteDatabase } from './db.js';

/** What read() selects, as a raw array (no per-row object with named keys): READ_COLUMNS order. */
type ReadRow = [
  tenant: string,
  objectType: number,
  state: number,
  version: number,
  createdAt: number,
  kekVersion: number | null,
  wrapped: Buffer | null,
  mac: Buffer | null,
  meta: Buffer | null,
  attributeList: Buffer | null,
  attributeListVersion: number | null,
];

interface AttributeRow {
  name: string;
  idx: number;
  ord: number;
  value: Buffer;
}

const OBJECT_COLUMNS = 'uid, tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta';
const READ_COLUMNS = 'tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta, attribute_list, attribute_list_version';

export class ObjectRows {
  private readonly s;

  constructor(private readonly db: SqliteDatabase) {
    const raw = <P extends unknown[]>(sql: string) => db.prepare<P, ReadRow>(sql).raw(true);
    this.s = {
      readScoped: raw<[string, string]>(`SELECT ${READ_COLUMNS} FROM objects WHERE uid = ? AND tenant = ?`),
      readAny: raw<[string]>(`SELECT ${READ_COLUMNS} FROM objects WHERE uid = ?`),
      attributes: db.prepare<[string], AttributeRow>('SELECT name, idx, ord, value FROM attributes WHERE uid = ?'),
      attributeValues: db.prepare<[string, string], { value: Buffer }>('SELECT value FROM attributes WHERE uid = ? AND name = ?'),
      // attribute_list is written by the same statements that (re)write the attribute rows, and
      // stamped with the version it was written for (see read()). In SET, `version` is the old value.
      insert: db.prepare(
        `INSERT INTO objects (${OBJECT_COLUMNS}, attribute_list, attribute_list_version) ` +
          'VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (uid) DO NOTHING',
      ),
      update: db.prepare(
        'UPDATE objects SET state = ?, version = version + 1, kek_version = ?, wrapped = ?, mac = ?, meta = ?, ' +
          'attribute_list = ?, attribute_list_version = version + 1 WHERE uid = ? AND tenant = ? AND version = ?',
      ),
      updateUnchecked: db.prepare(
        'UPDATE objects SET state = ?, kek_version = ?, wrapped = ?, mac = ?, meta = ?, attribute_list = ?, attribute_list_version = version ' +
          'WHERE uid = ? AND tenant = ?',
      ),
      // The attributes do not change: a list that was current stays current.
      updateMaterial: db.prepare(
        'UPDATE objects SET version = version + 1, kek_version = ?, wrapped = ?, mac = ?, meta = ?, ' +
          'attribute_list_version = CASE WHEN attribute_list_version = version THEN version + 1 END ' +
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

  /**
   * One indexed row and one decode: the attribute list column, not the attribute rows. The list
   * counts only if it was written for the row's current version: a writer that does not know the
   * column (a kmipd older than migration 4 still running against a migrated file, or a future
   * path that forgets it) bumps the version without restamping it, so its change is read from the
   * attribute rows instead of from a stale list.
   */
  read(uid: string, tenant: string | null): StoredObject | undefined {
    const row = tenant === null ? this.s.readAny.get(uid) : this.s.readScoped.get(uid, tenant);
    if (row === undefined) return undefined;
    const [rowTenant, objectType, state, version, createdAt, kekVersion, wrapped, mac, meta, stamped, stampedFor] = row;
    const list = stampedFor === version ? stamped : null;
    return {
      uid,
      tenant: rowTenant,
      objectType,
      state,
      version,
      createdAt,
      material: materialFromColumns(kekVersion, wrapped, mac, meta),
      attributes: list === null ? this.attributesFromRows(uid) : decodeAttributeList(list),
    };
  }

  /** The attribute rows in stored order: for a row whose list is missing or not current. */
  private attributesFromRows(uid: string) {
    // Sorted in JS: ORDER BY ord would cost SQLite a temp B-tree per read.
    return this.s.attributes
      .all(uid)
      .sort((a, b) => a.ord - b.ord)
      .map(decodeAttribute);
  }

  /** The values of one attribute of an object (no tenant check: for candidates a scoped query returned). */
  attributeValues(uid: string, name: string): TtlvNode[] {
    return this.s.attributeValues.all(uid, name).map((r) => decodeValue(r.value));
  }

  insert(obj: PreparedObject): void {
    const m = materialParams(obj.material);
    const r = this.s.insert.run(obj.uid, obj.tenant, obj.objectType, obj.state, obj.createdAt, ...m, obj.attributeList);
    if (r.changes === 0) throw new StoreConflict(obj.uid, 'exists');
    this.writeAttributes(obj.uid, obj.attributes);
  }

  /** Full replacement guarded by the version read; `checked: false` only inside a throwaway savepoint. */
  replace(obj: PreparedObject, checked: boolean): void {
    const m = materialParams(obj.material);
    const r = checked
      ? this.s.update.run(obj.state, ...m, obj.attributeList, obj.uid, obj.tenant, obj.version)
      : this.s.updateUnchecked.run(obj.state, ...m, obj.attributeList, obj.uid, obj.tenant);
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
      const visible = tenant === null ? this.s.readAny.get(uid) : this.s.readScoped.get(uid, tenant);
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
