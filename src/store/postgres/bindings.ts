/**
 * PostgreSQL rows for access control (K7) shared by every node of a cluster (K10). Every write
 * locks the single `access_version` row and bumps it in the same transaction, which serialises
 * concurrent administrators (positions stay 1..n) and tells every node's poller that it must
 * reload (src/authz/access-control.ts: within REVOCATION_BOUND_MS).
 */
import type pg from 'pg';
import type { AccessSnapshot, AccessStore, ClientCertificateRecord, MatchField, NewRoleBinding, Revocation, RoleBinding } from '../access-types.js';
import { inTransaction } from './transaction.js';
import { num } from './int8.js';
import type { Queryable } from './objects.js';

interface BindingRow {
  id: number;
  position: number;
  field: string;
  value: string;
  tenant: string;
  role: string;
  note: string | null;
  created_at: string;
}

interface CertRow {
  fingerprint: string;
  name: string;
  subject: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  issued_at: string;
}

interface RevocationRow {
  fingerprint: string;
  name: string | null;
  revoked_at: string;
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
  createdAt: num(r.created_at),
});

const toCert = (r: CertRow): ClientCertificateRecord => ({
  fingerprint: r.fingerprint,
  name: r.name,
  subject: r.subject,
  issuer: r.issuer,
  serial: r.serial,
  notBefore: num(r.not_before),
  notAfter: num(r.not_after),
  issuedAt: num(r.issued_at),
});

const toRevocation = (r: RevocationRow): Revocation => ({ fingerprint: r.fingerprint, name: r.name, revokedAt: num(r.revoked_at), reason: r.reason });

const SQL = {
  lockVersion: 'SELECT version FROM access_version WHERE id = 1 FOR UPDATE',
  bump: 'UPDATE access_version SET version = version + 1 WHERE id = 1',
  version: 'SELECT version FROM access_version WHERE id = 1',
  bindings: 'SELECT * FROM role_bindings ORDER BY position, id',
  revocations: 'SELECT * FROM revoked_certificates ORDER BY revoked_at, fingerprint',
} as const;

async function listBindings(q: Queryable): Promise<RoleBinding[]> {
  return (await q.query<BindingRow>(SQL.bindings)).rows.map(toBinding);
}

async function listRevocations(q: Queryable): Promise<Revocation[]> {
  return (await q.query<RevocationRow>(SQL.revocations)).rows.map(toRevocation);
}

async function insertBinding(q: Queryable, b: NewRoleBinding, now: number): Promise<RoleBinding> {
  const last = num((await q.query<{ p: string }>('SELECT COALESCE(MAX(position), 0) AS p FROM role_bindings')).rows[0]!.p);
  let position = last + 1;
  if (b.position !== undefined && b.position >= 1 && b.position <= last) {
    await q.query('UPDATE role_bindings SET position = position + 1 WHERE position >= $1', [b.position]);
    position = b.position;
  }
  const r = await q.query<BindingRow>(
    'INSERT INTO role_bindings (position, field, value, tenant, role, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
    [position, b.field, b.value, b.tenant, b.role, b.note ?? null, now],
  );
  return toBinding(r.rows[0]!);
}

export function postgresAccessStore(pool: pg.Pool, clock: () => number = Date.now): AccessStore {
  /** A write: serialised on the version row, and visible to every node's poller once committed. */
  const write = <T>(work: (c: pg.PoolClient) => Promise<T>, changed: (result: T) => boolean = () => true): Promise<T> =>
    inTransaction(pool, async (c) => {
      await c.query(SQL.lockVersion);
      const result = await work(c);
      if (changed(result)) await c.query(SQL.bump);
      return result;
    });

  return {
    listBindings: () => listBindings(pool),
    addBinding: (b) => write((c) => insertBinding(c, b, clock())),
    removeBinding: (id) =>
      write(async (c) => {
        const removed = ((await c.query('DELETE FROM role_bindings WHERE id = $1', [id])).rowCount ?? 0) > 0;
        // Positions stay 1..n so `--position` means what `role list` shows.
        if (removed) {
          await c.query(
            'UPDATE role_bindings r SET position = n.rn FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rn FROM role_bindings) n WHERE r.id = n.id AND r.position <> n.rn',
          );
        }
        return removed;
      }, (removed) => removed),
    recordCertificate: (cert, binding) =>
      write(async (c) => {
        await c.query(
          'INSERT INTO client_certificates (fingerprint, name, subject, issuer, serial, not_before, not_after, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [cert.fingerprint, cert.name, cert.subject, cert.issuer, cert.serial, cert.notBefore, cert.notAfter, cert.issuedAt],
        );
        return binding === undefined ? undefined : insertBinding(c, binding, clock());
      }),
    listCertificates: async () => (await pool.query<CertRow>('SELECT * FROM client_certificates ORDER BY issued_at, name')).rows.map(toCert),
    findCertificate: async (key) => {
      const r = await pool.query<CertRow>('SELECT * FROM client_certificates WHERE name = $1 OR fingerprint = $2', [key, key.toLowerCase()]);
      return r.rows[0] === undefined ? undefined : toCert(r.rows[0]);
    },
    revoke: (r) =>
      write(
        async (c) =>
          ((
            await c.query('INSERT INTO revoked_certificates (fingerprint, name, revoked_at, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING', [
              r.fingerprint,
              r.name,
              r.revokedAt,
              r.reason,
            ])
          ).rowCount ?? 0) > 0,
        (fresh) => fresh,
      ),
    listRevocations: () => listRevocations(pool),
    async changedSince(counter): Promise<AccessSnapshot | undefined> {
      // The cheap check first (one indexed row); the full read only when something changed, in
      // one snapshot so the lists match the version they are reported under.
      if (counter !== undefined && num((await pool.query<{ version: string }>(SQL.version)).rows[0]!.version) === counter) return undefined;
      return inTransaction(
        pool,
        async (c) => {
          const version = num((await c.query<{ version: string }>(SQL.version)).rows[0]!.version);
          return { counter: version, bindings: await listBindings(c), revocations: await listRevocations(c) };
        },
        { isolation: 'repeatable read', commit: false },
      );
    },
  };
}
