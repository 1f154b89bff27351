/**
 * The SQLite schema of the object store, as ordered migrations. Migration N brings a database
 * from `PRAGMA user_version` N-1 to N; db.ts runs each in its own transaction and refuses a
 * database whose version is newer than the last one listed here. Never edit a released
 * migration: append a new one.
 *
 * Shape: one row per managed object (KMIP 1.4 §2.2 / 2.1 §2) holding only HSM-wrapped material;
 * one row per attribute instance (1.4 §3 / 2.1 §4) with its canonical TTLV bytes and the index
 * keys from ../index-keys.ts, so every Locate filter is an index search.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Database) => void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'objects and attributes',
    up: (db) =>
      db.exec(`
        CREATE TABLE objects (
          uid         TEXT    NOT NULL PRIMARY KEY,
          tenant      TEXT    NOT NULL,
          object_type INTEGER NOT NULL,
          state       INTEGER NOT NULL,
          version     INTEGER NOT NULL,
          created_at  INTEGER NOT NULL,
          kek_version INTEGER,
          wrapped     BLOB,
          mac         BLOB,
          meta        BLOB,
          CHECK ((kek_version IS NULL) = (wrapped IS NULL)
             AND (wrapped IS NULL) = (mac IS NULL)
             AND (mac IS NULL) = (meta IS NULL))
        );
        -- Locate without a selective attribute walks one tenant newest first (or all, for operators).
        CREATE INDEX objects_tenant_created ON objects (tenant, created_at, uid);
        CREATE INDEX objects_tenant_type_state ON objects (tenant, object_type, state, created_at, uid);
        CREATE INDEX objects_created ON objects (created_at, uid);
        -- KEK rotation finds what is still wrapped under an old key.
        CREATE INDEX objects_kek_version ON objects (kek_version) WHERE kek_version IS NOT NULL;

        CREATE TABLE attributes (
          uid       TEXT    NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
          name      TEXT    NOT NULL,
          idx       INTEGER NOT NULL,
          ord       INTEGER NOT NULL,
          item_type INTEGER NOT NULL,
          value     BLOB    NOT NULL,
          key_text  TEXT,
          key_num   INTEGER,
          PRIMARY KEY (uid, name, idx)
        ) WITHOUT ROWID;
        CREATE INDEX attributes_key_text ON attributes (name, key_text) WHERE key_text IS NOT NULL;
        CREATE INDEX attributes_key_num ON attributes (name, key_num) WHERE key_num IS NOT NULL;
      `),
  },
];

/** The schema version this build writes. */
export const schemaVersion = migrations.length;
