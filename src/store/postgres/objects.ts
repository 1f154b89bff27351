/**
 * Rows ↔ managed objects on PostgreSQL (KMIP 1.4 §2.2 / 2.1 §2 with their §3 / §4 attributes):
 * the statements that read and write one object, next to the code that uses them (no ORM).
 * Named statements, so each connection parses them once. Callers decide transaction boundaries.
 *
 * Every statement is tenant-scoped (operator scope: a statement without the tenant predicate).
 * A version-guarded UPDATE takes the row lock, so of two units writing one object under READ
 * COMMITTED the second waits, then finds the version moved and fails with StoreConflict.
 */
import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
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

export type Queryable = Pick<Pool | PoolClient, 'query'>;

interface ObjectJoinRow {
  uid: string;
  tenant: string;
  object_type: number;
  state: number;
  version: number;
  created_at: string;
  kek_version: number | null;
  wrapped: Buffer | null;
  mac: Buffer | null;
  meta: Buffer | null;
  attribute_list: Buffer | null;
  attribute_list_version: number | null;
  name: string | null;
  idx: number | null;
  ord: number | null;
  value: Buffer | null;
}

const OBJECT_COLUMNS = 'o.uid, o.tenant, o.object_type, o.state, o.version, o.created_at, o.kek_version, o.wrapped, o.mac, o.meta';
// One round trip per read, normally one row: the attribute rows are joined only when the list on
// the object row is not current (written before migration 4, or by a writer that skipped it),
// and then the object's columns repeat on each of them. See readObject().
const READ =
  `SELECT ${OBJECT_COLUMNS}, o.attribute_list, o.attribute_list_version, a.name, a.idx, a.ord, a.value ` +
  'FROM objects o LEFT JOIN attributes a ON a.uid = o.uid AND o.attribute_list_version IS DISTINCT FROM o.version WHERE o.uid = $1';

const sql = {
  readScoped: { name: 'kmipd_read_scoped', text: `${READ} AND o.tenant = $2` },
  readAny: { name: 'kmipd_read_any', text: READ },
  existsScoped: { name: 'kmipd_exists_scoped', text: 'SELECT 1 FROM objects WHERE uid = $1 AND tenant = $2' },
  existsAny: { name: 'kmipd_exists_any', text: 'SELECT 1 FROM objects WHERE uid = $1' },
  insert: {
    name: 'kmipd_insert',
    text:
      'INSERT INTO objects (uid, tenant, object_type, state, version, created_at, kek_version, wrapped, mac, meta, attribute_list, attribute_list_version) ' +
      'VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, 1) ON CONFLICT (uid) DO NOTHING',
  },
  update: {
    name: 'kmipd_update',
    text:
      'UPDATE objects SET state = $1, version = version + 1, kek_version = $2, wrapped = $3, mac = $4, meta = $5, ' +
      'attribute_list = $6, attribute_list_version = version + 1 WHERE uid = $7 AND tenant = $8 AND version = $9',
  },
  updateUnchecked: {
    name: 'kmipd_update_unchecked',
    text:
      'UPDATE objects SET state = $1, kek_version = $2, wrapped = $3, mac = $4, meta = $5, attribute_list = $6, ' +
      'attribute_list_version = version WHERE uid = $7 AND tenant = $8',
  },
  updateMaterial: {
    name: 'kmipd_update_material',
    text:
      'UPDATE objects SET version = version + 1, kek_version = $1, wrapped = $2, mac = $3, meta = $4, ' +
      'attribute_list_version = CASE WHEN attribute_list_version = version THEN version + 1 END ' +
      'WHERE uid = $5 AND tenant = coalesce($6, tenant) AND version = $7',
  },
  updateMaterialUnchecked: {
    name: 'kmipd_update_material_unchecked',
    text: 'UPDATE objects SET kek_version = $1, wrapped = $2, mac = $3, meta = $4 WHERE uid = $5 AND tenant = coalesce($6, tenant)',
  },
  deleteAttributes: { name: 'kmipd_delete_attributes', text: 'DELETE FROM attributes WHERE uid = $1' },
  // All of an object's attributes in one statement: one array per column.
  insertAttributes: {
    name: 'kmipd_insert_attributes',
    text:
      'INSERT INTO attributes (uid, name, idx, ord, item_type, value, key_text, key_num) ' +
      'SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::bytea[], $7::text[], $8::int8[])',
  },
  attributeValues: {
    name: 'kmipd_attribute_values',
    text: 'SELECT uid, name, value FROM attributes WHERE uid = ANY($1::text[]) AND name = ANY($2::text[]) ORDER BY uid, ord',
  },
  byKekScoped: { name: 'kmipd_by_kek_scoped', text: 'SELECT uid FROM objects WHERE kek_version = $1 AND tenant = $2 LIMIT $3' },
  byKekAny: { name: 'kmipd_by_kek_any', text: 'SELECT uid FROM objects WHERE kek_version = $1 LIMIT $2' },
} as const;

async function run<R extends QueryResultRow>(db: Queryable, stmt: { name: string; text: string }, values: unknown[]) {
  return db.query<R>({ name: stmt.name, text: stmt.text, values } as QueryConfig);
}

export async function readObject(db: Queryable, uid: string, tenant: string | null): Promise<StoredObject | undefined> {
  const r = tenant === null ? await run<ObjectJoinRow>(db, sql.readAny, [uid]) : await run<ObjectJoinRow>(db, sql.readScoped, [uid, tenant]);
  const first = r.rows[0];
  if (first === undefined) return undefined;
  // The list only if written for this version (as in ../sqlite/objects.ts read()); else the rows.
  const list = first.attribute_list_version === first.version ? first.attribute_list : null;
  const attributes =
    list !== null
      ? decodeAttributeList(list)
      : r.rows
          .filter((a): a is ObjectJoinRow & { name: string; idx: number; ord: number; value: Buffer } => a.name !== null)
          .sort((a, b) => a.ord - b.ord)
          .map(decodeAttribute);
  return {
    uid: first.uid,
    tenant: first.tenant,
    objectType: first.object_type,
    state: first.state,
    version: first.version,
    createdAt: Number(first.created_at),
    material: materialFromColumns(first.kek_version, first.wrapped, first.mac, first.meta),
    attributes,
  };
}

/** Values of the named attributes of several objects (no tenant check: for candidates a scoped query returned). */
export async function attributeValues(db: Queryable, uids: readonly string[], names: readonly string[]): Promise<Map<string, TtlvNode[]>> {
  const out = new Map<string, TtlvNode[]>();
  if (uids.length === 0) return out;
  const r = await run<{ uid: string; name: string; value: Buffer }>(db, sql.attributeValues, [uids, [...new Set(names)]]);
  for (const row of r.rows) {
    const key = `${row.uid}\u0000${row.name}`;
    const list = out.get(key) ?? [];
    list.push(decodeValue(row.value));
    out.set(key, list);
  }
  return out;
}

export async function insertObject(db: Queryable, obj: PreparedObject, checked: boolean): Promise<void> {
  const m = materialParams(obj.material);
  const r = await run(db, sql.insert, [obj.uid, obj.tenant, obj.objectType, obj.state, obj.createdAt, ...m, obj.attributeList]);
  if (r.rowCount === 0) {
    // In a read view a clashing identifier simply keeps the existing row; the commit will fail.
    if (checked) throw new StoreConflict(obj.uid, 'exists');
    return;
  }
  await writeAttributes(db, obj.uid, obj.attributes);
}

/** Full replacement guarded by the version read; `checked: false` only inside a read view that rolls back. */
export async function replaceObject(db: Queryable, obj: PreparedObject, checked: boolean): Promise<void> {
  const m = materialParams(obj.material);
  const r = checked
    ? await run(db, sql.update, [obj.state, ...m, obj.attributeList, obj.uid, obj.tenant, obj.version])
    : await run(db, sql.updateUnchecked, [obj.state, ...m, obj.attributeList, obj.uid, obj.tenant]);
  if (r.rowCount === 0) {
    if (!checked) return;
    const exists = await run(db, sql.existsScoped, [obj.uid, obj.tenant]);
    throw new StoreConflict(obj.uid, exists.rowCount ? 'version' : 'missing');
  }
  await run(db, sql.deleteAttributes, [obj.uid]);
  await writeAttributes(db, obj.uid, obj.attributes);
}

export async function replaceMaterial(
  db: Queryable,
  uid: string,
  tenant: string | null,
  material: StoredMaterial | null,
  expectedVersion: number,
  checked: boolean,
): Promise<void> {
  const m = materialParams(material);
  const r = checked
    ? await run(db, sql.updateMaterial, [...m, uid, tenant, expectedVersion])
    : await run(db, sql.updateMaterialUnchecked, [...m, uid, tenant]);
  if (r.rowCount === 0 && checked) {
    const visible = tenant === null ? await run(db, sql.existsAny, [uid]) : await run(db, sql.existsScoped, [uid, tenant]);
    throw new StoreConflict(uid, visible.rowCount ? 'version' : 'missing');
  }
}

export async function byKekVersion(db: Queryable, kekVersion: number, tenant: string | null, limit: number): Promise<string[]> {
  const n = Math.max(0, Math.floor(limit));
  const r =
    tenant === null
      ? await run<{ uid: string }>(db, sql.byKekAny, [kekVersion, n])
      : await run<{ uid: string }>(db, sql.byKekScoped, [kekVersion, tenant, n]);
  return r.rows.map((row) => row.uid);
}

async function writeAttributes(db: Queryable, uid: string, attributes: readonly AttributeRecord[]): Promise<void> {
  if (attributes.length === 0) return;
  await run(db, sql.insertAttributes, [
    uid,
    attributes.map((a) => a.name),
    attributes.map((a) => a.idx),
    attributes.map((_, ord) => ord),
    attributes.map((a) => a.itemType),
    attributes.map((a) => a.value),
    attributes.map((a) => a.keyText),
    attributes.map((a) => (a.keyNum === null ? null : a.keyNum.toString())),
  ]);
}
