/**
 * Key rotation persistence (K8): rotation policies, the claims that make each due rotation happen
 * once, and the record of rotations done. Everything the scheduler stores goes through this one
 * small interface; ./due.ts derives WHAT is due from the keys themselves (KMIP 2.1 §4.51: due when
 * Initial Date + Rotate Interval is reached), so nothing about the schedule lives only in memory.
 *
 * Implementations: SQLite in src/store/sqlite/rotation.ts (migration 3); PostgreSQL alongside the
 * PostgreSQL object store. Times are milliseconds since the epoch; intervals are seconds.
 *
 * Exactly-once, in three layers:
 *  1. claim(): inside a write transaction, one owner takes a key for a lease; a crashed owner's
 *     claim expires and the key is retried.
 *  2. The rotation commits the new key, the old key (optimistic version check: a second rotator
 *     that read the same old key fails with StoreConflict) and completeInUnit()'s rows in ONE
 *     unit of work: the claim is deleted only if still ours, and the history row is unique per
 *     old key, so a second rotation of the same key cannot commit.
 *  3. After a rotation the old key carries a Replacement Object link and is never due again.
 *
 * The one extension of the object store contract this needs is UnitOfWork.attach() (see
 * src/store/types.ts): a backend-specific write committed in the unit's transaction.
 */
import type { UnitOfWork } from '../store/types.js';

/** What a policy applies to: one key, every key of a tenant, or the keys of one Object Group in a tenant. */
export type PolicyTarget =
  | { kind: 'key'; tenant: string; uid: string }
  | { kind: 'tenant'; tenant: string }
  | { kind: 'group'; tenant: string; group: string };

export interface RotationPolicy {
  target: PolicyTarget;
  /** Seconds between rotations: a key is due at Initial Date + interval. > 0. */
  intervalSeconds: number;
  /** ReKey Offset (KMIP 2.1 §4.54 Rotate Offset): the new key activates this long after it is created. */
  offsetSeconds: number | null;
  /** false: due rotations are listed (keys due) but not performed by the server. */
  automatic: boolean;
  /** The replaced key stays Active this long, then is Deactivated (its Deactivation Date is set). null: left as ReKey leaves it. */
  graceSeconds: number | null;
  updatedAt: number;
}

export type NewRotationPolicy = Omit<RotationPolicy, 'updatedAt'>;

/** One key taken by one scheduler for a lease. */
export interface RotationClaim {
  uid: string;
  tenant: string;
  owner: string;
  leaseUntil: number;
  /** Failed attempts so far (HSM errors, conflicts), for backoff. */
  attempts: number;
}

/** Failure bookkeeping for a key that could not be rotated yet. */
export interface RotationRetry {
  uid: string;
  tenant: string;
  attempts: number;
  /** Not claimable before this time. */
  nextAttemptAt: number;
  lastError: string | null;
}

/** The record of one rotation, written in the rotation's own unit of work. */
export interface RotationRecord {
  oldUid: string;
  newUid: string;
  tenant: string;
  /** Rotate Generation of the new key. */
  generation: number;
  /** Which policy caused it, as text ("tenant acme every 2592000s", "key attributes …"). */
  policy: string;
  at: number;
}

export interface RotationStore {
  /** Creates or replaces the policy for its target. */
  setPolicy(policy: NewRotationPolicy, now: number): Promise<RotationPolicy>;
  getPolicy(target: PolicyTarget): Promise<RotationPolicy | undefined>;
  /** false when there was none. */
  clearPolicy(target: PolicyTarget): Promise<boolean>;
  /** Every policy, or one tenant's; key policies, then group, then tenant defaults. */
  listPolicies(tenant?: string): Promise<RotationPolicy[]>;

  /**
   * Takes `uid` for `owner` until now + leaseMs, in one write transaction: succeeds when the key is
   * unclaimed, or its claim's lease has expired, or `owner` already holds it, and no retry backoff
   * (nextAttemptAt) lies in the future. undefined: someone else holds it, or it is backing off.
   */
  claim(key: { uid: string; tenant: string }, owner: string, now: number, leaseMs: number): Promise<RotationClaim | undefined>;
  /** Gives the claim up after a failure: attempts + 1, not claimable before retryAt. No-op if no longer ours. */
  releaseFailed(claim: RotationClaim, retryAt: number, error: string): Promise<void>;
  /** Backoff state of keys that failed (for keys due and tests). */
  retries(): Promise<RotationRetry[]>;

  /**
   * Adds to `unit`, to commit in its transaction: delete the claim (StoreConflict if it is no
   * longer `claim.owner`'s), insert the history record (StoreConflict if `oldUid` was already
   * rotated), and move a key policy of the old key to the new key.
   */
  completeInUnit(unit: UnitOfWork, claim: RotationClaim, record: RotationRecord): void;
  /** Rotations done, oldest first; optionally only those of one old or new key. */
  history(options?: { uid?: string; tenant?: string }): Promise<RotationRecord[]>;
}
