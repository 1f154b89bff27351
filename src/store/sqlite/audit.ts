/**
 * SQLite rows of the audit trail (K7): append-only, one row per batch item, each carrying the
 * hash of the previous row. The chain link (seq, previous hash) is read inside the write
 * transaction, so the stored order is the chain order even when several connections' records
 * share one group commit. audit_head is updated in the same transaction, so a truncated tail shows.
 * The records appended while a group is forming are written as one unit of that group.
 */
import { GENESIS_HASH, type AuditHead, type AuditRow, type AuditSealer, type AuditStore } from '../access-types.js';
import type { SqliteObjectStore } from './store.js';

export { GENESIS_HASH };

interface Row {
  seq: number;
  at: number;
  body: string;
  prev_hash: string;
  hash: string;
}

/** Records waiting for the one audit unit queued in the group commit. */
interface OpenUnit {
  batches: (readonly AuditSealer[])[];
  done: Promise<void>;
}

export function sqliteAuditStore(store: SqliteObjectStore): AuditStore {
  const { db } = store;
  const s = {
    last: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare('INSERT INTO audit_log (seq, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?)'),
    head: db.prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'),
    readHead: db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1'),
    all: db.prepare('SELECT * FROM audit_log ORDER BY seq'),
    since: db.prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY seq'),
  };
  /**
   * Every append() made before the group commit applies its unit joins that one unit: the chain
   * head is read once, the rows are inserted in append order, the head is written once. A profile
   * of Discover Versions on 16 connections showed ~18 % of the main thread in writeGroup when each
   * append was its own unit (SAVEPOINT, SELECT, INSERT, upsert, RELEASE per record). Every record
   * of the unit still settles only once the transaction carrying it is durable, and together.
   */
  let open: OpenUnit | undefined;
  const writeUnit = (batches: readonly (readonly AuditSealer[])[]): void => {
    const last = s.last.get() as { seq: number; hash: string } | undefined;
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    for (const records of batches) {
      for (const seal of records) {
        seq++;
        const sealed = seal({ seq, prevHash });
        s.insert.run(seq, sealed.at, sealed.body, prevHash, sealed.hash);
        prevHash = sealed.hash;
      }
    }
    s.head.run(seq, prevHash);
  };
  const toRow = (r: Row): AuditRow => ({ seq: r.seq, at: r.at, body: r.body, prevHash: r.prev_hash, hash: r.hash });
  return {
    append(records) {
      if (records.length === 0) return Promise.resolve();
      if (open !== undefined) {
        open.batches.push(records);
        return open.done;
      }
      const unit: OpenUnit = { batches: [records], done: Promise.resolve() };
      open = unit;
      unit.done = store.submitWrite(() => {
        // From here on the unit is being written: later records start the next unit.
        if (open === unit) open = undefined;
        writeUnit(unit.batches);
      });
      // A unit failed before it was applied (BEGIN failed, store closed) takes no more records.
      unit.done.catch(() => {
        if (open === unit) open = undefined;
      });
      return unit.done;
    },
    async rows(options = {}) {
      const rows = (options.sinceMs === undefined ? s.all.all() : s.since.all(options.sinceMs)) as Row[];
      return rows.map(toRow);
    },
    async chain() {
      // One read transaction: under WAL it sees one snapshot, whatever other connections append.
      return db.transaction(() => ({ rows: (s.all.all() as Row[]).map(toRow), head: s.readHead.get() as AuditHead | undefined }))();
    },
    async head(): Promise<AuditHead | undefined> {
      return s.readHead.get() as AuditHead | undefined;
    },
  };
}
