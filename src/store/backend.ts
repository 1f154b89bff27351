/**
 * The one way into a deployment's storage (K10): `openStoreBackend(config.store, dir)` returns the
 * object store, the access-control rows and the audit trail of whichever database the deployment
 * uses, an embedded SQLite file or a PostgreSQL database shared by several nodes. The server and
 * every CLI command open storage here, so none of them knows which database it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { resolvePath, redactUrl, type PostgresStoreConfig, type StoreConfig } from '../config/config.js';
import type { AccessStore, AuditStore } from './access-types.js';
import type { ObjectStore } from './types.js';
import { openSqliteStore, type SqliteObjectStore } from './sqlite/store.js';
import { sqliteAccessStore } from './sqlite/bindings.js';
import { sqliteAuditStore } from './sqlite/audit.js';
import { sqliteRotationStore } from './sqlite/rotation.js';
import { postgresRotationStore } from './postgres/rotation.js';
import type { RotationStore } from '../rotation/types.js';
import { createPostgresPool, pingPostgres } from './postgres/pool.js';
import { openPostgresStore } from './postgres/store.js';
import { migratePostgres } from './postgres/migrations.js';
import { postgresAccessStore } from './postgres/bindings.js';
import { postgresAuditStore } from './postgres/audit.js';

export interface StoreHealth {
  ok: boolean;
  detail: string;
}

export interface StoreBackend {
  readonly kind: StoreConfig['kind'];
  /** Where the data lives, for messages: the file, or the URL without its password. */
  readonly location: string;
  readonly objects: ObjectStore;
  readonly access: AccessStore;
  readonly audit: AuditStore;
  /** Rotation policies, claims and history (K8), shared by every node of the database. */
  readonly rotation: RotationStore;
  /** A real round trip to the database (PostgreSQL: a query), failing after `timeoutMs`. */
  health(timeoutMs?: number): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface OpenBackendOptions {
  /** Reported to PostgreSQL as application_name (pg_stat_activity). */
  applicationName?: string;
  /** Failures of idle pooled connections (the server restarted, the network dropped). */
  onIdleError?: (err: Error) => void;
}

/** Thrown for problems with the store settings themselves (missing password file, ...). */
export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
}

const HEALTH_TIMEOUT_MS = 1_500;

export async function openStoreBackend(store: StoreConfig, dir: string, options: OpenBackendOptions = {}): Promise<StoreBackend> {
  if (store.kind === 'sqlite') {
    const path = resolvePath(dir, store.path);
    const objects = await openSqliteStore({ path });
    return sqliteBackend(objects, path);
  }
  return openPostgresBackend(store, dir, options);
}

function sqliteBackend(objects: SqliteObjectStore, path: string): StoreBackend {
  return {
    kind: 'sqlite',
    location: path,
    objects,
    access: sqliteAccessStore(objects.db),
    audit: sqliteAuditStore(objects),
    rotation: sqliteRotationStore(objects),
    async health() {
      // In-process: reachable while open. The commit counters tell whether it is moving.
      return { ok: true, detail: `sqlite ${path}: ${objects.stats().unitsCommitted} units committed` };
    },
    close: () => objects.close(),
  };
}

/**
 * The password, in this order: in the URL, the environment variable `passwordEnv`, the file
 * `passwordFile` (one trailing newline removed). Undefined: the server asks for none (trust or
 * peer authentication on a Unix socket).
 */
export function storePassword(store: PostgresStoreConfig, dir: string): string | undefined {
  if (new URL(store.url).password !== '') return undefined;
  const env = process.env[store.passwordEnv];
  if (env !== undefined && env !== '') return env;
  if (store.passwordFile === null) return undefined;
  const file = resolvePath(dir, store.passwordFile);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new StoreConfigError(`store.passwordFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export interface MigrateOutcome {
  kind: StoreConfig['kind'];
  location: string;
  from: number;
  to: number;
}

/**
 * Brings the deployment's schema to this build's version (`kmipd migrate`). Safe to run while
 * nodes serve: each step is one transaction, and PostgreSQL migrations hold an advisory lock so
 * that concurrent runs (or starting nodes) apply each step once.
 */
export async function migrateStore(store: StoreConfig, dir: string): Promise<MigrateOutcome> {
  if (store.kind === 'sqlite') {
    const path = resolvePath(dir, store.path);
    if (!existsSync(path)) throw new StoreConfigError(`no database at ${path}: create a deployment with kmipd init`);
    const probe = new Database(path, { readonly: true, fileMustExist: true });
    let from: number;
    try {
      from = Number(probe.pragma('user_version', { simple: true }));
    } finally {
      probe.close();
    }
    const objects = await openSqliteStore({ path }); // migrates
    try {
      return { kind: 'sqlite', location: path, from, to: Number(objects.db.pragma('user_version', { simple: true })) };
    } finally {
      await objects.close();
    }
  }
  return migratePostgresStore(store, dir);
}

async function migratePostgresStore(store: PostgresStoreConfig, dir: string): Promise<MigrateOutcome> {
  const location = redactUrl(store.url);
  const pool = createPostgresPool({ url: connectUrl(store, dir), max: 1, connectTimeoutMs: store.pool.connectTimeoutMs, applicationName: 'kmipd migrate' });
  try {
    // One step per transaction under an advisory lock: serving nodes and concurrent runs are safe.
    const r = await migratePostgres(pool, location);
    return { kind: 'postgres', location, from: r.from, to: r.to };
  } finally {
    await pool.end();
  }
}

/** The URL to connect with: the configured one, with the password from the environment or a file. */
function connectUrl(store: PostgresStoreConfig, dir: string, applicationName?: string): string {
  const password = storePassword(store, dir);
  const u = new URL(store.url);
  if (password !== undefined) u.password = encodeURIComponent(password);
  if (applicationName !== undefined && !u.searchParams.has('application_name')) u.searchParams.set('application_name', applicationName);
  return u.toString();
}

function postgresOptions(store: PostgresStoreConfig, dir: string, options: OpenBackendOptions = {}) {
  return {
    url: connectUrl(store, dir, options.applicationName),
    pool: { max: store.pool.max, connectionTimeoutMillis: store.pool.connectTimeoutMs },
    ...(options.onIdleError !== undefined ? { onPoolError: options.onIdleError } : {}),
  };
}

async function openPostgresBackend(store: PostgresStoreConfig, dir: string, options: OpenBackendOptions): Promise<StoreBackend> {
  const objects = await openPostgresStore(postgresOptions(store, dir, options));
  const { pool } = objects;
  return {
    kind: 'postgres',
    location: objects.where,
    objects,
    access: postgresAccessStore(pool),
    audit: postgresAuditStore(pool),
    rotation: postgresRotationStore(pool),
    health: (timeoutMs = HEALTH_TIMEOUT_MS) => pingPostgres(pool, timeoutMs),
    close: () => objects.close(),
  };
}
