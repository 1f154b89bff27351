/**
 * Child process for the two-process rotation test (K8): one "server process" running the rotation
 * scheduler on a shared SQLite file and SoftHSM2 token, at a fixed fake time. It prints "ready",
 * waits for "go" on stdin (so both processes start together), ticks until nothing is due, then
 * prints one JSON line: the old keys it rotated, the races it lost, the passes it made.
 * Run: node --import ./test/support/ts-register.mjs test/support/rotation-worker.ts
 * Environment: KMIPD_ROTATION_WORKER = JSON { dbPath, hsm (HsmConfig), nowMs, owner }.
 */
import pino from 'pino';
import { openPkcs11Protector } from '../../src/hsm/pkcs11-protector.js';
import type { HsmConfig } from '../../src/hsm/config.js';
import { createRotationScheduler } from '../../src/rotation/scheduler.js';
import { openSqliteStore } from '../../src/store/index.js';
import { sqliteRotationStore } from '../../src/store/sqlite/rotation.js';

const env = JSON.parse(process.env['KMIPD_ROTATION_WORKER'] ?? '{}') as { dbPath: string; hsm: HsmConfig; nowMs: number; owner: string };
const store = await openSqliteStore({ path: env.dbPath });
const keys = await openPkcs11Protector(env.hsm);
const scheduler = createRotationScheduler({
  objects: store,
  rotation: sqliteRotationStore(store),
  keys,
  log: pino({ level: 'silent' }),
  clock: { now: () => env.nowMs, setTimeout: () => 0, clearTimeout: () => undefined },
  owner: env.owner,
  batchSize: 2,
});
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();

const started = Date.now();
const rotated: string[] = [];
const conflicts: string[] = [];
let passes = 0;
for (; passes < 200; passes++) {
  const r = await scheduler.tick();
  rotated.push(...r.rotated.map((x) => x.oldUid));
  conflicts.push(...r.conflicts);
  if (r.failed.length > 0) throw new Error(`rotation failed: ${JSON.stringify(r.failed)}`);
  if (r.due === 0) break;
  // Keys the other process holds: let it finish them.
  if (r.rotated.length === 0 && r.conflicts.length === 0) await new Promise((res) => setTimeout(res, 20));
}
process.stdout.write(`${JSON.stringify({ rotated, conflicts, passes, elapsedMs: Date.now() - started })}\n`);
await scheduler.stop();
await store.close();
await keys.close();
process.exit(0);
