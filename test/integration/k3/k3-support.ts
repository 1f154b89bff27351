// Helpers for the K3 suites: a real deployment (`kmipd init`), the compiled `kmipd serve` in a
// child process (test/support/serve-child.ts), and a small KMIP client doing Create and Get over
// mutual TLS with the deployment's admin certificate.
import { mkdtempSync, readFileSync } from 'node:fs';
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
export { kmipdBin } from '../../support/serve-child.js';

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

export { serveChild, type ServeChild } from '../../support/serve-child.js';

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
