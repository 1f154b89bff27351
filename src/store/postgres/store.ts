/**
 * The PostgreSQL object store (K10): the same contract and semantics as the SQLite store, for
 * deployments where several kmipd nodes share one database.
 *
 * - One unit of work per KMIP batch (1.4 §7.1 / 2.1 §8.1). Writes are buffered (../buffered-unit.ts)
 *   and written at commit() in ONE transaction on one pooled connection; Undo drops the buffer.
 * - Optimistic concurrency as in SQLite: every UPDATE carries the version the unit read, and its
 *   row lock makes a concurrent writer on any node wait and then fail with StoreConflict. Writes
 *   are applied in identifier order, so two units never lock two objects in opposite orders.
 * - Serialization failures and deadlocks are retried a bounded number of times (./transaction.ts).
 * - Durable before commit() resolves: every connection runs with synchronous_commit=on, whatever
 *   the server's default, so COMMIT returns only once the WAL is flushed (PostgreSQL shares one
 *   flush among concurrent commits: its own group commit).
 * - Reads see the unit's own writes: get() from the buffer; locate() applies the buffer inside a
 *   transaction that is always rolled back, runs its query there, and so never leaks a write.
 * - Tenant scoping is inside every statement, as in SQLite.
 *
 * Backups of a PostgreSQL deployment are the DBA's (pg_basebackup, pg_dump, replication):
 * backup() refuses with a clear error instead of pretending to copy a server.
 */
import pg from 'pg';
import { BufferedUnit, type Pending } from '../buffered-unit.js';
import { StoreError } from '../errors.js';
import type { LocateQuery, ObjectStore, Scope, StoreStats, StoredObject, UnitOfWork, UnitWrite } from '../types.js';
import { newUid } from '../uid.js';
import { explainLocate, runLocate } from './locate.js';
import { migratePostgres, type PostgresMigration } from './migrations.js';
import { byKekVersion, insertObject, readObject, replaceMaterial, replaceObject, type Queryable } from './objects.js';
import { inTransaction, toStoreError, type TransactionOptions } from './transaction.js';
import { redactUrl } from '../../config/config.js';

export interface PostgresPoolOptions {
  /** Most connections this store opens (default 10). */
  max?: number;
  /** How long to wait for a free connection before failing (default 10,000 ms). */
  connectionTimeoutMillis?: number;
  /** Idle connections are closed after this long (default 30,000 ms). */
  idleTimeoutMillis?: number;
}

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (a Unix socket: ?host=/run/postgresql). */
  url: string;
  pool?: PostgresPoolOptions;
  /** Default true: bring the schema up to date on open. false: refuse a schema that is not current. */
  migrate?: boolean;
  /** Attempts after the first on serialization failures and deadlocks (default 5). */
  retries?: number;
  /** Milliseconds since the epoch; used for new unique identifiers. */
  clock?: () => number;
  /** Errors of idle pooled connections (the server went away); they are otherwise ignored. */
  onPoolError?: (err: Error) => void;
  /** Test seam for the migration list. */
  migrations?: readonly PostgresMigration[];
}

export interface PostgresStoreStats extends StoreStats {
  /** Transactions run again after a serialization failure or deadlock. */
  retries: number;
}

/** The PostgreSQL store, with what other store modules on the same database need. */
export interface PostgresObjectStore extends ObjectStore {
  readonly kind: 'postgres';
  /** The database, for messages and logs: the URL without its password. */
  readonly where: string;
  /** The connection pool (bounded), for store modules on the same database. Do not write objects through it. */
  readonly pool: pg.Pool;
  stats(): PostgresStoreStats;
  /** Runs `work` in one transaction, retrying serialization failures and deadlocks (see ./transaction.ts). */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>, opts?: Omit<TransactionOptions, 'onRetry'>): Promise<T>;
  /** The SQL and parameters a Locate compiles to, for EXPLAIN. */
  explainLocate(scope: Scope, query: LocateQuery): { sql: string; params: unknown[] } | 'empty';
}

/**
 * A write another PostgreSQL store module adds to a unit (UnitOfWork.attach): statements on the
 * unit's own transaction, run after its object writes, all or nothing with them.
 */
export interface PostgresUnitWrite extends UnitWrite {
  readonly backend: 'postgres';
  apply(client: pg.PoolClient): Promise<void>;
}

export function postgresUnitWrite(apply: (client: pg.PoolClient) => Promise<void>): PostgresUnitWrite {
  return { backend: 'postgres', apply };
}

export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresObjectStore> {
  const where = redactUrl(opts.url);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: Math.max(1, opts.pool?.max ?? 10),
    connectionTimeoutMillis: opts.pool?.connectionTimeoutMillis ?? 10_000,
    idleTimeoutMillis: opts.pool?.idleTimeoutMillis ?? 30_000,
    application_name: 'kmipd',
  });
  // Durability must not depend on the server's, the database's or the URL's defaults. A new
  // connection runs its queries in order, so this precedes anything the store sends on it.
  pool.on('connect', (client) => {
    client.query('SET synchronous_commit = on').catch((err: Error) => opts.onPoolError?.(err));
  });
  // An idle connection that dies (server restart, pg_terminate_backend) must not crash the process;
  // the next checkout opens a new one.
  pool.on('error', (err) => opts.onPoolError?.(err));
  try {
    await migratePostgres(pool, where, { apply: opts.migrate ?? true, ...(opts.migrations ? { migrations: opts.migrations } : {}) });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new PostgresStore(pool, where, opts);
}

class PostgresStore implements PostgresObjectStore {
  readonly kind = 'postgres';
  private readonly clock: () => number;
  private readonly retries: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly counters: PostgresStoreStats = { transactions: 0, unitsCommitted: 0, unitsFailed: 0, largestGroup: 0, retries: 0 };
  private closed = false;

  constructor(
    readonly pool: pg.Pool,
    readonly where: string,
    opts: PostgresStoreOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.retries = opts.retries ?? 5;
  }

  begin(scope: Scope): UnitOfWork {
    this.assertOpen();
    return new PostgresUnit(this, { tenant: scope.tenant });
  }

  newUid(): string {
    return newUid(this.clock());
  }

  stats(): PostgresStoreStats {
    return { ...this.counters };
  }

  async backup(): Promise<void> {
    this.assertOpen();
    throw new StoreError(
      'Unsupported',
      `kmipd does not copy a PostgreSQL database (${this.where}): back it up with the server's tools ` +
        '(pg_basebackup or continuous archiving for point-in-time recovery, pg_dump for a logical copy)',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.pool.end();
  }

  assertOpen(): void {
    if (this.closed) throw new StoreError('Closed', 'the object store is closed');
  }

  explainLocate(scope: Scope, query: LocateQuery): { sql: string; params: unknown[] } | 'empty' {
    return explainLocate(scope, query);
  }

  transaction<T>(work: (client: pg.PoolClient) => Promise<T>, opts: Omit<TransactionOptions, 'onRetry'> = {}): Promise<T> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(
      inTransaction(this.pool, work, {
        retries: this.retries,
        ...opts,
        onRetry: () => {
          this.counters.retries++;
        },
      }),
    );
  }

  /** Reads outside a transaction (one statement sees one snapshot). */
  async query<T>(read: (db: Queryable) => Promise<T>): Promise<T> {
    try {
      return await read(this.pool);
    } catch (err) {
      throw toStoreError(err, 'read');
    }
  }

  /** Writes one unit's buffer, then its attached writes, in one transaction; counts it. */
  async commitUnit(tenant: string | null, writes: Pending[], attached: PostgresUnitWrite[]): Promise<void> {
    const ordered = inLockOrder(writes);
    try {
      await this.transaction(async (c) => {
        for (const p of ordered) await applyPending(c, tenant, p, true);
        for (const w of attached) await w.apply(c);
      });
    } catch (err) {
      this.counters.unitsFailed++;
      throw err;
    }
    this.counters.transactions++;
    this.counters.unitsCommitted++;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, 1);
  }

  /** Locate over the committed state plus a unit's buffer, in a transaction that is rolled back. */
  locateWithPending(scope: Scope, pending: readonly Pending[], query: LocateQuery): Promise<string[]> {
    const ordered = inLockOrder(pending);
    return this.transaction(
      async (c) => {
        for (const p of ordered) await applyPending(c, scope.tenant, p, false);
        return runLocate(c, scope, query);
      },
      { commit: false },
    );
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}

function uidOf(p: Pending): string {
  return p.kind === 'material' ? p.uid : p.obj.uid;
}

/** Identifier order: every transaction takes its row locks in the same order, so none waits in a cycle. */
function inLockOrder(writes: readonly Pending[]): Pending[] {
  return [...writes].sort((a, b) => (uidOf(a) < uidOf(b) ? -1 : uidOf(a) > uidOf(b) ? 1 : 0));
}

/** Writes one buffered change; `checked` enforces optimistic concurrency (commit) or not (read view). */
async function applyPending(db: Queryable, tenant: string | null, p: Pending, checked: boolean): Promise<void> {
  switch (p.kind) {
    case 'insert':
      return insertObject(db, p.obj, checked);
    case 'put':
      return replaceObject(db, p.obj, checked);
    case 'material':
      return replaceMaterial(db, p.uid, tenant, p.material, p.expected, checked);
  }
}

class PostgresUnit extends BufferedUnit {
  constructor(
    private readonly store: PostgresStore,
    scope: Scope,
  ) {
    super(scope);
  }

  protected assertStoreOpen(): void {
    this.store.assertOpen();
  }

  protected readCommitted(uid: string): Promise<StoredObject | undefined> {
    return this.store.query((db) => readObject(db, uid, this.scope.tenant));
  }

  protected find(query: LocateQuery, pending: readonly Pending[]): Promise<string[]> {
    if (pending.length === 0) return this.store.query((db) => runLocate(db, this.scope, query));
    return this.store.locateWithPending(this.scope, pending, query);
  }

  protected findByKekVersion(kekVersion: number, limit: number): Promise<string[]> {
    return this.store.query((db) => byKekVersion(db, kekVersion, this.scope.tenant, limit));
  }

  protected acceptWrite(write: UnitWrite): void {
    if (write.backend !== 'postgres' || typeof (write as Partial<PostgresUnitWrite>).apply !== 'function') {
      throw new StoreError('InvalidObject', `a ${write.backend} write cannot join a PostgreSQL unit of work`);
    }
  }

  protected write(writes: Pending[], attached: UnitWrite[]): Promise<void> {
    return this.store.commitUnit(this.scope.tenant, writes, attached as PostgresUnitWrite[]);
  }
}
