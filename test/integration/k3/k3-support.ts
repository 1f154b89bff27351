// Helpers for the K3 suites: a real deployment (`kmipd init`), the compiled `kmipd serve` in a
// child process (dist/, so run `npx tsc -p tsconfig.json` first; starting from sources through the
// TS hooks takes far too long on a loaded machine), and a small KMIP client doing Create and Get
// over mutual TLS with the deployment's admin certificate.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectKmip, type KmipConnection } from '../../../src/client/connection.js';
import { encodeRequest, parseResponse } from '../../../src/client/request.js';
import { initDeployment } from '../../../src/cli/init.js';
import { loadConfig, resolvePath } from '../../../src/config/config.js';
import { Enum, Mask, Tag, enumValueName } from '../../../src/kmip/registry.js';
import type { ResponseMessage } from '../../../src/kmip/messages.js';
import { at, child, ops, v21 } from '../../support/lifecycle-requests.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const kmipdBin = path.join(repoRoot, 'dist/cli/main.js');

export interface Deployment {
  root: string;
  dir: string;
  dbPath: string;
}

export async function makeDeployment(): Promise<Deployment> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-k3-'));
  const dir = path.join(root, 'deployment');
  await initDeployment(dir, { adminListen: null, print: () => undefined });
  const store = loadConfig(dir).store;
  if (store.kind !== 'sqlite') throw new Error('K3 tests use the SQLite store');
  return { root, dir, dbPath: resolvePath(dir, store.path) };
}

export interface ServeChild {
  port: number;
  proc: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export function serveChild(dir: string): Promise<ServeChild> {
  if (!existsSync(kmipdBin)) throw new Error(`${kmipdBin} is missing: run 'npx tsc -p tsconfig.json' first`);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [kmipdBin, 'serve', '--dir', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let started = false;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`kmipd serve did not start in time:\n${out}`));
    }, 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /"listen":"127\.0\.0\.1:(\d+)","msg":"KMIP listener started"/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          proc,
          output: () => out,
          async kill9() {
            proc.kill('SIGKILL');
            await exited;
          },
          async stop() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`kmipd serve exited with ${code}:\n${out}`));
      }
    });
  });
}

export function connectAdmin(dir: string, port: number): Promise<KmipConnection> {
  const certs = path.join(dir, 'certs');
  return connectKmip({
    host: '127.0.0.1',
    port,
    ca: readFileSync(path.join(certs, 'ca.crt')),
    cert: readFileSync(path.join(certs, 'admin.crt')),
    key: readFileSync(path.join(certs, 'admin.key')),
    timeoutMs: 20_000,
  });
}

const M = Mask.CryptographicUsageMask;

async function call(conn: KmipConnection, items: Parameters<typeof encodeRequest>[1]): Promise<ResponseMessage> {
  return parseResponse(await conn.send(encodeRequest(v21, items)));
}

/** Creates an AES-256 key; resolves with its Unique Identifier once the server answered. */
export async function createKey(conn: KmipConnection): Promise<string> {
  const res = await call(conn, [ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 256, M.Encrypt | M.Decrypt)]);
  const item = res.batchItems[0];
  if (item?.resultStatus !== Enum.ResultStatus.Success) throw new Error(`Create failed: ${describe(res)}`);
  const uid = child(item.responsePayload ?? [], Tag.UniqueIdentifier);
  if (uid?.type !== 'TextString') throw new Error('Create answered without a Unique Identifier');
  return uid.value;
}

export type GetResult = { ok: true; material: Buffer } | { ok: false; reason: string; message: string };

export async function getKey(conn: KmipConnection, uid: string): Promise<GetResult> {
  const res = await call(conn, [ops.get(uid)]);
  const item = res.batchItems[0];
  if (item?.resultStatus === Enum.ResultStatus.Success) {
    const m = at(item.responsePayload ?? [], Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial);
    if (m?.type !== 'ByteString') throw new Error('Get answered without Key Material');
    return { ok: true, material: Buffer.from(m.value) };
  }
  return {
    ok: false,
    reason: (item?.resultReason !== undefined && enumValueName('ResultReason', item.resultReason)) || 'none',
    message: item?.resultMessage ?? '',
  };
}

export async function getMaterial(conn: KmipConnection, uid: string): Promise<Buffer> {
  const r = await getKey(conn, uid);
  if (!r.ok) throw new Error(`Get ${uid} failed: ${r.reason} ${r.message}`);
  return r.material;
}

function describe(res: ResponseMessage): string {
  const item = res.batchItems[0];
  if (item === undefined) return 'no batch item';
  return `${enumValueName('ResultStatus', item.resultStatus) ?? item.resultStatus} ${
    item.resultReason !== undefined ? enumValueName('ResultReason', item.resultReason) : ''
  } ${item.resultMessage ?? ''}`;
}

/** Every place in `haystack` where one of `needles` occurs, as "needle i @ offset". */
export function findAll(haystack: Buffer, needles: readonly Buffer[]): string[] {
  const hits: string[] = [];
  needles.forEach((n, i) => {
    const at = haystack.indexOf(n);
    if (at >= 0) hits.push(`key ${i} @ ${at}`);
  });
  return hits;
}
