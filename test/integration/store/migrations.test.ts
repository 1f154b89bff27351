// Opening the database: durability pragmas, ordered migrations tracked in PRAGMA user_version,
// one transaction per migration, and refusal of a file written by a newer kmipd.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreSchemaTooNew, openSqliteStore } from '../../../src/store/index.js';
import { migrations, schemaVersion, type Migration } from '../../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../../src/store/sqlite/db.js';
import { tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  tmp.remove();
});

describe('open and migrate', () => {
  it('creates the schema on an empty file, with WAL, durable commits and foreign keys', async () => {
    const path = tmp.file('empty.sqlite');
    const store = await openSqliteStore({ path });
    const db = store.db;
    expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    expect(schemaVersion).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // NORMAL: the group committer fdatasyncs the WAL itself and every write goes through it.
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
    // Owner-only, including the WAL that holds the latest commits.
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    const names = (db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') ORDER BY name").all() as {
      name: string;
    }[]).map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'objects',
        'attributes',
        'objects_tenant_created',
        'objects_tenant_type_state',
        'objects_created',
        'objects_kek_version',
        'attributes_key_text',
        'attributes_key_num',
      ]),
    );
    await store.close();
    // Reopening an up-to-date file runs nothing and keeps the version.
    const again = await openSqliteStore({ path });
    expect(again.db.pragma('user_version', { simple: true })).toBe(schemaVersion);
    await again.close();
  });

  it('refuses a database whose schema is newer than this build knows, without touching it', async () => {
    const path = tmp.file('newer.sqlite');
    const raw = new Database(path);
    raw.pragma(`user_version = ${schemaVersion + 1}`);
    raw.close();
    const attempt = openSqliteStore({ path });
    await expect(attempt).rejects.toBeInstanceOf(StoreSchemaTooNew);
    await expect(openSqliteStore({ path })).rejects.toThrow(/newer than the \d+ this kmipd knows/);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(schemaVersion + 1);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('applies pending migrations in order, each in its own transaction', () => {
    const path = tmp.file('steps.sqlite');
    const applied: number[] = [];
    const step = (version: number, sql: string): Migration => ({
      version,
      name: `step ${version}`,
      up: (db) => {
        applied.push(version);
        db.exec(sql);
      },
    });
    const first = [step(1, 'CREATE TABLE a (x)'), step(2, 'CREATE TABLE b (x)')];
    openDatabase(path, { migrations: first }).close();
    expect(applied).toEqual([1, 2]);

    // A later release adds 3 and 4; 4 fails half-way: 3 stays, 4 leaves nothing behind.
    const failing = step(4, 'CREATE TABLE d (x); CREATE TABLE a (x)');
    expect(() => openDatabase(path, { migrations: [...first, step(3, 'CREATE TABLE c (x)'), failing] })).toThrow(
      /already exists/,
    );
    expect(applied).toEqual([1, 2, 3, 4]);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]).map((r) => r.name);
    expect(tables).toEqual(['a', 'b', 'c']);
    db.close();
  });

  it('rejects a migration list that is out of order', () => {
    const m: Migration = { version: 2, name: 'misnumbered', up: () => undefined };
    expect(() => openDatabase(tmp.file('x.sqlite'), { migrations: [m] })).toThrow(/out of order/);
  });
});
