/**
 * The rotation scheduler (K8): inside the server, every `pollMs` it finds the keys due under an
 * automatic policy (./due.ts, from stored data only: a restart loses nothing), claims each for a
 * lease (RotationStore.claim, one owner across processes), and rotates it (./rotate.ts, one unit
 * of work). At most `batchSize` rotations per tick, so one tick never holds the HSM for long.
 *
 * Failures leave the old key untouched (nothing is written before the commit) and back off:
 * the claim is released with a retry time base·2^attempts, capped. A lost race (StoreConflict:
 * another process rotated it, or took over an expired lease) is not a failure of the key.
 * Each rotation, done or failed, becomes one audit record through the executor's audit trail
 * API, principal "scheduler", naming the policy. The clock and timers are injectable for tests.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ItemEvent } from '../dispatch/executor.js';
import { toFailure } from '../dispatch/to-failure.js';
import type { KeyProtector } from '../hsm/key-protector.js';
import { Enum, enumValueName } from '../kmip/registry.js';
import type { ObjectStore } from '../store/types.js';
import { findDueKeys, type DueKey } from './due.js';
import { rotateKey, SCHEDULER_PRINCIPAL, type RotationDone } from './rotate.js';
import type { RotationStore } from './types.js';

export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending poll never keeps the process alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type RotationResult = 'rotated' | 'failed' | 'conflict';

export interface SchedulerOptions {
  objects: ObjectStore;
  rotation: RotationStore;
  keys: KeyProtector;
  log: Logger;
  clock?: SchedulerClock;
  /** Names this process's claims; default host:pid:random. */
  owner?: string;
  /** Between ticks. Default 30 s. */
  pollMs?: number;
  /** How long a claim protects a rotation in progress; a crashed owner's key is retried after it. Default 5 min. */
  leaseMs?: number;
  /** Rotations per tick. Default 16. */
  batchSize?: number;
  /** First retry delay after a failure, doubled per attempt. Default 60 s. */
  backoffBaseMs?: number;
  /** Longest retry delay. Default 1 h. */
  backoffMaxMs?: number;
  /** The audit trail (AuditTrail.record); awaited, failures logged. */
  audit?: (events: ItemEvent[]) => Promise<void>;
  /** Metrics: one call per attempted rotation. */
  onResult?: (result: RotationResult, reason?: string) => void;
}

export interface TickReport {
  due: number;
  rotated: RotationDone[];
  failed: { uid: string; error: string }[];
  conflicts: string[];
  /** Due but claimed by another process or backing off. */
  skipped: string[];
}

export interface RotationScheduler {
  /** Starts polling (first tick after pollMs; call tick() for one at once). */
  start(): void;
  /** One pass now; concurrent calls share the pass in progress. */
  tick(): Promise<TickReport>;
  /** Stops polling and waits for the pass in progress. */
  stop(): Promise<void>;
  readonly owner: string;
}

export function createRotationScheduler(o: SchedulerOptions): RotationScheduler {
  const clock = o.clock ?? systemClock;
  const owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const pollMs = o.pollMs ?? 30_000;
  const leaseMs = o.leaseMs ?? 300_000;
  const batchSize = Math.max(1, o.batchSize ?? 16);
  const backoffBase = o.backoffBaseMs ?? 60_000;
  const backoffMax = o.backoffMaxMs ?? 3_600_000;
  const log = o.log.child({ component: 'rotation' });
  let timer: unknown;
  let running: Promise<TickReport> | undefined;
  let stopped = false;
  let started = false;

  const audit = async (due: DueKey, uids: string[], status: number, reason: number | undefined, startedAt: number): Promise<void> => {
    if (o.audit === undefined) return;
    const ev: ItemEvent = {
      conn: { id: `scheduler:${owner}`, remoteAddress: 'local', principal: SCHEDULER_PRINCIPAL },
      version: { major: 2, minor: 1 },
      identity: { tenant: due.tenant, scope: due.tenant, role: 'scheduler', rule: `rotation policy: ${due.policy.description}` },
      decision: { allowed: true, rule: `rotation policy (${due.policy.source}): ${due.policy.description}` },
      operation: Enum.Operation.ReKey,
      uids,
      status,
      reason,
      durationMs: Math.max(0, clock.now() - startedAt),
      batchIndex: 0,
    };
    try {
      await o.audit([ev]);
    } catch (err) {
      log.error({ err, uid: due.uid }, 'cannot write the audit record of a rotation');
    }
  };

  async function pass(): Promise<TickReport> {
    const report: TickReport = { due: 0, rotated: [], failed: [], conflicts: [], skipped: [] };
    const due = await findDueKeys(o.objects, o.rotation, clock.now(), { automaticOnly: true, limit: batchSize * 4 });
    report.due = due.length;
    for (const d of due) {
      if (stopped || report.rotated.length + report.failed.length >= batchSize) break;
      const now = clock.now();
      const claim = await o.rotation.claim({ uid: d.uid, tenant: d.tenant }, owner, now, leaseMs);
      if (claim === undefined) {
        report.skipped.push(d.uid);
        continue;
      }
      try {
        const done = await rotateKey({ objects: o.objects, rotation: o.rotation, keys: o.keys, log }, d, claim, now);
        report.rotated.push(done);
        o.onResult?.('rotated');
        log.info({ uid: d.uid, replacement: done.newUid, generation: done.generation, policy: d.policy.description }, 'key rotated');
        await audit(d, [d.uid, done.newUid], Enum.ResultStatus.Success, undefined, now);
      } catch (err) {
        if (err instanceof Error && err.name === 'StoreConflict') {
          // Another rotator won; the key is no longer due (or will be re-read next tick).
          report.conflicts.push(d.uid);
          o.onResult?.('conflict');
          log.info({ uid: d.uid, detail: err.message }, 'rotation lost a race; another rotator owns it');
          await o.rotation.releaseFailed(claim, now, 'lost a concurrent rotation').catch(() => undefined);
          continue;
        }
        const failure = toFailure(err);
        const delay = Math.min(backoffMax, backoffBase * 2 ** Math.min(claim.attempts, 20));
        report.failed.push({ uid: d.uid, error: failure.message });
        o.onResult?.('failed', enumValueName('ResultReason', failure.reason) ?? String(failure.reason));
        log.warn({ uid: d.uid, detail: failure.detail ?? failure.message, retryInMs: delay }, 'rotation failed; the key is unchanged and will be retried');
        await o.rotation.releaseFailed(claim, now + delay, failure.message).catch((e: unknown) => log.error({ err: e }, 'cannot record a rotation failure'));
        await audit(d, [d.uid], Enum.ResultStatus.OperationFailed, failure.reason, now);
      }
    }
    return report;
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      void tick()
        .catch((err: unknown) => log.error({ err }, 'rotation pass failed'))
        .finally(schedule);
    }, pollMs);
  }

  function tick(): Promise<TickReport> {
    if (running !== undefined) return running;
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    owner,
    start() {
      if (started || stopped) return;
      started = true;
      schedule();
    },
    tick,
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
