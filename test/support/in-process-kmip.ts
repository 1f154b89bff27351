// An in-process KMIP connection for the conformance runner: request bytes go straight into the
// real executor (handler table, SQLite store, SoftHSM2 token of an ops harness), no TLS.
import type { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { createExecutor } from '../../src/dispatch/executor.js';
import type { ConnectionInfo } from '../../src/dispatch/types.js';
import { createHandlerTable } from '../../src/ops/index.js';
import { singleTenantAccess } from '../../src/ops/types.js';
import type { OperationHandler } from '../../src/ops/types.js';
import type { KmipConnection } from '../../src/conformance/runner.js';
import type { ObjectStore } from '../../src/store/index.js';
import type { OpsHarness } from './ops-harness.js';

/** A connect() for ConformanceRunner over `h`'s store and token, acting as `tenant`. */
export function inProcessConnect(h: OpsHarness<ObjectStore>, extraHandlers: readonly OperationHandler[] = [], tenant = 'vectors'): () => Promise<KmipConnection> {
  const executor = createExecutor({
    handlers: createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 'test' }, extraHandlers),
    limits: { maxMessageBytes: 1 << 20, maxDepth: 32, maxBatchCount: 64 },
    log: pino({ level: process.env.KMIPD_TEST_LOG ?? 'silent' }),
    services: {
      openUnit: (scope) => h.store.begin({ tenant: scope }),
      keys: h.keys,
    },
    access: singleTenantAccess(tenant, 'in-process vectors'),
  });
  let n = 0;
  return async () => {
    const principal = { subject: `CN=${tenant}`, fingerprint: tenant, certificate: {} as X509Certificate };
    const conn: ConnectionInfo = { id: `vectors-${++n}`, remoteAddress: '127.0.0.1', principal };
    return {
      async send(message: Buffer): Promise<Buffer> {
        const res = await executor.execute(message, conn);
        if (res.kind !== 'reply' || res.bytes === undefined) throw new Error('the executor closed the connection');
        return res.bytes;
      },
      close() {},
    };
  };
}
