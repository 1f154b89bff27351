/**
 * SQLite rows of key rotation (K8, src/rotation/types.ts; migration 3): policies, claims with a
 * lease, and the history of rotations. Writes go through the store's group committer, so a claim
 * is read and taken inside one BEGIN IMMEDIATE transaction: of two processes on one file, only one
 * can take a key. completeInUnit() joins the rotation's own unit of work (UnitOfWork.attach).
 */
import { StoreConflict } from '../errors.js';
import type { UnitOfWork } from '../types.js';
import type {
  NewRotationPolicy,
  PolicyTarget,
  RotationClaim,
  RotationPolicy,
  RotationRecord,
  RotationRetry,
  RotationStore,
} from '../../rotation/types.js';
import { sqliteUnitWrite, type SqliteObjectStore } from './store.js';
import { targetKey, targetOfRow } from '../rotation-targets.js';

interface PolicyRow {
  tenant: string;
  uid: string;
  grp: string;
  interval_s: number;
  offset_s: number | null;
  automatic: number;
  grace_s: number | null;
  updated_at: number;
}

interface ClaimRow {
  uid: string;
  tenant: string;
  owner: string | null;
  lease_until: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

interface HistoryRow {
  old_uid: string;
  new_uid: string;
  tenant: string;
  generation: number;
  policy: string;
  at: number;
}

function policyOf(r: PolicyRow): RotationPolicy {
  return {
    target: targetOfRow(r),
    intervalSeconds: r.interval_s,
    offsetSeconds: r.offset_s,
    automatic: r.automatic === 1,
    graceSeconds: r.grace_s,
    updatedAt: r.updated_at,
  };
}

function recordOf(r: HistoryRow): RotationRecord {
  return { oldUid: r.old_uid, newUid: r.new_uid, tenant: r.tenant, generation: r.generation, policy: r.policy, at: r.at };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
}

export function sqliteRotationStore(store: SqliteObjectStore): RotationStore {
  const { db } = store;
  const s = {
    upsertPolicy: db.prepare(
      `INSERT INTO rotation_policies (tenant, uid, grp, interval_s, offset_s, automatic, grace_s, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, uid, grp) DO UPDATE SET interval_s = excluded.interval_s, offset_s = excluded.offset_s,
         automatic = excluded.automatic, grace_s = excluded.grace_s, updated_at = excluded.updated_at`,
    ),
    getPolicy: db.prepare('SELECT * FROM rotation_policies WHERE tenant = ? AND uid = ? AND grp = ?'),
    deletePolicy: db.prepare('DELETE FROM rotation_policies WHERE tenant = ? AND uid = ? AND grp = ?'),
    // Key policies first, then group, then tenant defaults: most specific first.
    allPolicies: db.prepare(
      "SELECT * FROM rotation_policies ORDER BY (uid = '') , (grp = ''), tenant, uid, grp",
    ),
    tenantPolicies: db.prepare(
      "SELECT * FROM rotation_policies WHERE tenant = ? ORDER BY (uid = ''), (grp = ''), uid, grp",
    ),
    getClaim: db.prepare('SELECT * FROM rotation_claims WHERE uid = ?'),
    upsertClaim: db.prepare(
      `INSERT INTO rotation_claims (uid, tenant, owner, lease_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (uid) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until`,
    ),
    failClaim: db.prepare(
      `UPDATE rotation_claims SET owner = NULL, lease_until = 0, attempts = attempts + 1, next_attempt_at = ?, last_error = ?
       WHERE uid = ? AND owner = ?`,
    ),
    retries: db.prepare('SELECT * FROM rotation_claims WHERE attempts > 0 ORDER BY uid'),
    deleteClaim: db.prepare('DELETE FROM rotation_claims WHERE uid = ? AND owner = ?'),
    insertHistory: db.prepare('INSERT INTO rotation_history (old_uid, new_uid, tenant, generation, policy, at) VALUES (?, ?, ?, ?, ?, ?)'),
    movePolicy: db.prepare("UPDATE rotation_policies SET uid = ? WHERE tenant = ? AND uid = ? AND grp = ''"),
    history: db.prepare('SELECT * FROM rotation_history ORDER BY seq'),
    historyOfUid: db.prepare('SELECT * FROM rotation_history WHERE old_uid = ? OR new_uid = ? ORDER BY seq'),
    historyOfTenant: db.prepare('SELECT * FROM rotation_history WHERE tenant = ? ORDER BY seq'),
  };

  return {
    async setPolicy(p: NewRotationPolicy, now: number): Promise<RotationPolicy> {
      if (!Number.isSafeInteger(p.intervalSeconds) || p.intervalSeconds <= 0) throw new RangeError('the rotation interval must be a positive number of seconds');
      const [tenant, uid, grp] = targetKey(p.target);
      await store.submitWrite(() => {
        s.upsertPolicy.run(tenant, uid, grp, p.intervalSeconds, p.offsetSeconds, p.automatic ? 1 : 0, p.graceSeconds, now);
      });
      return { ...p, updatedAt: now };
    },

    async getPolicy(target) {
      const row = s.getPolicy.get(...targetKey(target)) as PolicyRow | undefined;
      return row === undefined ? undefined : policyOf(row);
    },

    async clearPolicy(target) {
      let removed = false;
      await store.submitWrite(() => {
        removed = s.deletePolicy.run(...targetKey(target)).changes > 0;
      });
      return removed;
    },

    async listPolicies(tenant) {
      const rows = (tenant === undefined ? s.allPolicies.all() : s.tenantPolicies.all(tenant)) as PolicyRow[];
      return rows.map(policyOf);
    },

    async claim(key, owner, now, leaseMs) {
      let taken: RotationClaim | undefined;
      await store.submitWrite(() => {
        const row = s.getClaim.get(key.uid) as ClaimRow | undefined;
        if (row !== undefined) {
          const heldByOther = row.owner !== null && row.owner !== owner && row.lease_until > now;
          if (heldByOther || row.next_attempt_at > now) return;
        }
        const leaseUntil = now + leaseMs;
        s.upsertClaim.run(key.uid, key.tenant, owner, leaseUntil);
        taken = { uid: key.uid, tenant: key.tenant, owner, leaseUntil, attempts: row?.attempts ?? 0 };
      });
      return taken;
    },

    async releaseFailed(claim, retryAt, error) {
      await store.submitWrite(() => {
        s.failClaim.run(retryAt, error.slice(0, 500), claim.uid, claim.owner);
      });
    },

    async retries(): Promise<RotationRetry[]> {
      return (s.retries.all() as ClaimRow[]).map((r) => ({
        uid: r.uid,
        tenant: r.tenant,
        attempts: r.attempts,
        nextAttemptAt: r.next_attempt_at,
        lastError: r.last_error,
      }));
    },

    completeInUnit(unit: UnitOfWork, claim: RotationClaim, record: RotationRecord): void {
      unit.attach(
        sqliteUnitWrite(() => {
          // Lost the lease to another scheduler (it expired and was taken): that one rotates.
          if (s.deleteClaim.run(claim.uid, claim.owner).changes === 0) throw new StoreConflict(claim.uid, 'version');
          try {
            s.insertHistory.run(record.oldUid, record.newUid, record.tenant, record.generation, record.policy, record.at);
          } catch (err) {
            if (isUniqueViolation(err)) throw new StoreConflict(record.oldUid, 'exists');
            throw err;
          }
          s.movePolicy.run(record.newUid, record.tenant, record.oldUid);
        }),
      );
    },

    async history(options = {}) {
      const rows = (
        options.uid !== undefined
          ? s.historyOfUid.all(options.uid, options.uid)
          : options.tenant !== undefined
            ? s.historyOfTenant.all(options.tenant)
            : s.history.all()
      ) as HistoryRow[];
      return rows.map(recordOf);
    },
  };
}
