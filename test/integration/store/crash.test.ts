// "A key the server acknowledged is never lost": a child process inserts in a loop and prints each
// identifier once its commit resolved; it is SIGKILLed mid-stream. Reopening the file must find
// every printed identifier, complete, and SQLite's integrity check must pass.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/index.js';
import { notFoundWhole, runUntilKilled } from '../../support/store-crash-run.js';
import { tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  tmp.remove();
});

it('every identifier printed after commit survives SIGKILL; integrity_check is ok', async () => {
  const dbPath = tmp.file('crash.sqlite');
  let total = 0;
  // Two rounds: the second one kills a writer that reopened a previously crashed file.
  for (const killAfter of [1500, 800]) {
    const { lines, signal } = await runUntilKilled(dbPath, killAfter);
    expect(signal).toBe('SIGKILL');
    expect(lines.length).toBeGreaterThanOrEqual(killAfter - 1);
    total += lines.length;

    const store = await openSqliteStore({ path: dbPath });
    expect(await notFoundWhole(store, lines)).toEqual([]);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    const count = (store.db.prepare('SELECT count(*) AS n FROM objects').get() as { n: number }).n;
    // Commits may have become durable without being printed, never the other way round.
    expect(count).toBeGreaterThanOrEqual(total);
    console.log(`crash round: ${lines.length} acknowledged, ${count} rows in total after reopen`);
    await store.close();
  }
}, 120_000);
