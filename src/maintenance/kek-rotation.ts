/**
 * KEK rotation (issue K3 §5; KMIP itself leaves key-encryption keys to the server): create KEK
 * version n+1, re-wrap every stored object still under an older version inside the HSM, in
 * batches of one unit of work (one commit) each, while servers keep serving; then, optionally,
 * destroy the old versions once nothing uses them.
 *
 * Concurrency with running servers (other processes on the same SQLite file and token):
 * - each re-wrap is written with putMaterial(uid, material, expectedVersion): if a server changed
 *   the object after we read it, the batch's commit fails with StoreConflict and nothing is
 *   reverted; the objects are simply found again by the next pass;
 * - a server caches its current KEK version for at most CURRENT_KEK_TTL (10 s in
 *   src/hsm/pkcs11-protector.ts), so for that long after createKek it may still wrap new keys
 *   under the old version. The driver therefore keeps passing until `graceMs` has elapsed since
 *   the new KEK was created and a pass finds nothing left, and only then destroys old versions.
 */
import type { KekAdmin, KeyProtector } from '../hsm/key-protector.js';
import { isHsmError } from '../hsm/errors.js';
import { bindingOf } from '../ops/key-material.js';
import { StoreConflict, type ObjectStore } from '../store/index.js';

/** Longer than the 10 s a server may keep using the previous KEK version for new keys. */
export const DEFAULT_ROTATION_GRACE_MS = 12_000;
export const DEFAULT_ROTATION_BATCH = 200;
/** Counts stop here (the store offers no COUNT; see the report): far beyond any deployment's size. */
const USAGE_SCAN_LIMIT = 10_000_000;

export type RotationKeys = KeyProtector & KekAdmin;

export interface RotationProgress {
  /** Objects re-wrapped so far. */
  done: number;
  /** done + what the last count found still under older versions (grows if servers add some). */
  total: number;
  /** Objects that could not be re-wrapped (integrity failure, KEK missing); left as they are. */
  failed: number;
  pass: number;
  phase: 'rewrap' | 'grace' | 'destroy' | 'done';
}

export interface RotationOptions {
  store: ObjectStore;
  keys: RotationKeys;
  batchSize?: number;
  destroyOld?: boolean;
  /** How long after creating the new KEK old versions must stay (see the header). */
  graceMs?: number;
  onProgress?: (p: RotationProgress) => void;
  /** Test seam. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RotationFailure {
  uid: string;
  kekVersion: number;
  reason: string;
}

export interface RotationResult {
  fromVersions: number[];
  toVersion: number;
  rewrapped: number;
  /** Batches whose commit lost a race with a server and were redone in a later pass. */
  conflicts: number;
  failures: RotationFailure[];
  destroyed: number[];
  /** Versions left in place because objects still use them (only with failures). */
  kept: number[];
}

export class RotationError extends Error {
  override readonly name = 'RotationError';
}

/** Objects (with material, all tenants) per KEK version; versions with objects but no KEK included. */
export async function kekUsage(store: ObjectStore, versions: readonly number[]): Promise<Map<number, number>> {
  const top = Math.max(0, ...versions);
  const out = new Map<number, number>();
  const unit = store.begin({ tenant: null });
  try {
    // Versions beyond the token's newest cannot exist (they are created in order); lower ones
    // missing from the token but still used by objects mean lost keys and must show up.
    for (let v = 1; v <= top + 1; v++) {
      const n = (await unit.listByKekVersion(v, USAGE_SCAN_LIMIT)).length;
      if (n > 0 || versions.includes(v)) out.set(v, n);
    }
  } finally {
    unit.rollback();
  }
  return out;
}

/** Creates the next KEK version and re-wraps everything under it. */
export async function rotateKek(opts: RotationOptions): Promise<RotationResult> {
  const { store, keys } = opts;
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_ROTATION_BATCH));
  const graceMs = opts.graceMs ?? DEFAULT_ROTATION_GRACE_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  const before = await keys.listKekVersions();
  const last = before[before.length - 1];
  if (last === undefined) throw new RotationError("the token holds no KEK; run 'kmipd init' first");
  const toVersion = last + 1;
  await keys.createKek(toVersion);
  const createdAt = Date.now();
  // Every lower version, including ones an earlier, interrupted rotation left behind.
  const olderVersions = Array.from({ length: toVersion - 1 }, (_, i) => i + 1);

  const failures = new Map<string, RotationFailure>();
  let rewrapped = 0;
  let conflicts = 0;
  let pass = 0;
  const progress = (phase: RotationProgress['phase'], remaining: number): void =>
    opts.onProgress?.({ done: rewrapped, total: rewrapped + remaining, failed: failures.size, pass, phase });

  const remainingCount = async (): Promise<number> => {
    const usage = await kekUsage(store, olderVersions);
    let n = 0;
    for (const v of olderVersions) n += usage.get(v) ?? 0;
    return n - failures.size;
  };

  for (;;) {
    pass++;
    let remaining = await remainingCount();
    progress('rewrap', remaining);
    let movedThisPass = 0;
    for (const v of olderVersions) {
      for (;;) {
        const r = await rewrapBatch(store, keys, v, toVersion, batchSize, failures);
        if (r.conflict) conflicts++;
        rewrapped += r.rewrapped;
        movedThisPass += r.rewrapped;
        remaining = Math.max(0, remaining - r.rewrapped);
        progress('rewrap', remaining);
        // A short batch means the version is drained (for this pass); a conflict ends the pass
        // for this version so that the next one re-reads fresh versions.
        if (r.listed < batchSize || r.conflict) break;
      }
    }
    const left = await remainingCount();
    const waited = Date.now() - createdAt;
    if (left === 0 && movedThisPass === 0 && waited >= graceMs) break;
    if (left === 0 && waited < graceMs) {
      // Servers may still be wrapping new keys under the old version: look again when they cannot.
      progress('grace', 0);
      await sleep(Math.min(1000, graceMs - waited));
    }
  }

  const destroyed: number[] = [];
  const kept: number[] = [];
  if (opts.destroyOld === true) {
    progress('destroy', 0);
    const present = (await keys.listKekVersions()).filter((v) => v < toVersion);
    for (const v of present) {
      const r = await destroyKekIfUnused(store, keys, v);
      if (r === 'destroyed') destroyed.push(v);
      else kept.push(v);
    }
  }
  progress('done', 0);
  return {
    fromVersions: before,
    toVersion,
    rewrapped,
    conflicts,
    failures: [...failures.values()],
    destroyed,
    kept,
  };
}

interface BatchResult {
  listed: number;
  rewrapped: number;
  conflict: boolean;
}

/** One unit of work: up to `batchSize` objects under `from`, re-wrapped to `to`, one commit. */
async function rewrapBatch(
  store: ObjectStore,
  keys: KeyProtector,
  from: number,
  to: number,
  batchSize: number,
  failures: Map<string, RotationFailure>,
): Promise<BatchResult> {
  const unit = store.begin({ tenant: null });
  let finished = false;
  try {
    // Objects that failed stay under `from`: ask for enough rows to get past them.
    const uids = (await unit.listByKekVersion(from, batchSize + failures.size)).filter((u) => !failures.has(u));
    const batch = uids.slice(0, batchSize);
    let count = 0;
    for (const uid of batch) {
      const obj = await unit.get(uid);
      // Destroyed or already moved since the listing: nothing to do.
      if (obj === undefined || obj.material === null || obj.material.kekVersion !== from) continue;
      try {
        const pm = await keys.rewrap(obj.material, bindingOf(obj), to);
        unit.putMaterial(uid, { ...pm, meta: obj.material.meta }, obj.version);
        count++;
      } catch (err) {
        if (!isHsmError(err, 'IntegrityFailure') && !isHsmError(err, 'KekNotFound')) throw err;
        failures.set(uid, { uid, kekVersion: from, reason: err.message });
      }
    }
    finished = true;
    try {
      await unit.commit();
    } catch (err) {
      if (err instanceof StoreConflict) return { listed: batch.length, rewrapped: 0, conflict: true };
      throw err;
    }
    return { listed: batch.length, rewrapped: count, conflict: false };
  } finally {
    if (!finished) unit.rollback();
  }
}

/** Destroys KEK `version` only if no stored object is wrapped under it. */
export async function destroyKekIfUnused(
  store: ObjectStore,
  keys: KekAdmin,
  version: number,
): Promise<'destroyed' | { inUse: number }> {
  const current = await keys.currentKekVersion();
  if (version === current) {
    throw new RotationError(`KEK version ${version} is the current one; rotate first ('kmipd hsm rotate-kek')`);
  }
  const unit = store.begin({ tenant: null });
  let inUse: number;
  try {
    inUse = (await unit.listByKekVersion(version, USAGE_SCAN_LIMIT)).length;
  } finally {
    unit.rollback();
  }
  if (inUse > 0) return { inUse };
  await keys.destroyKek(version);
  return 'destroyed';
}
