/**
 * The SQLite schema of the object store, as ordered migrations. Migration N brings a database
 * from `PRAGMA user_version` N-1 to N; db.ts runs each in its own transaction and refuses a
 * database whose version is newer than the last one listed here. Never edit a released
 * migration: append a new one.
 *
 * Shape: one row per managed object (KMIP 1.4 §2.2 / 2.1 §2) holding only HSM-wrapped material;
 * one row per attribute instance (1.4 §3 / 2.1 §4) with its canonical TTLV bytes and the index
 * keys from ../index-keys.ts, so every Locate filter is an index search; and (4) the same
 * instances once more on the object row as one encoded list, so reading an object is one row.
 */
import type { Database } from 'better-sqlite3';
import { encodeAttributeList } from '../prepared.js';

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
  {
    version: 2,
    name: 'role bindings, certificates, revocations and the audit trail',
    // K7: who may do what (src/authz), and the hash-chained record of what was done (src/audit).
    up: (db) =>
      db.exec(`
        -- First matching rule wins, in ascending position; id is stable for unbind.
        CREATE TABLE role_bindings (
          id         INTEGER PRIMARY KEY AUTOINCREMENT,
          position   INTEGER NOT NULL,
          field      TEXT    NOT NULL,
          value      TEXT    NOT NULL,
          tenant     TEXT    NOT NULL,
          role       TEXT    NOT NULL,
          note       TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX role_bindings_position ON role_bindings (position, id);

        -- Client certificates this deployment issued or signed (kmipd cert issue|sign).
        CREATE TABLE client_certificates (
          fingerprint TEXT    NOT NULL PRIMARY KEY,
          name        TEXT    NOT NULL UNIQUE,
          subject     TEXT    NOT NULL,
          issuer      TEXT    NOT NULL,
          serial      TEXT    NOT NULL,
          not_before  INTEGER NOT NULL,
          not_after   INTEGER NOT NULL,
          issued_at   INTEGER NOT NULL
        );

        -- Revoked certificates by SHA-256 fingerprint (ours or an external CA's).
        CREATE TABLE revoked_certificates (
          fingerprint TEXT    NOT NULL PRIMARY KEY,
          name        TEXT,
          revoked_at  INTEGER NOT NULL,
          reason      TEXT
        );

        -- The audit trail: body is the canonical serialisation the hash covers (src/audit/record.ts).
        CREATE TABLE audit_log (
          seq       INTEGER PRIMARY KEY,
          at        INTEGER NOT NULL,
          body      TEXT    NOT NULL,
          prev_hash TEXT    NOT NULL,
          hash      TEXT    NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        -- The last record's seq and hash, updated in the same transaction: truncation shows.
        CREATE TABLE audit_head (
          id   INTEGER PRIMARY KEY CHECK (id = 1),
          seq  INTEGER NOT NULL,
          hash TEXT    NOT NULL
        );
      `),
  },
  {
    version: 3,
    name: 'key rotation policies, claims and history',
    // K8: src/rotation/types.ts (RotationStore); rows written by src/store/sqlite/rotation.ts.
    up: (db) =>
      db.exec(`
        -- One policy per target: a key (uid), a tenant's Object Group (grp), or the tenant ('' for both).
        CREATE TABLE rotation_policies (
          tenant        TEXT    NOT NULL,
          uid           TEXT    NOT NULL DEFAULT '',
          grp           TEXT    NOT NULL DEFAULT '',
          interval_s    INTEGER NOT NULL CHECK (interval_s > 0),
          offset_s      INTEGER,
          automatic     INTEGER NOT NULL CHECK (automatic IN (0, 1)),
          grace_s       INTEGER,
          updated_at    INTEGER NOT NULL,
          CHECK (uid = '' OR grp = ''),
          PRIMARY KEY (tenant, uid, grp)
        ) WITHOUT ROWID;
        CREATE INDEX rotation_policies_uid ON rotation_policies (uid) WHERE uid <> '';

        -- A key taken by one scheduler (owner non-null, until lease_until), or backing off after failures.
        CREATE TABLE rotation_claims (
          uid             TEXT    NOT NULL PRIMARY KEY,
          tenant          TEXT    NOT NULL,
          owner           TEXT,
          lease_until     INTEGER NOT NULL DEFAULT 0,
          attempts        INTEGER NOT NULL DEFAULT 0,
          next_attempt_at INTEGER NOT NULL DEFAULT 0,
          last_error      TEXT
        ) WITHOUT ROWID;

        -- Every rotation done; UNIQUE (old_uid): a key is replaced at most once.
        CREATE TABLE rotation_history (
          seq        INTEGER PRIMARY KEY,
          old_uid    TEXT    NOT NULL UNIQUE,
          new_uid    TEXT    NOT NULL UNIQUE,
          tenant     TEXT    NOT NULL,
          generation INTEGER NOT NULL,
          policy     TEXT    NOT NULL,
          at         INTEGER NOT NULL
        );
      `),
  },
  {
    version: 4,
    name: 'attribute list on the object row',
    // K9: reading an object was its row plus one row and one TTLV decode per attribute instance
    // (~100 µs of a Get). The attribute rows stay the index Locate searches; attribute_list holds
    // the same instances in ord order as one item (../prepared.ts encodeAttributeList), written
    // with them, and attribute_list_version the object version it was written for (a reader
    // ignores a list whose version is not the row's: see objects.ts read()). Existing rows are
    // filled here from their attribute rows, in the same transaction.
    up: (db) => {
      db.exec('ALTER TABLE objects ADD COLUMN attribute_list BLOB');
      db.exec('ALTER TABLE objects ADD COLUMN attribute_list_version INTEGER');
      const uids = db.prepare<[], string>('SELECT uid FROM objects').pluck();
      const rows = db.prepare<[string], { name: string; idx: number; value: Buffer }>(
        'SELECT name, idx, value FROM attributes WHERE uid = ? ORDER BY ord',
      );
      const fill = db.prepare<[Buffer, string]>('UPDATE objects SET attribute_list = ?, attribute_list_version = version WHERE uid = ?');
      for (const uid of uids.all()) fill.run(encodeAttributeList(rows.all(uid)), uid);
    },
  },
];

/** The schema version this build writes. */
export const schemaVersion = migrations.length;
