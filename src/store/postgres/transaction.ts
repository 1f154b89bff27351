/**
 * Transactions on the PostgreSQL pool, and how PostgreSQL failures become store errors.
 *
 * A serialization failure (SQLSTATE 40001) or a deadlock (40P01) means PostgreSQL aborted the
 * transaction so that another could proceed; running the same work again is correct, because
 * every check (object versions) is re-evaluated. Those are retried a bounded number of times with
 * a short random back-off; everything else fails the unit: StoreError subclasses (StoreConflict)
 * as they are, database failures as StoreError('Io') whose cause keeps the SQLSTATE for the log.
 * Messages never carry parameters (attribute values, key material).
 */
import type { Pool, PoolClient } from 'pg';
import { StoreError } from '../errors.js';

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Default 'read committed': object writes are guarded by row versions, not by snapshots. */
  isolation?: Isolation;
  /** Attempts after the first one on 40001/40P01 (default 5). */
  retries?: number;
  /** false: always ROLLBACK at the end (a read view over writes that must not land). */
  commit?: boolean;
  /** Called before each retry (statistics, tests). */
  onRetry?: (sqlState: string, attempt: number) => void;
}

const RETRYABLE = new Set(['40001', '40P01']);

export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isRetryable(err: unknown): boolean {
  const state = sqlStateOf(err);
  return state !== undefined && RETRYABLE.has(state);
}

/** A failure of the database (or of reaching it) as a store error; store errors pass through. */
export function toStoreError(err: unknown, step: string): StoreError {
  if (err instanceof StoreError) return err;
  const state = sqlStateOf(err);
  return new StoreError('Io', `PostgreSQL ${step} failed${state ? ` (SQLSTATE ${state})` : ''}`, { cause: err });
}

/** Runs `work` in one transaction on one pooled connection, retrying serialization failures and deadlocks. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const retries = Math.max(0, opts.retries ?? 5);
  const begin = opts.isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${opts.isolation.toUpperCase()}`;
  for (let attempt = 0; ; attempt++) {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw toStoreError(err, 'connect');
    }
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query(opts.commit === false ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is gone or unusable: do not return it to the pool
      }
      if (isRetryable(err) && attempt < retries) {
        opts.onRetry?.(sqlStateOf(err) as string, attempt + 1);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * (attempt + 1)) + 1));
        continue;
      }
      throw toStoreError(err, 'transaction');
    } finally {
      client.release(broken);
    }
  }
}
