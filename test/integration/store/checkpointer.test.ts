// The WAL checkpointer (src/store/sqlite/checkpointer.ts): checkpoints run in a worker thread, the
// WAL stays bounded under sustained writes (commits are held for one pass so that it restarts),
// a SIGKILL in the middle of checkpoints loses nothing acknowledged, and close() leaves every row
// in the database file and no WAL behind.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore, type SqliteObjectStore } from '../../../src/store/index.js';
import { notFoundWhole, runUntilKilled } from '../../support/store-crash-run.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  tmp.remove();
});

/** `writers` concurrent loops commit `total` keys; returns their identifiers and the largest WAL file size seen. */
async function sustainedWrites(store: SqliteObjectStore, walFile: string, total: number, writers = 16): Promise<{ uids: string[]; maxWal: number }> {
  const uids: string[] = [];
  let maxWal = 0;
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      // The tenant notFoundWhole() reads.
      const unit = store.begin({ tenant: 'crash' });
      const uid = store.newUid();
      unit.insert(symmetricKey(uid, 'crash', `key-${i}`));
      await unit.commit();
      uids.push(uid);
      if (fs.existsSync(walFile)) maxWal = Math.max(maxWal, fs.statSync(walFile).size);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return { uids, maxWal };
}

/** Rows in the database file alone (a copy without its WAL): what checkpoints have copied into it. */
function rowsInMainFile(dbPath: string): number {
  const copy = tmp.file('main-only.sqlite');
  fs.copyFileSync(dbPath, copy);
  const db = new Database(copy, { readonly: true });
  try {
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'objects'").get() === undefined) return 0;
    return (db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
  } finally {
    db.close();
    fs.rmSync(copy, { force: true });
  }
}

it('the WAL stays bounded under sustained writes, and every commit settles', async () => {
  const dbPath = tmp.file('s.sqlite');
  const restartFrames = 128;
  const store = await openSqliteStore({ path: dbPath, checkpoint: { restartFrames, passFrames: 32, passIntervalMs: 0 } });
  const pageSize = Number(store.db.pragma('page_size', { simple: true }));
  // SQLite's automatic checkpoint is off on the main connection: only the checkpointer bounds the WAL.
  expect(Number(store.db.pragma('wal_autocheckpoint', { simple: true }))).toBe(0);

  // The worker starts with the first commit; until it answers, only the hard limit bounds the WAL.
  expect(store.checkpointStats()?.passes).toBe(0);
  let warmup = 0;
  while (store.checkpointStats()?.passes === 0) {
    await sustainedWrites(store, `${dbPath}-wal`, 1, 1);
    warmup++;
    expect(warmup).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 20));
  }

  const total = 3000;
  const { uids, maxWal } = await sustainedWrites(store, `${dbPath}-wal`, total);
  const stats = store.checkpointStats();
  expect(stats).toBeDefined();
  expect(uids).toHaveLength(total);
  expect(store.stats().unitsCommitted).toBe(total + warmup);
  expect(stats?.workerAlive).toBe(true);
  expect(stats?.passes).toBeGreaterThan(0);
  expect(stats?.heldPasses).toBeGreaterThan(0);

  // The same writes with no checkpoint at all: what the WAL would grow to.
  const controlPath = tmp.file('control.sqlite');
  const control = await openSqliteStore({ path: controlPath, checkpoint: false });
  control.db.pragma('wal_autocheckpoint = 0');
  const unbounded = (await sustainedWrites(control, `${controlPath}-wal`, total)).maxWal;
  await control.close();

  // The WAL also grows while a pass waits for its fsyncs (slow on a loaded machine): a margin.
  const bound = 16 * restartFrames * pageSize;
  console.log(`WAL bounded: ${total} commits, largest WAL ${maxWal} bytes (bound ${bound}; ${unbounded} without checkpoints), ${JSON.stringify(stats)}`);
  expect(unbounded).toBeGreaterThan(3 * bound);
  expect(maxWal).toBeLessThanOrEqual(bound);
  await store.close();
}, 120_000);

it('close() waits for the checkpointer, leaves every row in the database file and removes the WAL', async () => {
  const dbPath = tmp.file('s.sqlite');
  // No background pass in this test's lifetime: the rows are still in the WAL when close() starts.
  const store = await openSqliteStore({ path: dbPath, checkpoint: { passFrames: 1e12 } });
  const { uids } = await sustainedWrites(store, `${dbPath}-wal`, 400, 8);
  expect(rowsInMainFile(dbPath)).toBeLessThan(uids.length);
  await store.close();
  expect(fs.existsSync(`${dbPath}-wal`)).toBe(false);
  expect(rowsInMainFile(dbPath)).toBe(uids.length);

  const reopened = await openSqliteStore({ path: dbPath });
  expect(await notFoundWhole(reopened, uids)).toEqual([]);
  await reopened.close();
}, 60_000);

it('a SIGKILL while checkpoints run loses nothing acknowledged; integrity_check is ok', async () => {
  const dbPath = tmp.file('crash.sqlite');
  // A pass whenever the last one ended, a restart every 32 frames: the kill lands among checkpoints.
  const options = JSON.stringify({ passFrames: 1, passIntervalMs: 0, restartFrames: 32 });
  const empty = await openSqliteStore({ path: tmp.file('empty.sqlite') });
  const pageSize = Number(empty.db.pragma('page_size', { simple: true }));
  await empty.close();
  const emptySize = fs.statSync(tmp.file('empty.sqlite')).size;
  let total = 0;
  for (const killAfter of [1500, 800]) {
    const { lines, signal } = await runUntilKilled(dbPath, killAfter, [options]);
    expect(signal).toBe('SIGKILL');
    expect(lines.length).toBeGreaterThanOrEqual(killAfter - 1);
    total += lines.length;
    // The checkpointer ran: rows reached the database file itself (only checkpoints write it).
    expect(fs.statSync(dbPath).size).toBeGreaterThan(emptySize + 16 * pageSize);

    const store = await openSqliteStore({ path: dbPath });
    expect(await notFoundWhole(store, lines)).toEqual([]);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = (store.db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    expect(count).toBeGreaterThanOrEqual(total);
    await store.close();
  }
}, 120_000);

it('checkpoint: false keeps SQLite checkpointing inside COMMIT', async () => {
  const store = await openSqliteStore({ path: tmp.file('s.sqlite'), checkpoint: false });
  expect(store.checkpointStats()).toBeUndefined();
  expect(Number(store.db.pragma('wal_autocheckpoint', { simple: true }))).toBeGreaterThan(0);
  await store.close();
});
