// A real deployment (kmipd init + serve with the production wiring) for the K7 suites, with the
// log captured so tests can scan it, and client certificates issued per (tenant, role) exactly
// as `kmipd cert issue` does (issueCertificate + a fingerprint binding in the store).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initDeployment } from '../../../src/cli/init.js';
import { serveDeployment, type RunningDeployment } from '../../../src/cli/serve.js';
import { kmipdExecutorFactory } from '../../../src/app/executor-factory.js';
import { issueCertificate } from '../../../src/authz/cert-issuance.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { sqliteAccessStore } from '../../../src/store/sqlite/bindings.js';
import type { AccessStore } from '../../../src/store/access-types.js';
import { connectKmip, type KmipConnection } from '../../../src/client/connection.js';
import { encodeRequest, parseResponse, type BatchItemRequest } from '../../../src/client/request.js';
import type { ResponseMessage } from '../../../src/kmip/messages.js';
import type { KmipVersion } from '../../../src/kmip/version.js';

export interface Client {
  name: string;
  fingerprint: string;
  cert: string;
  key: string;
  conn: KmipConnection;
  /** Every raw response this client received. */
  responses: Buffer[];
  send(items: BatchItemRequest[], version?: KmipVersion): Promise<ResponseMessage>;
}

export interface AuthzDeployment {
  dir: string;
  dbPath: string;
  port: number;
  ca: string;
  running: RunningDeployment;
  logText(): string;
  /** Runs fn against a second connection to the database, as the CLI does. */
  withAccess<T>(fn: (access: AccessStore) => T | Promise<T>): Promise<T>;
  issue(name: string, role: string, tenant: string, bind?: boolean): Promise<{ cert: string; key: string; fingerprint: string }>;
  connect(name: string, pair: { cert: string; key: string; fingerprint: string }): Promise<Client>;
  admin(): Promise<Client>;
  stop(): Promise<void>;
}

export const v14: KmipVersion = { major: 1, minor: 4 };

export async function startAuthzDeployment(): Promise<AuthzDeployment> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-authz-'));
  const dir = path.join(root, 'deployment');
  const logLines: string[] = [];
  await initDeployment(dir, { adminListen: null, print: () => undefined });
  const running = await serveDeployment(dir, {
    listen: '127.0.0.1:0',
    adminListen: null,
    executorFactory: kmipdExecutorFactory,
    logDestination: { write: (s: string) => void logLines.push(s) },
  });
  const dbPath = path.join(dir, 'data', 'kmipd.db');
  const ca = readFileSync(path.join(dir, 'certs', 'ca.crt'), 'utf8');
  const caKey = readFileSync(path.join(dir, 'certs', 'ca.key'), 'utf8');
  const clients: Client[] = [];
  const port = running.kmip.address.port;

  async function withAccess<T>(fn: (access: AccessStore) => T | Promise<T>): Promise<T> {
    const store = await openSqliteStore({ path: dbPath });
    try {
      return await fn(sqliteAccessStore(store.db));
    } finally {
      await store.close();
    }
  }

  async function connect(name: string, pair: { cert: string; key: string; fingerprint: string }): Promise<Client> {
    const conn = await connectKmip({ host: '127.0.0.1', port, ca, cert: pair.cert, key: pair.key, timeoutMs: 10_000 });
    const responses: Buffer[] = [];
    const client: Client = {
      name,
      ...pair,
      conn,
      responses,
      async send(items, version = v14) {
        const bytes = await conn.send(encodeRequest(version, items));
        responses.push(bytes);
        return parseResponse(bytes);
      },
    };
    clients.push(client);
    return client;
  }

  return {
    dir,
    dbPath,
    port,
    ca,
    running,
    logText: () => logLines.join(''),
    withAccess,
    async issue(name, role, tenant, bind = true) {
      const issued = issueCertificate({ ca: { cert: ca, key: caKey }, name, tenant, days: 2 });
      if (bind) {
        await withAccess((a) => a.addBinding({ field: 'fingerprint', value: issued.fingerprint, tenant, role }));
      }
      return { cert: issued.cert, key: issued.key!, fingerprint: issued.fingerprint };
    },
    connect,
    admin: () =>
      connect('admin', {
        cert: readFileSync(path.join(dir, 'certs', 'admin.crt'), 'utf8'),
        key: readFileSync(path.join(dir, 'certs', 'admin.key'), 'utf8'),
        fingerprint: '',
      }),
    async stop() {
      for (const c of clients) if (!c.conn.closed) await c.conn.close().catch(() => undefined);
      await running.shutdown();
    },
  };
}

export function removeDeployment(d: AuthzDeployment): void {
  rmSync(path.dirname(d.dir), { recursive: true, force: true });
}
