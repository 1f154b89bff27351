/**
 * Wiring of the key rotation scheduler (K8) into one server process: its configuration, its
 * metrics (kmipd_rotations_total{result}, kmipd_rotation_failures_total{reason}) and its life,
 * which ends before the store and the HSM close.
 */
import type { Logger } from 'pino';
import type { RotationConfig } from '../config/config.js';
import type { ItemEvent } from '../dispatch/executor.js';
import type { KeyProtector } from '../hsm/key-protector.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { createRotationScheduler, type RotationScheduler, type SchedulerClock } from '../rotation/scheduler.js';
import type { RotationStore } from '../rotation/types.js';
import type { ObjectStore } from '../store/types.js';

export interface RotationWiring {
  config: RotationConfig;
  objects: ObjectStore;
  rotation: RotationStore;
  keys: KeyProtector;
  log: Logger;
  metrics: MetricsRegistry;
  audit: (events: ItemEvent[]) => Promise<void>;
  clock?: SchedulerClock;
}

export interface RunningRotation {
  readonly scheduler: RotationScheduler | undefined;
  stop(): Promise<void>;
}

export function startRotation(w: RotationWiring): RunningRotation {
  const rotations = w.metrics.counter({
    name: 'kmipd_rotations_total',
    help: 'Automatic key rotations attempted, by result (rotated, failed, conflict: another rotator did it).',
    labelNames: ['result'] as const,
  });
  const failures = w.metrics.counter({
    name: 'kmipd_rotation_failures_total',
    help: 'Automatic key rotations that failed and will be retried, by KMIP result reason.',
    labelNames: ['reason'] as const,
  });
  // The series exist from the start, so an alert on "rotated stays 0" can be written.
  for (const result of ['rotated', 'failed', 'conflict']) rotations.inc({ result }, 0);
  if (!w.config.enabled) return { scheduler: undefined, stop: async () => undefined };

  const scheduler = createRotationScheduler({
    objects: w.objects,
    rotation: w.rotation,
    keys: w.keys,
    log: w.log,
    ...(w.clock ? { clock: w.clock } : {}),
    pollMs: w.config.pollMs,
    leaseMs: w.config.leaseMs,
    batchSize: w.config.batchSize,
    audit: w.audit,
    onResult(result, reason) {
      rotations.inc({ result });
      if (result === 'failed') failures.inc({ reason: reason ?? 'unknown' });
    },
  });
  scheduler.start();
  return { scheduler, stop: () => scheduler.stop() };
}
