/**
 * PostgreSQL tables beyond the object store, appended to its migrations (./migrations.ts): access
 * control and the audit trail (K7 rows, K10 cluster semantics), and key rotation (K8). Access: the
 * same rows as the SQLite schema, plus two single-row tables that make them safe to share between
 * nodes: `access_version` (bumped by every binding, certificate or revocation change; nodes poll
 * it) and `audit_head` (locked FOR UPDATE by every append, so the nodes' records form one chain).
 * Times are milliseconds since the epoch (BIGINT), as in SQLite.
 */
import { GENESIS_HASH } from '../access-types.js';

/** Steps 2 and 3 of the PostgreSQL migrations (./migrations.ts numbers them). */
export const accessSchemaSteps: readonly { name: string; sql: string }[] = [
  {
    name: 'access control and audit trail',
    sql: `
CREATE TABLE role_bindings (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  position INTEGER NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  tenant TEXT NOT NULL,
  role TEXT NOT NULL,
  note TEXT,
  created_at BIGINT NOT NULL
);
CREATE TABLE client_certificates (
  fingerprint TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  issuer TEXT NOT NULL,
  serial TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  issued_at BIGINT NOT NULL
);
CREATE TABLE revoked_certificates (
  fingerprint TEXT PRIMARY KEY,
  name TEXT,
  revoked_at BIGINT NOT NULL,
  reason TEXT
);
CREATE TABLE access_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO access_version (id, version) VALUES (1, 1);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
`,
  },
  {
    name: 'key rotation policies, claims and history',
    // K8: src/rotation/types.ts; rows written by ./rotation.ts. Same shape as the SQLite tables.
    sql: `
CREATE TABLE rotation_policies (
  tenant TEXT COLLATE "C" NOT NULL,
  uid TEXT COLLATE "C" NOT NULL DEFAULT '',
  grp TEXT COLLATE "C" NOT NULL DEFAULT '',
  interval_s BIGINT NOT NULL CHECK (interval_s > 0),
  offset_s BIGINT,
  automatic BOOLEAN NOT NULL,
  grace_s BIGINT,
  updated_at BIGINT NOT NULL,
  CHECK (uid = '' OR grp = ''),
  PRIMARY KEY (tenant, uid, grp)
);
CREATE INDEX rotation_policies_uid ON rotation_policies (uid) WHERE uid <> '';
CREATE TABLE rotation_claims (
  uid TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE TABLE rotation_history (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  old_uid TEXT COLLATE "C" NOT NULL UNIQUE,
  new_uid TEXT COLLATE "C" NOT NULL UNIQUE,
  tenant TEXT COLLATE "C" NOT NULL,
  generation INTEGER NOT NULL,
  policy TEXT NOT NULL,
  at BIGINT NOT NULL
);
`,
  },
];
