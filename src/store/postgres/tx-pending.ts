/**
 * One PostgreSQL transaction on a pooled connection: BEGIN, the work, COMMIT, or ROLLBACK on any
 * error, and the connection always goes back to the pool. A connection whose ROLLBACK fails is
 * destroyed rather than reused, since its state is unknown.
 */
import type pg from 'pg';

export type Queryable = Pick<pg.PoolClient, 'query'>;

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/** int8 columns arrive as strings (they may exceed 2^53); ours are times and counters that do not. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
