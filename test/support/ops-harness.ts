// In-process harness for operation tests: the real executor and handler table over a real
// SQLite file and a real SoftHSM2 token (one per harness), without TLS. Requests are built and
// responses parsed with the project's client helpers.
//
// `store: 'postgres'` (or KMIPD_TEST_STORE=postgres for every harness of a run) puts the same
// executor on a fresh PostgreSQL schema of the run's test server instead (test/support/postgres.ts),
// so operation and conformance suites can run against the PostgreSQL store unchanged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { createExecutor, type ItemEvent } from '../../src/dispatch/executor.js';
import type { ConnectionInfo } from '../../src/dispatch/types.js';
import { createHandlerTable } from '../../src/ops/index.js';
import type { OperationHandler } from '../../src/ops/types.js';
import {
  openPostgresStore,
  openSqliteStore,
  type ObjectStore,
  type PostgresObjectStore,
  type SqliteObjectStore,
  type StoredObject,
} from '../../src/store/index.js';
import { openPkcs11Protector, type Pkcs11Protector } from '../../src/hsm/pkcs11-protector.js';
import { encodeRequest, parseResponse, type BatchItemRequest, type HeaderOptions } from '../../src/client/request.js';
import type { ResponseMessage } from '../../src/kmip/messages.js';
import type { KmipVersion } from '../../src/kmip/version.js';
import { createTestDatabase } from './postgres.js';
import { makeTestToken, type TestToken } from './softhsm.js';

export interface OpsHarness<S extends ObjectStore = SqliteObjectStore> {
  store: S;
  keys: Pkcs11Protector;
  token: TestToken;
  /** The SQLite file, or the PostgreSQL URL of a harness opened with store: 'postgres'. */
  dbPath: string;
  /** Sends one request message as `tenant` and returns the parsed response. */
  send(version: KmipVersion, items: BatchItemRequest[], header?: HeaderOptions, tenant?: string): Promise<ResponseMessage>;
  /** The object as committed, read straight from the store in `tenant`'s scope (undefined: not there). */
  stored(uid: string, tenant?: string): Promise<StoredObject | undefined>;
  close(): Promise<void>;
}

export interface OpsHarnessOptions {
  extraHandlers?: readonly OperationHandler[];
  clock?: () => Date;
  /** Default: KMIPD_TEST_STORE, else 'sqlite'. */
  store?: 'sqlite' | 'postgres';
  /** Receives the executor's per-item events (what the audit trail records). */
  audit?: (events: ItemEvent[]) => Promise<void>;
}

export function openOpsHarness(options?: OpsHarnessOptions & { store?: 'sqlite' }): Promise<OpsHarness>;
export function openOpsHarness(options: OpsHarnessOptions & { store: 'postgres' }): Promise<OpsHarness<PostgresObjectStore>>;
export async function openOpsHarness(options: OpsHarnessOptions = {}): Promise<OpsHarness<ObjectStore>> {
  const token = await makeTestToken();
  const keys = await openPkcs11Protector(token.config);
  await keys.createKek(1);
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-ops-'));
  const kind = options.store ?? (process.env['KMIPD_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite');
  const dbPath = kind === 'postgres' ? await createTestDatabase() : join(dir, 'kmipd.db');
  const store = kind === 'postgres' ? await openPostgresStore({ url: dbPath }) : await openSqliteStore({ path: dbPath });
  const handlers = createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 'test' }, options.extraHandlers ?? []);
  const tenants = new WeakMap<object, string>();
  const executor = createExecutor({
    handlers,
    limits: { maxMessageBytes: 1 << 20, maxDepth: 32, maxBatchCount: 64 },
    log: pino({ level: process.env.KMIPD_TEST_LOG ?? 'silent' }),
    clock: options.clock,
    ...(options.audit ? { audit: options.audit } : {}),
    services: {
      openUnit: (scope) => store.begin({ tenant: scope }),
      keys,
    },
    // Each send names its tenant through the principal; every operation is allowed.
    access: {
      identify: (principal) => {
        const tenant = tenants.get(principal) ?? 'default';
        return { tenant, scope: tenant, role: 'test', rule: 'ops-harness' };
      },
      authorize: () => ({ allowed: true, rule: 'ops-harness' }),
    },
  });
  return {
    store,
    keys,
    token,
    dbPath,
    async send(version, items, header, tenant = 'default') {
      const principal = { subject: `CN=${tenant}`, fingerprint: tenant, certificate: {} as X509Certificate };
      tenants.set(principal, tenant);
      const conn: ConnectionInfo = { id: 'test', remoteAddress: '127.0.0.1', principal };
      const res = await executor.execute(encodeRequest(version, items, header), conn);
      if (res.kind !== 'reply' || res.bytes === undefined) throw new Error('executor closed the connection');
      return parseResponse(res.bytes);
    },
    async stored(uid, tenant = 'default') {
      const unit = store.begin({ tenant });
      try {
        return await unit.get(uid);
      } finally {
        unit.rollback();
      }
    },
    async close() {
      await store.close();
      await keys.close();
      await token.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
