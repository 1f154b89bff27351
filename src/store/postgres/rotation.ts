/**
 * Key rotation rows on PostgreSQL (K8 contract, src/rotation/types.ts; K10: several nodes run the
 * scheduler against one database). A claim is taken in one transaction that locks the key's claim
 * row (created first if missing, so two nodes contend for the same row): the second node waits
 * for the first to commit, then sees its lease and backs off. completeInUnit() joins the
 * rotation's own unit of work, so the claim, the history row (UNIQUE old_uid) and the new key
 * commit together or not at all: a key is rotated once, whichever node gets there.
 */
import type pg from 'pg';
import { StoreConflict } from '../errors.js';
import type { UnitOfWork } from '../types.js';
import type { NewRotationPolicy, PolicyTarget, RotationClaim, RotationPolicy, RotationRecord, RotationRetry, RotationStore } from '../../rotation/types.js';
import { postgresUnitWrite } from './store.js';
import { inTransaction } from './transaction.js';
import { num } from './int8.js';
import { targetKey, targetOfRow } from '../rotation-targets.js';

interface PolicyRow {
  tenant: string;
  uid: string;
  grp: string;
  interval_s: string;
  offset_s: string | null;
  automatic: boolean;
  grace_s: string | null;
  updated_at: string;
}

interface ClaimRow {
  uid: string;
  tenant: string;
  owner: string | null;
  lease_until: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
}

interface HistoryRow {
  old_uid: string;
  new_uid: string;
  tenant: string;
  generation: number;
  policy: string;
  at: string;
}

const numOrNull = (v: string | null): number | null => (v === null ? null : num(v));

function policyOf(r: PolicyRow): RotationPolicy {
  return {
    target: targetOfRow(r),
    intervalSeconds: num(r.interval_s),
    offsetSeconds: numOrNull(r.offset_s),
    automatic: r.automatic,
    graceSeconds: numOrNull(r.grace_s),
    updatedAt: num(r.updated_at),
  };
}

const recordOf = (r: HistoryRow): RotationRecord => ({ oldUid: r.old_uid, newUid: r.new_uid, tenant: r.tenant, generation: r.generation, policy: r.policy, at: num(r.at) });

const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23505';

/** Most specific first: key policies, then group, then tenant defaults. */
const POLICY_ORDER = "ORDER BY (uid = ''), (grp = ''), tenant, uid, grp";

export function postgresRotationStore(pool: pg.Pool): RotationStore {
  return {
    async setPolicy(p: NewRotationPolicy, now: number): Promise<RotationPolicy> {
      if (!Number.isSafeInteger(p.intervalSeconds) || p.intervalSeconds <= 0) throw new RangeError('the rotation interval must be a positive number of seconds');
      await pool.query(
        `INSERT INTO rotation_policies (tenant, uid, grp, interval_s, offset_s, automatic, grace_s, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant, uid, grp) DO UPDATE SET interval_s = excluded.interval_s, offset_s = excluded.offset_s,
           automatic = excluded.automatic, grace_s = excluded.grace_s, updated_at = excluded.updated_at`,
        [...targetKey(p.target), p.intervalSeconds, p.offsetSeconds, p.automatic, p.graceSeconds, now],
      );
      return { ...p, updatedAt: now };
    },

    async getPolicy(target) {
      const r = await pool.query<PolicyRow>('SELECT * FROM rotation_policies WHERE tenant = $1 AND uid = $2 AND grp = $3', targetKey(target));
      return r.rows[0] === undefined ? undefined : policyOf(r.rows[0]);
    },

    async clearPolicy(target) {
      const r = await pool.query('DELETE FROM rotation_policies WHERE tenant = $1 AND uid = $2 AND grp = $3', targetKey(target));
      return (r.rowCount ?? 0) > 0;
    },

    async listPolicies(tenant) {
      const r =
        tenant === undefined
          ? await pool.query<PolicyRow>(`SELECT * FROM rotation_policies ${POLICY_ORDER}`)
          : await pool.query<PolicyRow>(`SELECT * FROM rotation_policies WHERE tenant = $1 ${POLICY_ORDER}`, [tenant]);
      return r.rows.map(policyOf);
    },

    claim(key, owner, now, leaseMs) {
      return inTransaction(pool, async (c): Promise<RotationClaim | undefined> => {
        // The row may be deleted (a rotation completed) between the INSERT that found it and the
        // SELECT that locks it: then insert again; the second INSERT creates it.
        let row: ClaimRow | undefined;
        for (let attempt = 0; row === undefined; attempt++) {
          if (attempt === 3) throw new StoreConflict(key.uid, 'missing');
          await c.query('INSERT INTO rotation_claims (uid, tenant) VALUES ($1, $2) ON CONFLICT (uid) DO NOTHING', [key.uid, key.tenant]);
          row = (await c.query<ClaimRow>('SELECT * FROM rotation_claims WHERE uid = $1 FOR UPDATE', [key.uid])).rows[0];
        }
        const heldByOther = row.owner !== null && row.owner !== owner && num(row.lease_until) > now;
        if (heldByOther || num(row.next_attempt_at) > now) return undefined;
        const leaseUntil = now + leaseMs;
        await c.query('UPDATE rotation_claims SET owner = $2, lease_until = $3 WHERE uid = $1', [key.uid, owner, leaseUntil]);
        return { uid: key.uid, tenant: key.tenant, owner, leaseUntil, attempts: row.attempts };
      });
    },

    async releaseFailed(claim, retryAt, error) {
      await pool.query(
        `UPDATE rotation_claims SET owner = NULL, lease_until = 0, attempts = attempts + 1, next_attempt_at = $1, last_error = $2
         WHERE uid = $3 AND owner = $4`,
        [retryAt, error.slice(0, 500), claim.uid, claim.owner],
      );
    },

    async retries(): Promise<RotationRetry[]> {
      const r = await pool.query<ClaimRow>('SELECT * FROM rotation_claims WHERE attempts > 0 ORDER BY uid');
      return r.rows.map((x) => ({ uid: x.uid, tenant: x.tenant, attempts: x.attempts, nextAttemptAt: num(x.next_attempt_at), lastError: x.last_error }));
    },

    completeInUnit(unit: UnitOfWork, claim: RotationClaim, record: RotationRecord): void {
      unit.attach(
        postgresUnitWrite(async (c) => {
          // Lost the lease to another scheduler (it expired and was taken): that one rotates.
          const deleted = await c.query('DELETE FROM rotation_claims WHERE uid = $1 AND owner = $2', [claim.uid, claim.owner]);
          if ((deleted.rowCount ?? 0) === 0) throw new StoreConflict(claim.uid, 'version');
          try {
            await c.query('INSERT INTO rotation_history (old_uid, new_uid, tenant, generation, policy, at) VALUES ($1, $2, $3, $4, $5, $6)', [
              record.oldUid,
              record.newUid,
              record.tenant,
              record.generation,
              record.policy,
              record.at,
            ]);
          } catch (err) {
            // The whole unit rolls back with it: the new key is not kept either.
            if (isUniqueViolation(err)) throw new StoreConflict(record.oldUid, 'exists');
            throw err;
          }
          await c.query("UPDATE rotation_policies SET uid = $1 WHERE tenant = $2 AND uid = $3 AND grp = ''", [record.newUid, record.tenant, record.oldUid]);
        }),
      );
    },

    async history(options = {}) {
      const r =
        options.uid !== undefined
          ? await pool.query<HistoryRow>('SELECT * FROM rotation_history WHERE old_uid = $1 OR new_uid = $1 ORDER BY seq', [options.uid])
          : options.tenant !== undefined
            ? await pool.query<HistoryRow>('SELECT * FROM rotation_history WHERE tenant = $1 ORDER BY seq', [options.tenant])
            : await pool.query<HistoryRow>('SELECT * FROM rotation_history ORDER BY seq');
      return r.rows.map(recordOf);
    },
  };
}
