/**
 * File-level checks on a SQLite database (https://sqlite.org/pragma.html#pragma_integrity_check,
 * https://sqlite.org/pragma.html#pragma_locking_mode) for backup and restore: integrity of a copy,
 * making a copy self-contained, and whether another process has the live file open.
 *
 * These are operations on the file, not on managed objects, so they do not go through the object
 * store interface; they are the only SQL outside src/store and could move to store/sqlite.
 */
import Database from 'better-sqlite3';

export interface IntegrityReport {
  ok: boolean;
  /** integrity_check's own lines ("ok", or the problems found, at most 20). */
  messages: string[];
  /** PRAGMA user_version: the schema version the file was written with. */
  schemaVersion: number;
  hasObjectsTable: boolean;
}

/** Runs PRAGMA integrity_check. Opening a file that is not a database reports, it does not throw. */
export function checkDatabaseFile(path: string): IntegrityReport {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    return { ok: false, messages: [`cannot open: ${err instanceof Error ? err.message : String(err)}`], schemaVersion: 0, hasObjectsTable: false };
  }
  try {
    const rows = db.prepare('PRAGMA integrity_check(20)').pluck().all() as string[];
    const schemaVersion = Number(db.pragma('user_version', { simple: true }));
    const hasObjectsTable =
      db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'objects'").pluck().get() === 1;
    return { ok: rows.length === 1 && rows[0] === 'ok', messages: rows, schemaVersion, hasObjectsTable };
  } catch (err) {
    return { ok: false, messages: [err instanceof Error ? err.message : String(err)], schemaVersion: 0, hasObjectsTable: false };
  } finally {
    db.close();
  }
}

/**
 * Switches a copied database to rollback-journal mode, so that it is one self-contained file
 * (a WAL-mode copy would need its -wal beside it to be opened elsewhere).
 */
export function makeSelfContained(path: string): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/**
 * True if another connection (a running kmipd serve, backup or rotation) has the database open.
 * A WAL connection holds a shared lock for as long as it is open, so an exclusive lock taken with
 * no waiting fails exactly then. Only an indication at this instant, which restore re-checks
 * right before it swaps files.
 */
export function databaseInUse(path: string): boolean {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}
