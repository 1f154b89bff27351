// Two server processes on one store rotate each due key once (K8): two real child processes
// (test/support/rotation-worker.ts), each with its own SQLite connection and its own PKCS#11
// session on one SoftHSM2 token, run the scheduler at the same fake time over 8 due keys. Claims
// (BEGIN IMMEDIATE) and the one-unit rotation must give exactly 8 new keys, 8 history records.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import { sqliteRotationStore } from '../../../src/store/sqlite/rotation.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, okPayload, ops, uidOf, v14 } from '../../support/lifecycle-requests.js';
import { req, struct, text } from '../../support/attribute-requests.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = Date.UTC(2027, 5, 1);
const DAY = 86_400_000;
const KEYS = 8;

interface WorkerResult {
  rotated: string[];
  conflicts: string[];
  passes: number;
  elapsedMs: number;
}

function startWorker(env: object): { child: ChildProcessWithoutNullStreams; ready: Promise<void>; result: Promise<WorkerResult> } {
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(repoRoot, 'test/support/ts-register.mjs')).href, path.join(repoRoot, 'test/support/rotation-worker.ts')],
    { env: { ...process.env, KMIPD_ROTATION_WORKER: JSON.stringify(env) }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker timed out; stderr: ${err}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`worker exited ${code}; stderr: ${err}`));
      else resolve(JSON.parse(line) as WorkerResult);
    });
  });
  return { child, ready, result };
}

describeHsm('two server processes on one store', () => {
  let h: OpsHarness;
  let nowMs = T0;
  beforeAll(async () => {
    h = await openOpsHarness({ clock: () => new Date(nowMs) });
  });
  afterAll(async () => {
    await h.close();
  });

  it('rotate each due key exactly once', async () => {
    const originals: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const res = await h.send(v14, [
        ops.createKey(v14, Enum.CryptographicAlgorithm.AES, 256, Mask.CryptographicUsageMask.Encrypt, [attr.name(`shared-${i}`), attr.activationDate(BigInt(T0 / 1000 - 60))]),
      ]);
      originals.push(uidOf(okPayload(res)));
    }
    const rotation = sqliteRotationStore(h.store);
    await rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 86400, offsetSeconds: null, automatic: true, graceSeconds: 3600 }, nowMs);

    const env = { dbPath: h.dbPath, hsm: h.token.config, nowMs: T0 + DAY + 1000 };
    const a = startWorker({ ...env, owner: 'process-a' });
    const b = startWorker({ ...env, owner: 'process-b' });
    await Promise.all([a.ready, b.ready]);
    a.child.stdin.end('go\n');
    b.child.stdin.end('go\n');
    const [ra, rb] = await Promise.all([a.result, b.result]);
    console.log(
      `process a rotated ${ra.rotated.length} (${ra.conflicts.length} lost races, ${ra.passes} passes, ${ra.elapsedMs} ms), ` +
        `b rotated ${rb.rotated.length} (${rb.conflicts.length} lost races, ${rb.passes} passes, ${rb.elapsedMs} ms)`,
    );

    // Each original rotated by exactly one process.
    expect([...ra.rotated, ...rb.rotated].sort()).toEqual([...originals].sort());
    expect(ra.rotated.filter((u) => rb.rotated.includes(u))).toEqual([]);

    const history = await rotation.history();
    expect(history.map((r) => r.oldUid).sort()).toEqual([...originals].sort());
    expect(new Set(history.map((r) => r.newUid)).size).toBe(KEYS);

    // 16 keys in all: every name on exactly one key, the replacement.
    nowMs = T0 + DAY + 2000;
    const all = okPayload(
      await h.send(v14, [req.locate1([struct(Tag.Attribute, [text(Tag.AttributeName, 'Object Type'), { tag: Tag.AttributeValue, type: 'Enumeration', value: Enum.ObjectType.SymmetricKey }])])]),
    ).filter((n) => n.tag === Tag.UniqueIdentifier);
    expect(all).toHaveLength(2 * KEYS);
    for (let i = 0; i < KEYS; i++) {
      const found = okPayload(
        await h.send(v14, [req.locate1([struct(Tag.Attribute, [text(Tag.AttributeName, 'Name'), { ...attr.name(`shared-${i}`), tag: Tag.AttributeValue }])])]),
      )
        .filter((n) => n.tag === Tag.UniqueIdentifier)
        .map((n) => n.value);
      expect(found).toEqual([history.find((r) => r.oldUid === originals[i])!.newUid]);
    }
  }, 120_000);
});
