/**
 * The connection pool of one kmipd node to the shared PostgreSQL database (K10). The password is
 * passed separately from the URL so that it never appears in a string that might be logged.
 */
import pg from 'pg';

export interface PostgresConnectOptions {
  url: string;
  /** Overrides a password in the URL (from the environment or a file). */
  password?: string;
  max: number;
  connectTimeoutMs: number;
  /** Shown in pg_stat_activity, so an operator can tell nodes apart. */
  applicationName?: string;
  /** Idle connections that fail (server restart, network) are reported here instead of crashing. */
  onIdleError?: (err: Error) => void;
}

export function createPostgresPool(o: PostgresConnectOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    ...(o.password !== undefined ? { password: o.password } : {}),
    max: o.max,
    connectionTimeoutMillis: o.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: o.applicationName ?? 'kmipd',
  });
  pool.on('error', (err) => o.onIdleError?.(err));
  return pool;
}

/** One round trip, bounded by `timeoutMs`: what /healthz reports for the store. */
export async function pingPostgres(pool: pg.Pool, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([pool.query('SELECT 1'), timeout]);
    return { ok: true, detail: `postgres answered in ${Date.now() - started} ms (pool ${pool.totalCount} open, ${pool.waitingCount} waiting)` };
  } catch (err) {
    return { ok: false, detail: `postgres unreachable: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}
