// Real kmipd nodes for the high-availability tests (K10): one deployment directory (certificates,
// config, SoftHSM2 token: the nodes share one key hierarchy) initialised against a fresh database
// on the run's PostgreSQL server, and `kmipd serve` child processes from dist/ on free ports, each
// with its own admin listener. Clients speak mutual TLS with the deployment's admin certificate.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectKmip, type KmipConnection } from '../../src/client/connection.js';
import { encodeRequest, parseResponse, type BatchItemRequest } from '../../src/client/request.js';
import { initDeployment } from '../../src/cli/init.js';
import type { ResponseMessage } from '../../src/kmip/messages.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { adminQuery, createTestDatabase } from './postgres.js';
import { v21 } from './lifecycle-requests.js';

import { serveChild } from './serve-child.js';

export interface HaDeployment {
  root: string;
  dir: string;
  /** The database URL (with its password: tests only). */
  url: string;
  /** The deployment's own PostgreSQL role (not a superuser): tests lock it out to make the database unreachable. */
  role: string;
  remove(): void;
}

/**
 * `kmipd init --store URL` on a fresh schema of the run's server, as a role of its own that owns
 * only that schema (like a production kmipd user), so a test can cut this deployment off the
 * database (ALTER ROLE ... NOLOGIN) without touching other test files.
 */
export async function makeHaDeployment(): Promise<HaDeployment> {
  const adminUrl = new URL(await createTestDatabase('kmipd_ha'));
  const schema = /search_path=(\w+)/.exec(adminUrl.searchParams.get('options') ?? '')?.[1];
  if (schema === undefined) throw new Error('the test database URL names no schema');
  const role = `${schema}_user`;
  const password = randomBytes(12).toString('hex');
  await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  // The schema lives in the run's test database, which adminQuery (database postgres) does not see.
  const owner = new pg.Client({ connectionString: adminUrl.toString() });
  await owner.connect();
  try {
    await owner.query(`GRANT ALL ON SCHEMA ${schema} TO ${role}`);
  } finally {
    await owner.end();
  }
  const url = new URL(adminUrl.toString());
  url.username = role;
  url.password = password;
  const root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-ha-'));
  const dir = path.join(root, 'deployment');
  await initDeployment(dir, { store: url.toString(), adminListen: null, print: () => undefined });
  return { root, dir, url: url.toString(), role, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface Node {
  name: string;
  port: number;
  adminPort: number;
  proc: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  healthz(): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; detail?: string }> } }>;
}

export async function startNode(dir: string, name: string, env: NodeJS.ProcessEnv = {}): Promise<Node> {
  const child = await serveChild(dir, { admin: true, env, label: `node ${name}` });
  const adminPort = child.adminPort!;
  return {
    ...child,
    name,
    adminPort,
    async healthz() {
      const res = await fetch(`http://127.0.0.1:${adminPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: (await res.json()) as Awaited<ReturnType<Node['healthz']>>['body'] };
    },
  };
}

/** A mutual-TLS client of a node, with the deployment's admin certificate (role Admin). */
export function connectNode(dir: string, port: number, cert = 'admin'): Promise<KmipConnection> {
  const certs = path.join(dir, 'certs');
  return connectKmip({
    host: '127.0.0.1',
    port,
    ca: readFileSync(path.join(certs, 'ca.crt')),
    cert: readFileSync(path.join(certs, `${cert}.crt`)),
    key: readFileSync(path.join(certs, `${cert}.key`)),
    timeoutMs: 20_000,
  });
}

export async function call(conn: KmipConnection, items: BatchItemRequest[]): Promise<ResponseMessage> {
  return parseResponse(await conn.send(encodeRequest(v21, items)));
}
