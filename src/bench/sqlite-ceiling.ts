/**
 * The single-commit SQLite ceiling of this machine right now: one row per transaction, WAL with
 * synchronous=FULL (every COMMIT waits for fsync), straight through better-sqlite3. A durable
 * Create that commits alone cannot beat it; group commit can.
 */
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

export function singleCommitCeiling(file: string, seconds: number): { ops: number; seconds: number; perSecond: number } {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, payload BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const payload = Buffer.alloc(200, 1);
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      insert.run(`${Date.now().toString(36)}-${n}`, payload); // autocommit: one durable commit each
      n++;
    }
    const s = (performance.now() - start) / 1000;
    return { ops: n, seconds: s, perSecond: n / s };
  } finally {
    db.close();
  }
}
