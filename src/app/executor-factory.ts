/**
 * The wiring of one kmipd process (STYLE.md: "wiring is one createServer(config)"): the HSM key
 * protector, the object store, the handler table and the message executor, with metrics and health
 * checks. `kmipd serve` passes this factory to the transport.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolvePath } from '../config/config.js';
import { createExecutor } from '../dispatch/executor.js';
import { openPkcs11Protector, type Pkcs11Protector } from '../hsm/pkcs11-protector.js';
import type { HsmConfig } from '../hsm/config.js';
import { enumValueName } from '../kmip/registry.js';
import { createHandlerTable } from '../ops/index.js';
import { openStoreBackend, type StoreBackend } from '../store/backend.js';
import type { ExecutorContext, ExecutorFactory } from '../cli/serve.js';
import type { KmipdConfig } from '../config/config.js';
import { DEFAULT_DURATION_BUCKETS, type MetricsRegistry } from '../observability/metrics.js';
import { createAccessControl, type CertificateAccessControl } from '../authz/access-control.js';
import { createAuditTrail } from '../audit/trail.js';
import type { ConnectionGate } from '../server/listener.js';
import { startRotation } from './rotation.js';

export function packageVersion(): string {
  const pkg = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** The deployment's HSM settings with paths resolved against the deployment directory. */
export function hsmConfigOf(config: KmipdConfig, dir: string): HsmConfig {
  const h = config.hsm;
  return {
    module: h.module,
    tokenLabel: h.tokenLabel,
    pin: { env: h.pinEnv, file: h.pinFile ? resolvePath(dir, h.pinFile) : undefined },
    kekLabelPrefix: h.kekLabelPrefix,
    softhsmConf: h.softhsmConf ? resolvePath(dir, h.softhsmConf) : undefined,
    revealCacheEntries: h.revealCacheEntries, revealCacheTtlMs: h.revealCacheTtlMs,
  };
}

export const kmipdExecutorFactory: ExecutorFactory = async (ctx: ExecutorContext) => {
  const { config, dir, log, metrics, health } = ctx;
  const keys = await openPkcs11Protector(hsmConfigOf(config, dir), log.child({ component: 'hsm' }));
  try {
    // Refuse to serve without a KEK: every create would fail later, and silently.
    await keys.currentKekVersion();
  } catch (err) {
    await keys.close();
    throw err;
  }
  let backend: StoreBackend;
  let access: CertificateAccessControl;
  try {
    backend = await openStoreBackend(config.store, dir, {
      applicationName: `kmipd ${config.listen}`,
      onIdleError: (err) => log.warn({ err: err.message, component: 'store' }, 'idle store connection failed'),
    });
  } catch (err) {
    await keys.close();
    throw err;
  }
  try {
    // K7: certificates → (tenant, role) from the bindings in the store (every node's: K10).
    access = await createAccessControl({ store: backend.access, log: log.child({ component: 'authz' }) });
  } catch (err) {
    await backend.close();
    await keys.close();
    throw err;
  }
  const store = backend.objects;
  registerRevealCacheMetrics(metrics, keys);

  const requests = metrics.counter({
    name: 'kmipd_requests_total',
    help: 'Batch items answered, by operation and result.',
    labelNames: ['operation', 'result'] as const,
  });
  const duration = metrics.histogram({
    name: 'kmipd_request_duration_seconds',
    help: 'Time to answer one batch item, by operation.',
    labelNames: ['operation'] as const,
    buckets: DEFAULT_DURATION_BUCKETS,
  });

  // One audit record per item, durable before the response leaves.
  const audit = createAuditTrail({ store: backend.audit, log: log.child({ component: 'audit' }), explain: (p) => access.explain(p) });
  const gate: ConnectionGate = {
    admits: (p) => access.admits(p),
    attach: (closeWhere) => access.onRevoked((fps) => void closeWhere((p) => fps.has(p.fingerprint))),
  };

  const handlers = createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: packageVersion(), interop: config.interopOperation });
  const executor = createExecutor({
    handlers,
    limits: {
      maxMessageBytes: config.limits.maxMessageBytes,
      maxDepth: config.limits.maxDepth,
      maxBatchCount: config.limits.maxBatchCount,
      maxResponseBytes: config.limits.maxResponseBytes,
    },
    log: log.child({ component: 'kmip' }),
    services: {
      openUnit: (scope) => store.begin({ tenant: scope }),
      keys,
    },
    access,
    audit: (events) => audit.record(events),
    onItem(ev) {
      const operation = (ev.operation !== undefined && enumValueName('Operation', ev.operation)) || 'unknown';
      const result =
        ev.reason === undefined
          ? (enumValueName('ResultStatus', ev.status) ?? 'unknown')
          : (enumValueName('ResultReason', ev.reason) ?? 'unknown');
      requests.inc({ operation, result });
      duration.observe({ operation }, ev.durationMs / 1000);
    },
  });

  // K8: the rotation scheduler, on the same store, HSM and audit trail as the requests.
  const rotation = startRotation({ config: config.rotation, objects: store, rotation: backend.rotation, keys, log, metrics, audit: (evs) => audit.record(evs) });

  health.register('hsm', async () => {
    const h = await keys.health();
    return { ok: h.ok, detail: h.detail };
  });
  // A real query for PostgreSQL (bounded), so a load balancer takes a node that lost its database out.
  health.register('store', () => backend.health());

  return {
    execute: (message, conn) => executor.execute(message, conn),
    gate,
    async close() {
      await rotation.stop();
      access.close();
      await backend.close();
      await keys.close();
    },
  };
};

/** The HSM reveal cache's counters (README, "Reveal cache"), read from the protector at each scrape. */
function registerRevealCacheMetrics(metrics: MetricsRegistry, keys: Pkcs11Protector): void {
  metrics.gauge({
    name: 'kmipd_reveal_cache_entries',
    help: 'Verified, unwrapped keys the reveal cache holds inside the HSM.',
    collect: (g) => g.set(keys.revealCacheStats().entries),
  });
  metrics.counter({
    name: 'kmipd_reveal_cache_lookups_total',
    help: 'Reveals answered from the reveal cache (hit) or by the HSM MAC check and unwrap (miss).',
    labelNames: ['result'] as const,
    collect: (c) => {
      const s = keys.revealCacheStats();
      c.mirror({ result: 'hit' }, s.hits);
      c.mirror({ result: 'miss' }, s.misses);
    },
  });
  metrics.counter({
    name: 'kmipd_reveal_cache_evictions_total',
    help: 'Keys the reveal cache dropped: size or age bound, Destroy, re-wrap, or a stored row that changed.',
    collect: (c) => c.mirror(keys.revealCacheStats().evictions),
  });
}
