/**
 * Group commit: durable commits are the throughput ceiling (STACK.md: ~5.6k fsync'd commits/s),
 * so every unit whose commit() is requested in the same event-loop turn, or while the previous
 * group was being written, is applied in ONE SQLite transaction and shares its fsync.
 *
 * Each unit runs inside its own SAVEPOINT: a unit that fails (an optimistic-concurrency conflict)
 * is rolled back alone and only its promise rejects. Every promise settles only after COMMIT
 * returned, i.e. once the whole group is durable; if COMMIT fails, every unit of the group fails.
 * better-sqlite3 is synchronous, so BEGIN … COMMIT never interleaves with other work on the
 * connection.
 *
 * The fsync runs off the event loop. COMMIT itself would fsync the WAL while the whole process
 * waits (measured under load: a quarter of a busy server's time blocked in COMMIT); instead the
 * group's COMMIT runs with synchronous=NORMAL (the WAL frames are written, not yet synced; SQLite
 * still syncs around checkpoints, which checkpointer.ts runs in a worker thread, and when the WAL is
 * reused) and the WAL file is then fdatasync'd on the libuv thread pool. A group's promises settle only once an fdatasync that started after its
 * COMMIT has returned, which is exactly what synchronous=FULL guarantees, so a response still
 * leaves only after its commit is durable. While one fdatasync runs, later groups commit and then
 * share the next one. Readers may see a committed group before it is synced, but every response
 * waits for its own audit record's sync, which lies later in the same WAL and so covers it.
 *
 * The connection stays at synchronous=NORMAL from the committer's creation on (toggling it to
 * NORMAL and back to FULL around every group cost two statements, ~5 µs, per group), so every
 * write on it must go through the committer: submit(), or durableWrite() for modules that only
 * hold the connection (role bindings). A write made beside it would return before it is synced.
 *
 * While the checkpointer copies the WAL's last frames so that the WAL can restart from its
 * beginning (CommitGate.holding), new groups wait in the queue; the event loop does not.
 */
import fs from 'node:fs';
import { StoreError } from '../errors.js';
import type { CommitGate } from './checkpointer.js';
import type { SqliteDatabase } from './db.js';

interface Job {
  apply(): void;
  resolve(): void;
  reject(err: unknown): void;
}

export interface GroupCommitStats {
  transactions: number;
  unitsCommitted: number;
  unitsFailed: number;
  largestGroup: number;
}

export interface GroupCommitOptions {
  /** false: one transaction per unit, applied at once (for comparison). */
  enabled: boolean;
  /** Upper bound on units per transaction, to bound the latency of one group. */
  maxGroup?: number;
  /** The WAL checkpointer: told of every COMMIT, and may hold new groups while it restarts the WAL. */
  gate?: CommitGate;
}

export class GroupCommitter {
  private queue: Job[] = [];
  private scheduled = false;
  private idle: (() => void)[] = [];
  private readonly maxGroup: number;
  /** The WAL file synced off the event loop; undefined: COMMIT syncs (synchronous=FULL). */
  private readonly walFile: string | undefined;
  /** Committed groups waiting for the next fdatasync. */
  private unsynced: Job[] = [];
  private syncing = false;
  /** The WAL, open from the first sync until drained() (a profile showed open+close per sync on the loop). */
  private walFd: number | undefined;
  private readonly stmt: {
    begin: () => void;
    commit: () => void;
    rollback: () => void;
    savepoint: () => void;
    release: () => void;
    rollbackTo: () => void;
  };
  readonly stats: GroupCommitStats = { transactions: 0, unitsCommitted: 0, unitsFailed: 0, largestGroup: 0 };

  constructor(
    private readonly db: SqliteDatabase,
    private readonly opts: GroupCommitOptions,
  ) {
    this.maxGroup = Math.max(1, opts.maxGroup ?? 1024);
    const run = (sql: string) => {
      const s = db.prepare(sql);
      return () => void s.run();
    };
    const wal = opts.enabled && !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.walFile = wal ? `${db.name}-wal` : undefined;
    if (this.walFile !== undefined) db.pragma('synchronous = NORMAL');
    committers.set(db, this);
    this.stmt = {
      begin: run('BEGIN IMMEDIATE'),
      commit: run('COMMIT'),
      rollback: run('ROLLBACK'),
      savepoint: run('SAVEPOINT unit'),
      release: run('RELEASE unit'),
      rollbackTo: run('ROLLBACK TO unit'),
    };
    opts.gate?.onRelease(() => {
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Queues `apply` (which throws to fail its unit); settles once the transaction carrying it is durable. */
  submit(apply: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      if (!this.opts.enabled) {
        this.flush();
      } else {
        this.scheduleFlush();
      }
    });
  }

  /** Flushes after the I/O callbacks of this loop turn: every request they carried joins the group. */
  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Resolves when nothing is queued, and releases the WAL descriptor (the store calls it to close). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.syncing && this.unsynced.length === 0) {
      this.closeWal();
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.idle.push(() => {
        this.closeWal();
        resolve();
      }),
    );
  }

  private flush(): void {
    this.scheduled = false;
    // The checkpointer copies the WAL's last frames: the queue waits, onRelease flushes it.
    if (this.opts.gate?.holding) return;
    const group = this.queue.splice(0, this.maxGroup);
    if (this.queue.length > 0) this.scheduleFlush();
    if (group.length > 0) this.write(group);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.queue.length === 0 && !this.syncing && this.unsynced.length === 0) for (const done of this.idle.splice(0)) done();
  }

  private write(group: Job[]): void {
    if (group.length === 1) this.writeOne(group[0] as Job);
    else this.writeGroup(group);
  }

  /**
   * A group of one (every group at one connection): the transaction is the unit, so it needs no
   * SAVEPOINT; a unit that fails rolls the transaction back. Two statements fewer per group.
   */
  private writeOne(job: Job): void {
    try {
      this.stmt.begin();
    } catch (err) {
      this.fail([[job, ioError('BEGIN', err)]]);
      return;
    }
    try {
      job.apply();
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.stmt.rollback();
        } catch {
          // The connection already rolled back; nothing left to undo.
        }
      }
      this.fail([[job, err]]);
      return;
    }
    this.commitGroup(1, [job], []);
  }

  /** Settles `applied` once an fdatasync of the WAL that starts after now has completed. */
  private settleWhenDurable(applied: Job[]): void {
    if (this.walFile === undefined) {
      for (const job of applied) job.resolve();
      return;
    }
    this.unsynced.push(...applied);
    if (!this.syncing) this.startSync(this.walFile);
  }

  /** fdatasync of the WAL (any descriptor of the file flushes its data), on the libuv pool. */
  private startSync(walFile: string): void {
    const batch = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    const done = (err: NodeJS.ErrnoException | null): void => {
      if (err) {
        this.closeWal();
        this.stats.unitsCommitted -= batch.length;
        this.fail(batch.map((j): [Job, unknown] => [j, ioError('fsync', err)]));
      } else {
        for (const job of batch) job.resolve();
      }
      this.syncing = false;
      if (this.unsynced.length > 0) {
        this.startSync(walFile);
      } else {
        // The descriptor stays open between bursts: under request/response load every sync
        // drained the queue, so closing here meant an open() per sync (~2 % of the main thread
        // in a profile of Discover Versions). drained(), which close() awaits, releases it.
        this.checkIdle();
      }
    };
    const sync = (fd: number): void => fs.fdatasync(fd, done);
    if (this.walFd !== undefined) {
      sync(this.walFd);
      return;
    }
    fs.open(walFile, 'r', (err, fd) => {
      if (err) {
        done(err);
        return;
      }
      this.walFd = fd;
      sync(fd);
    });
  }

  private closeWal(): void {
    const fd = this.walFd;
    this.walFd = undefined;
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed; nothing to release.
      }
    }
  }

  private writeGroup(group: Job[]): void {
    const applied: Job[] = [];
    const failed: [Job, unknown][] = [];
    try {
      this.stmt.begin();
    } catch (err) {
      this.fail(group.map((j) => [j, ioError('BEGIN', err)]));
      return;
    }
    for (let i = 0; i < group.length; i++) {
      const job = group[i] as Job;
      this.stmt.savepoint();
      try {
        job.apply();
        this.stmt.release();
        applied.push(job);
      } catch (err) {
        if (!this.db.inTransaction) {
          // SQLite rolled the whole transaction back (disk full, I/O error): the group is lost.
          const lost = ioError('apply', err);
          this.fail([...failed, [job, err], ...[...applied, ...group.slice(i + 1)].map((j): [Job, unknown] => [j, lost])]);
          return;
        }
        this.stmt.rollbackTo();
        this.stmt.release();
        failed.push([job, err]);
      }
    }
    this.commitGroup(group.length, applied, failed);
  }

  private commitGroup(size: number, applied: Job[], failed: [Job, unknown][]): void {
    try {
      this.stmt.commit();
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.stmt.rollback();
        } catch {
          // The connection already rolled back; nothing left to undo.
        }
      }
      const lost = ioError('COMMIT', err);
      this.fail([...failed, ...applied.map((j): [Job, unknown] => [j, lost])]);
      return;
    }
    this.stats.transactions++;
    this.stats.largestGroup = Math.max(this.stats.largestGroup, size);
    this.stats.unitsCommitted += applied.length;
    this.settleWhenDurable(applied);
    this.fail(failed);
    this.opts.gate?.committed();
  }

  private fail(jobs: [Job, unknown][]): void {
    this.stats.unitsFailed += jobs.length;
    for (const [job, err] of jobs) job.reject(err);
  }
}

const committers = new WeakMap<SqliteDatabase, GroupCommitter>();

/**
 * Runs `apply` (synchronous SQL on `db`) as one durable write and settles with its result: through
 * the connection's group committer when it has one (then nothing else may write on it, see above),
 * else in a transaction of its own at the connection's synchronous=FULL.
 */
export function durableWrite<T>(db: SqliteDatabase, apply: () => T): Promise<T> {
  const committer = committers.get(db);
  if (committer === undefined) {
    try {
      return Promise.resolve(db.transaction(apply).immediate());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  let result: T | undefined;
  return committer.submit(() => void (result = apply())).then(() => result as T);
}

function ioError(step: string, cause: unknown): StoreError {
  return new StoreError('Io', `store write failed at ${step}`, { cause });
}
