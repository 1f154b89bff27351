/**
 * The audit trail on PostgreSQL (K7 rows, K10: one chain for the whole cluster). Every append
 * locks the `audit_head` row (SELECT ... FOR UPDATE), links its records to the head it read,
 * inserts them and moves the head, all in one transaction: appends from different nodes are
 * serialised by the row lock, so the stored order is the chain order and `kmipd audit verify`
 * checks one chain. Records that arrive on this node while an append is in flight are appended
 * together by the next one (group commit), so the lock is taken once per group, not per record.
 */
import type pg from 'pg';
import type { AuditHead, AuditRow, AuditSealer, AuditStore } from '../access-types.js';
import { inTransaction } from './transaction.js';
import { num } from './int8.js';
import type { Queryable } from './objects.js';

interface Row {
  seq: string;
  at: string;
  body: string;
  prev_hash: string;
  hash: string;
}

interface Pending {
  records: readonly AuditSealer[];
  resolve(): void;
  reject(err: unknown): void;
}

async function readHead(q: Queryable): Promise<AuditHead | undefined> {
  const r = (await q.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1')).rows[0];
  // seq 0 is the genesis row the migration wrote: no record yet, as SQLite reports it.
  return r === undefined || num(r.seq) === 0 ? undefined : { seq: num(r.seq), hash: r.hash };
}

export function postgresAuditStore(pool: pg.Pool): AuditStore {
  let queue: Pending[] = [];
  let flushing = false;

  async function appendGroup(group: readonly Pending[]): Promise<void> {
    await inTransaction(pool, async (c) => {
      const head = (await c.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE')).rows[0];
      if (head === undefined) throw new Error('audit_head row missing: run kmipd migrate');
      let seq = num(head.seq);
      let prevHash = head.hash;
      const cols = { seq: [] as number[], at: [] as number[], body: [] as string[], prev: [] as string[], hash: [] as string[] };
      for (const p of group) {
        for (const seal of p.records) {
          seq++;
          const sealed = seal({ seq, prevHash });
          cols.seq.push(seq);
          cols.at.push(sealed.at);
          cols.body.push(sealed.body);
          cols.prev.push(prevHash);
          cols.hash.push(sealed.hash);
          prevHash = sealed.hash;
        }
      }
      await c.query(
        'INSERT INTO audit_log (seq, at, body, prev_hash, hash) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[])',
        [cols.seq, cols.at, cols.body, cols.prev, cols.hash],
      );
      await c.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [seq, prevHash]);
    });
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const group = queue;
        queue = [];
        try {
          await appendGroup(group);
          for (const p of group) p.resolve();
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      flushing = false;
    }
  }

  const toRow = (r: Row): AuditRow => ({ seq: num(r.seq), at: num(r.at), body: r.body, prevHash: r.prev_hash, hash: r.hash });

  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ records, resolve, reject });
        void flush();
      });
    },
    async rows(options = {}) {
      const r =
        options.sinceMs === undefined
          ? await pool.query<Row>('SELECT * FROM audit_log ORDER BY seq')
          : await pool.query<Row>('SELECT * FROM audit_log WHERE at >= $1 ORDER BY seq', [options.sinceMs]);
      return r.rows.map(toRow);
    },
    head: () => readHead(pool),
    chain: () =>
      inTransaction(
        pool,
        async (c) => ({ rows: (await c.query<Row>('SELECT * FROM audit_log ORDER BY seq')).rows.map(toRow), head: await readHead(c) }),
        { isolation: 'repeatable read', commit: false },
      ),
  };
}
