// A real kmipd for the vector and interop suites, in-process: `initDeployment` (src/cli/init.ts)
// into a temp dir, then `serveDeployment` (src/cli/serve.ts) on 127.0.0.1 with a free port and
// no admin listener. Clients use the deployment's own CA and admin certificate (CN=admin, with
// the clientAuth extended key usage).
//
// The store is SQLite unless asked otherwise: `{ store: 'postgres' }`, or KMIPD_TEST_STORE=postgres
// for a whole run (the conformance and interop suites against a PostgreSQL-backed node, K10),
// puts it in a fresh database on the run's PostgreSQL server (test/support/postgres.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDeployment } from '../../src/cli/init.js';
import { serveDeployment, type ExecutorFactory, type RunningDeployment } from '../../src/cli/serve.js';
import { kmipdExecutorFactory } from '../../src/app/executor-factory.js';
import { createTestDatabase } from './postgres.js';

export type StoreUnderTest = 'sqlite' | 'postgres';

export interface KmipdUnderTestOptions {
  store?: StoreUnderTest;
  /** Fields merged over the deployment's kmipd.json. */
  config?: Record<string, unknown>;
}

/** The store of this run's servers under test: KMIPD_TEST_STORE (sqlite | postgres), default sqlite. */
export function storeUnderTest(): StoreUnderTest {
  const s = process.env['KMIPD_TEST_STORE'] ?? 'sqlite';
  if (s !== 'sqlite' && s !== 'postgres') throw new Error(`KMIPD_TEST_STORE must be sqlite or postgres, not ${s}`);
  return s;
}

export interface KmipdUnderTest {
  host: string;
  port: number;
  /** PEM contents: the deployment CA, and the admin client certificate and key. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** Paths of the same files, for clients that read files (PyKMIP). */
  paths: { ca: string; cert: string; key: string };
  /** The deployment directory (kmipd.json, certs/, data/), for CLI commands against it. */
  dir: string;
  running: RunningDeployment;
  stop(): Promise<void>;
}

/** A real deployment (`kmipd init`) served with the production wiring on an ephemeral port. */
export async function startKmipdUnderTest(
  executorFactory: ExecutorFactory = kmipdExecutorFactory,
  options: KmipdUnderTestOptions = {},
): Promise<KmipdUnderTest> {
  const store = options.store ?? storeUnderTest();
  const url = store === 'postgres' ? await createTestDatabase('kmipd_under_test') : undefined;
  const root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-under-test-'));
  const dir = path.join(root, 'deployment');
  try {
    await initDeployment(dir, { adminListen: null, print: () => undefined, ...(url !== undefined ? { store: url } : {}) });
    // The OASIS vectors bracket each test case with the Interop operation, which production
    // deployments do not offer (KMIP 2.1 §6.1.26): this test deployment turns it on.
    const configPath = path.join(dir, 'kmipd.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), interopOperation: true, ...options.config }, null, 2));
    const running = await serveDeployment(dir, {
      listen: '127.0.0.1:0',
      adminListen: null,
      executorFactory,
      logDestination: { write: () => undefined },
    });
    const paths = { ca: path.join(dir, 'certs', 'ca.crt'), cert: path.join(dir, 'certs', 'admin.crt'), key: path.join(dir, 'certs', 'admin.key') };
    return {
      host: '127.0.0.1',
      port: running.kmip.address.port,
      ca: readFileSync(paths.ca),
      cert: readFileSync(paths.cert),
      key: readFileSync(paths.key),
      paths,
      dir,
      running,
      stop: async () => {
        await running.shutdown();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
