/**
 * The PostgreSQL schema of the object store, as ordered migrations: the same numbering idea as
 * the SQLite store (migration N brings a database from version N-1 to N; never edit a released
 * one, append). The version lives in `kmipd_schema_version` (one row per applied migration), the
 * PostgreSQL counterpart of SQLite's `PRAGMA user_version`.
 *
 * Several kmipd nodes may start against one database at once: migrating holds a session-level
 * advisory lock, so exactly one node applies each step (each in its own transaction: a failed
 * step leaves the previous version) and the others then find the schema current. A database
 * whose version is newer than the last migration listed here is refused (StoreSchemaTooNew).
 *
 * Shape: the SQLite tables, in PostgreSQL types (see ../sqlite/migrations.ts for the why of each
 * index). Texts compared or ordered in SQL use the "C" collation, so key prefixes and identifier
 * order are byte order on every server, whatever its locale.
 */
import type { Pool, PoolClient } from 'pg';
import { StoreError, StoreSchemaTooNew } from '../errors.js';
import { toStoreError } from './transaction.js';
import { accessSchemaSteps } from './access-schema.js';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  /** One or more SQL statements, run in one transaction. */
  readonly sql: string;
}

export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'objects and attributes',
    sql: `
      CREATE TABLE objects (
        uid         text COLLATE "C" NOT NULL PRIMARY KEY,
        tenant      text COLLATE "C" NOT NULL,
        object_type integer NOT NULL,
        state       integer NOT NULL,
        version     integer NOT NULL,
        created_at  bigint  NOT NULL,
        kek_version integer,
        wrapped     bytea,
        mac         bytea,
        meta        bytea,
        CHECK ((kek_version IS NULL) = (wrapped IS NULL)
           AND (wrapped IS NULL) = (mac IS NULL)
           AND (mac IS NULL) = (meta IS NULL))
      );
      CREATE INDEX objects_tenant_created ON objects (tenant, created_at, uid);
      CREATE INDEX objects_tenant_type_state ON objects (tenant, object_type, state, created_at, uid);
      CREATE INDEX objects_created ON objects (created_at, uid);
      CREATE INDEX objects_kek_version ON objects (kek_version) WHERE kek_version IS NOT NULL;

      CREATE TABLE attributes (
        uid       text COLLATE "C" NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
        name      text COLLATE "C" NOT NULL,
        idx       integer NOT NULL,
        ord       integer NOT NULL,
        item_type integer NOT NULL,
        value     bytea   NOT NULL,
        key_text  text COLLATE "C",
        key_num   bigint,
        PRIMARY KEY (uid, name, idx)
      );
      CREATE INDEX attributes_key_text ON attributes (name, key_text) WHERE key_text IS NOT NULL;
      CREATE INDEX attributes_key_num ON attributes (name, key_num) WHERE key_num IS NOT NULL;
    `,
  },
  // K10: access control, audit trail (2) and key rotation (3), shared by every node: ./access-schema.ts.
  ...accessSchemaSteps.map((step, i) => ({ version: 2 + i, name: step.name, sql: step.sql })),
  {
    // K9: the object's attributes as one list on its row, stamped with the version it was written
    // for (../sqlite/migrations.ts, version 4, says why). Rows written before stay without a
    // list and are read from their attribute rows until their next write.
    version: 2 + accessSchemaSteps.length,
    name: 'attribute list on the object row',
    sql: 'ALTER TABLE objects ADD COLUMN attribute_list bytea, ADD COLUMN attribute_list_version integer',
  },
];

/** The schema version this build writes. */
export const postgresSchemaVersion = postgresMigrations.length;

/** Any 64-bit number shared by every kmipd: the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 0x6b6d6970_6400n; // "kmipd"

const VERSION_TABLE = `
  CREATE TABLE IF NOT EXISTS kmipd_schema_version (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/** The applied schema version (0: a database kmipd never set up). */
export async function readSchemaVersion(client: Pick<PoolClient, 'query'>): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('kmipd_schema_version')::text AS t");
  if (exists.rows[0]?.t == null) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM kmipd_schema_version');
  return r.rows[0]?.v ?? 0;
}

export interface MigrateResult {
  from: number;
  to: number;
}

/**
 * Brings the database to the last listed version (`apply: false`: only checks that it is there).
 * `where` names the database in errors (a URL without its password).
 */
export async function migratePostgres(
  pool: Pool,
  where: string,
  opts: { migrations?: readonly PostgresMigration[]; apply?: boolean } = {},
): Promise<MigrateResult> {
  const list = opts.migrations ?? postgresMigrations;
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} is out of order: expected version ${i + 1}`);
  });
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toStoreError(err, `connect to ${where}`);
  }
  let locked = false;
  let broken: Error | undefined;
  try {
    const found = await readSchemaVersion(client);
    if (found > list.length) throw new StoreSchemaTooNew(where, found, list.length);
    if (found === list.length) return { from: found, to: found };
    if (opts.apply === false) {
      throw new StoreError('Io', `database ${where} has schema version ${found}, this kmipd needs ${list.length}: run kmipd migrate`);
    }
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    locked = true;
    await client.query(VERSION_TABLE);
    // Another node may have migrated while this one waited for the lock.
    const start = await readSchemaVersion(client);
    if (start > list.length) throw new StoreSchemaTooNew(where, start, list.length);
    for (const m of list.slice(start)) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO kmipd_schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw toStoreError(err, `migration ${m.version} (${m.name}) of ${where}`);
      }
    }
    return { from: found, to: list.length };
  } catch (err) {
    throw toStoreError(err, `schema check of ${where}`);
  } finally {
    if (locked) {
      try {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
      } catch (err) {
        broken = err as Error;
      }
    }
    client.release(broken);
  }
}
