/**
 * Backup and restore of a deployment's object store (issue K3 §6), with SQLite's online backup
 * (https://sqlite.org/backup.html) through the store's backup API.
 *
 * A backup holds only HSM-wrapped key material: it is useless without the HSM token (and its PIN)
 * that holds the KEK versions it was wrapped under. Restore therefore checks, besides the file's
 * integrity, that every KEK version the backup uses is still on the token: a backup taken before
 * a rotation whose old KEK was destroyed can no longer be read, and restoring it would replace
 * good data with unreadable data.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, copyFileSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig, resolvePath } from '../config/config.js';
import { hsmConfigOf } from '../app/executor-factory.js';
import { openPkcs11Protector } from '../hsm/pkcs11-protector.js';
import { openSqliteStore, type BackupProgress } from '../store/index.js';
import { schemaVersion as currentSchemaVersion } from '../store/sqlite/migrations.js';
import { kekUsage } from './kek-rotation.js';
import { checkDatabaseFile, databaseInUse, makeSelfContained } from '../store/sqlite/file-checks.js';

export class MaintenanceError extends Error {
  override readonly name = 'MaintenanceError';
}

export interface BackupResult {
  path: string;
  pages: number;
}

/** The deployment's database file; backup and restore here are of the embedded SQLite store. */
export function databasePathOf(dir: string, config = loadConfig(dir)): string {
  if (config.store.kind !== 'sqlite') {
    throw new MaintenanceError(
      'the store is PostgreSQL: back it up with PostgreSQL\'s own tools (pg_dump, or base backups with WAL archiving); ' +
        'the wrapped keys stay useless without the HSM token, which is backed up separately',
    );
  }
  return resolvePath(dir, config.store.path);
}

/**
 * Copies the live store (a server may be writing) to `out`: written to `out.partial`, checked,
 * made self-contained, fsync'd, then renamed, so `out` is either absent or a complete backup.
 */
export async function backupDeployment(
  dir: string,
  out: string,
  onProgress?: (p: BackupProgress) => void,
): Promise<BackupResult> {
  const dbPath = databasePathOf(dir);
  if (!existsSync(dbPath)) throw new MaintenanceError(`no database at ${dbPath}: nothing to back up`);
  if (existsSync(out)) throw new MaintenanceError(`refusing to overwrite ${out}; choose another --out`);
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  const store = await openSqliteStore({ path: dbPath });
  let pages = 0;
  try {
    await store.backup(partial, (p) => {
      pages = p.totalPages;
      onProgress?.(p);
    });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    await store.close();
  }
  try {
    chmodSync(partial, 0o600);
    makeSelfContained(partial);
    const report = checkDatabaseFile(partial);
    if (!report.ok) throw new MaintenanceError(`the backup failed its integrity check: ${report.messages.join('; ')}`);
    fsyncPath(partial);
    renameSync(partial, out);
    fsyncPath(dirname(out));
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  return { path: out, pages };
}

export interface RestoreOptions {
  /** Restore even if the backup uses KEK versions missing from the token (their keys stay unreadable). */
  force?: boolean;
  /** Clock for the name of the set-aside file (tests). */
  now?: () => Date;
}

export interface RestoreResult {
  /** Where the database that was replaced now is (undefined if there was none). */
  replacedPath: string | undefined;
  objectsByKekVersion: Map<number, number>;
}

/**
 * Replaces the deployment's database with `from`. Refuses while a process has the database open,
 * if `from` fails integrity_check or was written by a newer kmipd, and (unless `force`) if the
 * token lacks a KEK version the backup needs. The replaced database is kept beside it.
 */
export async function restoreDeployment(dir: string, from: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const config = loadConfig(dir);
  const dbPath = databasePathOf(dir, config);
  if (!existsSync(from)) throw new MaintenanceError(`no backup file at ${from}`);
  assertNotInUse(dbPath);

  // Work on a copy next to the live file (same file system, so the final rename is atomic) and
  // check the copy: what is checked is exactly what is swapped in.
  const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const incoming = `${dbPath}.restoring-${stamp}`;
  copyFileSync(from, incoming);
  chmodSync(incoming, 0o600);
  try {
    const report = checkDatabaseFile(incoming);
    if (!report.ok) throw new MaintenanceError(`${from} failed its integrity check: ${report.messages.join('; ')}`);
    if (!report.hasObjectsTable) throw new MaintenanceError(`${from} is not a kmipd database (no objects table)`);
    if (report.schemaVersion > currentSchemaVersion) {
      throw new MaintenanceError(`${from} was written by a newer kmipd (schema ${report.schemaVersion} > ${currentSchemaVersion})`);
    }

    const keys = await openPkcs11Protector(hsmConfigOf(config, dir));
    let usage: Map<number, number>;
    let onToken: number[];
    try {
      onToken = await keys.listKekVersions();
      const store = await openSqliteStore({ path: incoming });
      try {
        usage = await kekUsage(store, onToken);
      } finally {
        await store.close();
      }
    } finally {
      await keys.close();
    }
    const missing = [...usage].filter(([v, n]) => n > 0 && !onToken.includes(v));
    if (missing.length > 0 && options.force !== true) {
      const list = missing.map(([v, n]) => `KEK v${v} (${n} objects)`).join(', ');
      throw new MaintenanceError(
        `${from} holds keys wrapped under KEK versions the token no longer has: ${list}. ` +
          'They cannot be read; restore anyway with --force.',
      );
    }

    assertNotInUse(dbPath);
    let replacedPath: string | undefined;
    if (existsSync(dbPath)) {
      replacedPath = `${dbPath}.replaced-${stamp}`;
      // The lock probe closed the last connection, which checkpoints and removes -wal; move
      // whatever is left with the file all the same, so nothing of the old database is lost.
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, replacedPath + suffix);
      }
      renameSync(dbPath, replacedPath);
    }
    renameSync(incoming, dbPath);
    fsyncPath(dirname(dbPath));
    return { replacedPath, objectsByKekVersion: usage };
  } catch (err) {
    rmSync(incoming, { force: true });
    for (const suffix of ['-wal', '-shm']) rmSync(incoming + suffix, { force: true });
    throw err;
  }
}

function assertNotInUse(dbPath: string): void {
  if (existsSync(dbPath) && databaseInUse(dbPath)) {
    throw new MaintenanceError(
      `${dbPath} is open in another process (a running 'kmipd serve', backup or rotation); stop it before restoring`,
    );
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
