/**
 * SQLite rows for access control (K7): role bindings in evaluation order, the client
 * certificates this deployment issued, and revocations by SHA-256 fingerprint. Written by the
 * CLI (its own connection), read by the server, which reloads when PRAGMA data_version moves
 * (it counts commits by other connections).
 */
import type { AccessSnapshot, AccessStore, ClientCertificateRecord, MatchField, NewRoleBinding, Revocation, RoleBinding } from '../access-types.js';
import type { SqliteDatabase } from './db.js';
import { durableWrite } from './group-commit.js';

interface BindingRow {
  id: number;
  position: number;
  field: string;
  value: string;
  tenant: string;
  role: string;
  note: string | null;
  created_at: number;
}

interface CertRow {
  fingerprint: string;
  name: string;
  subject: string;
  issuer: string;
  serial: string;
  not_before: number;
  not_after: number;
  issued_at: number;
}

interface RevocationRow {
  fingerprint: string;
  name: string | null;
  revoked_at: number;
  reason: string | null;
}

const toBinding = (r: BindingRow): RoleBinding => ({
  id: r.id,
  position: r.position,
  field: r.field as MatchField,
  value: r.value,
  tenant: r.tenant,
  role: r.role,
  note: r.note,
  createdAt: r.created_at,
});

const toCert = (r: CertRow): ClientCertificateRecord => ({
  fingerprint: r.fingerprint,
  name: r.name,
  subject: r.subject,
  issuer: r.issuer,
  serial: r.serial,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuedAt: r.issued_at,
});

export function sqliteAccessStore(db: SqliteDatabase, clock: () => number = Date.now): AccessStore {
  const s = {
    list: db.prepare('SELECT * FROM role_bindings ORDER BY position, id'),
    maxPos: db.prepare('SELECT COALESCE(MAX(position), 0) AS p FROM role_bindings'),
    shift: db.prepare('UPDATE role_bindings SET position = position + 1 WHERE position >= ?'),
    insert: db.prepare(
      'INSERT INTO role_bindings (position, field, value, tenant, role, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    ),
    remove: db.prepare('DELETE FROM role_bindings WHERE id = ?'),
    renumber: db.prepare('UPDATE role_bindings SET position = ? WHERE id = ?'),
    insertCert: db.prepare(
      'INSERT INTO client_certificates (fingerprint, name, subject, issuer, serial, not_before, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    listCerts: db.prepare('SELECT * FROM client_certificates ORDER BY issued_at, name'),
    findCert: db.prepare('SELECT * FROM client_certificates WHERE name = ? OR fingerprint = ?'),
    revoke: db.prepare('INSERT OR IGNORE INTO revoked_certificates (fingerprint, name, revoked_at, reason) VALUES (?, ?, ?, ?)'),
    revocations: db.prepare('SELECT * FROM revoked_certificates ORDER BY revoked_at, fingerprint'),
    // Prepared once: db.pragma() compiles the statement on every call, and this runs per message.
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
  };

  /** Positions stay 1..n so `--position` means what `role list` shows. */
  const compact = (): void => {
    const rows = s.list.all() as BindingRow[];
    rows.forEach((r, i) => {
      if (r.position !== i + 1) s.renumber.run(i + 1, r.id);
    });
  };

  const listBindings = (): RoleBinding[] => (s.list.all() as BindingRow[]).map(toBinding);
  const listRevocations = (): Revocation[] =>
    (s.revocations.all() as RevocationRow[]).map((r) => ({ fingerprint: r.fingerprint, name: r.name, revokedAt: r.revoked_at, reason: r.reason }));
  const addBinding = (b: NewRoleBinding): RoleBinding => {
    const last = (s.maxPos.get() as { p: number }).p;
    let position = last + 1;
    if (b.position !== undefined && b.position >= 1 && b.position <= last) {
      s.shift.run(b.position);
      position = b.position;
    }
    const row = s.insert.get(position, b.field, b.value, b.tenant, b.role, b.note ?? null, clock()) as BindingRow;
    return toBinding(row);
  };
  const dataVersion = (): number => Number(s.dataVersion.get());

  // better-sqlite3 is synchronous: reads run to completion before their Promise is returned.
  // Writes go through the store's group committer (durableWrite): they settle once synced.
  return {
    listBindings: async () => listBindings(),
    addBinding: (b) => durableWrite(db, () => addBinding(b)),
    removeBinding: (id) =>
      durableWrite(db, () => {
        const removed = s.remove.run(id).changes > 0;
        if (removed) compact();
        return removed;
      }),
    recordCertificate: (c, binding) =>
      durableWrite(db, () => {
        s.insertCert.run(c.fingerprint, c.name, c.subject, c.issuer, c.serial, c.notBefore, c.notAfter, c.issuedAt);
        return binding === undefined ? undefined : addBinding(binding);
      }),
    listCertificates: async () => (s.listCerts.all() as CertRow[]).map(toCert),
    findCertificate: async (key) => {
      const row = s.findCert.get(key, key.toLowerCase()) as CertRow | undefined;
      return row === undefined ? undefined : toCert(row);
    },
    revoke: (r: Revocation) => durableWrite(db, () => s.revoke.run(r.fingerprint, r.name, r.revokedAt, r.reason).changes > 0),
    listRevocations: async () => listRevocations(),
    changedSince(counter): AccessSnapshot | undefined {
      const now = dataVersion();
      if (counter === now) return undefined;
      return { counter: now, bindings: listBindings(), revocations: listRevocations() };
    },
  };
}
