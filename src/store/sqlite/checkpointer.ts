/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses wal_autocheckpoint, on the
 * main thread: a micro-benchmark of audit-sized groups showed checkpointing at ~60 % of COMMIT
 * time, in stalls of up to 30 ms. Here the main connection runs with wal_autocheckpoint=0 and a
 * worker thread, with its own connection to the same file, runs `PRAGMA wal_checkpoint(PASSIVE)`:
 * it copies committed frames into the database file and fsyncs it while the event loop goes on.
 *
 * A PASSIVE checkpoint never waits for anyone, but under sustained writes it rarely catches up:
 * frames committed during a pass are left for the next one, and the WAL only starts over from its
 * beginning when a write transaction begins with every frame copied. So once the WAL holds
 * `restartFrames` frames, the committer holds new groups for one pass (the event loop keeps
 * running; only commits wait); with no writer the pass copies everything and the next COMMIT
 * rewrites the WAL from its start. journal_size_limit truncates the file back after an excursion.
 *
 * Never unbounded: if the WAL file grows past `hardLimitBytes` anyway (the worker failed, or
 * another process holds an old snapshot), the main connection checkpoints itself, blocking
 * (TRUNCATE). If the worker dies, SQLite's automatic checkpoint is switched back on.
 *
 * Durability does not depend on any of this: checkpoints copy only committed frames, the worker's
 * connection runs at synchronous=FULL (the WAL is synced before the copy, the database file
 * before the WAL may be reused), and a crash at any point leaves the WAL authoritative.
 * On close the worker's connection closes first, so the main connection's close is the last one:
 * SQLite checkpoints the whole WAL and deletes it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './db.js';

export interface CheckpointerOptions {
  /**
   * WAL frames (estimated) written since the last pass that start the next one (default 1,000,
   * SQLite's own wal_autocheckpoint). A pass costs two fsyncs whatever it copies, and pages
   * rewritten in the meantime are copied once.
   */
  passFrames?: number;
  /** Least time between the end of one pass and the start of the next (default 20 ms). */
  passIntervalMs?: number;
  /** WAL frames from which commits are held for one pass so that the WAL restarts (default 4,096). */
  restartFrames?: number;
  /** WAL file size above which the main connection checkpoints itself, blocking (default 256 MiB). */
  hardLimitBytes?: number;
}

export interface CheckpointStats {
  /** Background passes completed. */
  passes: number;
  /** Of those, passes during which commits were held so that the WAL could restart. */
  heldPasses: number;
  /** Blocking checkpoints on the main connection (WAL file above the hard limit). */
  blocking: number;
  /** Frames in the WAL at the last pass, and frames copied by it. */
  lastLog: number;
  lastCheckpointed: number;
  /** The longest time commits were held for a pass, in microseconds. */
  longestHoldUs: number;
  /** false once the worker failed and SQLite's automatic checkpoint took over again. */
  workerAlive: boolean;
}

/** What the group committer sees of the checkpointer. */
export interface CommitGate {
  /** true while a pass needs the WAL to stay as it is: the committer queues new groups. */
  readonly holding: boolean;
  /** Called after every successful COMMIT of a group. */
  committed(): void;
  /** The committer's callback to flush what it queued while holding. */
  onRelease(resume: () => void): void;
}

interface PassResult {
  busy: number;
  log: number;
  checkpointed: number;
}

// The worker is plain CommonJS given as source (eval), so that it runs the same from dist/ and
// from the TypeScript sources under test; it only opens the file and answers 'pass' and 'close'.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
db.pragma('cache_size = -64');
const pass = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ result: pass.get() });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
parentPort.postMessage({ ready: true });
`;

const HARD_CHECK_EVERY = 256;

export class Checkpointer implements CommitGate {
  holding = false;
  readonly stats: CheckpointStats = { passes: 0, heldPasses: 0, blocking: 0, lastLog: 0, lastCheckpointed: 0, longestHoldUs: 0, workerAlive: true };
  private worker: Worker | undefined;
  private readonly walFile: string;
  private readonly passIntervalMs: number;
  private readonly passFrames: number;
  /** Frames one group adds to the WAL, as measured between passes (4: a guess until then). */
  private framesPerGroup = 4;
  private groupsSincePass = 0;
  private groupsInPass = 0;
  private logAtLastPass = 0;
  private readonly restartFrames: number;
  private readonly hardLimitBytes: number;
  private ready = false;
  private running = false;
  private lastPassEnd = 0;
  private groupsSinceHardCheck = 0;
  /** The next pass holds commits (the WAL reached restartFrames). */
  private holdNext = false;
  /** After a held pass that could not copy everything: no new hold before the WAL reaches this. */
  private holdFloor = 0;
  private resume: () => void = () => undefined;
  private afterPass: (() => void)[] = [];
  private closing: Promise<void> | undefined;
  private passStart = 0n;

  constructor(
    private readonly db: SqliteDatabase,
    opts: CheckpointerOptions = {},
  ) {
    this.passIntervalMs = Math.max(0, opts.passIntervalMs ?? 20);
    this.passFrames = Math.max(1, opts.passFrames ?? 1000);
    this.restartFrames = Math.max(16, opts.restartFrames ?? 4096);
    this.hardLimitBytes = Math.max(1 << 20, opts.hardLimitBytes ?? 256 << 20);
    this.walFile = `${db.name}-wal`;
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.pragma('wal_autocheckpoint = 0');
    // After a WAL restart the file is cut back to twice the restart size (an excursion does not stay).
    db.pragma(`journal_size_limit = ${2 * this.restartFrames * pageSize}`);
  }

  /** Started with the first commit: a store that is only read (or idle) costs no thread (~8.5 MB RSS). */
  private startWorker(): void {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: this.db.name },
      // A checkpoint allocates next to nothing in JavaScript: cap the worker's heap (its RSS, ~8 MB, is Node's own).
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
    });
    // An unclosed store must not keep the process alive for its checkpointer.
    worker.unref();
    worker.on('message', (m: { ready?: true; result?: PassResult; error?: string; closed?: true }) => this.onMessage(m));
    worker.on('error', () => this.workerFailed());
    worker.on('exit', () => {
      if (this.closing === undefined) this.workerFailed();
    });
    this.worker = worker;
  }

  onRelease(resume: () => void): void {
    this.resume = resume;
  }

  committed(): void {
    if (this.worker === undefined && this.closing === undefined) this.startWorker();
    if (++this.groupsSinceHardCheck >= HARD_CHECK_EVERY) {
      this.groupsSinceHardCheck = 0;
      this.checkHardLimit();
    }
    this.groupsSincePass++;
    if (this.holdNext) this.startPass();
    else if (this.groupsSincePass * this.framesPerGroup >= this.passFrames && performance.now() - this.lastPassEnd >= this.passIntervalMs) this.startPass();
  }

  /** Waits for a pass in flight, then closes the worker's connection (the caller closes the main one). */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      const stop = (): void => {
        const worker = this.worker;
        if (worker === undefined || !this.stats.workerAlive) {
          resolve();
          return;
        }
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      };
      if (this.running) this.afterPass.push(stop);
      else stop();
    });
    return this.closing;
  }

  private startPass(): void {
    const worker = this.worker;
    if (worker === undefined || this.running || !this.ready || this.closing !== undefined || !this.stats.workerAlive) return;
    this.running = true;
    this.groupsInPass = this.groupsSincePass;
    this.groupsSincePass = 0;
    if (this.holdNext) {
      this.holdNext = false;
      this.holding = true;
    }
    // Referenced while a pass runs: held commits wait for its answer, which must come.
    worker.ref();
    this.passStart = process.hrtime.bigint();
    worker.postMessage('pass');
  }

  private onMessage(m: { ready?: true; result?: PassResult; error?: string; closed?: true }): void {
    if (m.ready) {
      this.ready = true;
      // Commits made while the worker started wait for no further commit.
      if (this.groupsSincePass * this.framesPerGroup >= this.passFrames) this.startPass();
      return;
    }
    if (m.closed) return;
    const held = this.holding;
    this.running = false;
    this.worker?.unref();
    this.lastPassEnd = performance.now();
    const took = Number(process.hrtime.bigint() - this.passStart) / 1e3;
    if (held) this.stats.longestHoldUs = Math.max(this.stats.longestHoldUs, Math.round(took));
    if (m.result !== undefined) {
      const { log, checkpointed } = m.result;
      this.stats.passes++;
      if (held) this.stats.heldPasses++;
      this.stats.lastLog = log;
      this.stats.lastCheckpointed = checkpointed;
      // `log` is the WAL's end when the pass began: the groups since the previous pass wrote the
      // difference, unless the WAL restarted in between (then it tells nothing).
      if (log > this.logAtLastPass && this.groupsInPass > 0) this.framesPerGroup = Math.max(1, (log - this.logAtLastPass) / this.groupsInPass);
      this.logAtLastPass = log;
      if (held && checkpointed < log) {
        // Someone (a reader elsewhere) kept frames in use: do not hold again until the WAL grew on.
        this.holdFloor = log + this.restartFrames;
      } else if (held) {
        this.holdFloor = 0;
      }
      // The WAL's end now: `log` plus what the groups committed during this pass wrote.
      const now = log + this.groupsSincePass * this.framesPerGroup;
      if (!held && now >= this.restartFrames && now >= this.holdFloor) this.holdNext = true;
    }
    // An error (SQLITE_BUSY from a blocking checkpoint on the main connection) skips this pass.
    this.release();
    for (const next of this.afterPass.splice(0)) next();
    // The WAL is full enough to restart: do not wait for the next commit.
    if (this.holdNext) this.startPass();
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.resume();
  }

  private workerFailed(): void {
    if (!this.stats.workerAlive) return;
    this.stats.workerAlive = false;
    this.running = false;
    this.release();
    for (const next of this.afterPass.splice(0)) next();
    // SQLite's own checkpoint (inside COMMIT) again: slower, never unbounded.
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  private checkHardLimit(): void {
    let size: number;
    try {
      size = fs.statSync(this.walFile).size;
    } catch {
      return;
    }
    if (size <= this.hardLimitBytes) return;
    this.stats.blocking++;
    // Blocks the event loop for the copy and its fsyncs: the last resort. Without waiting for
    // other readers (busy_timeout 0): one that holds an old snapshot would only stall us longer.
    const timeout = Number(this.db.pragma('busy_timeout', { simple: true }));
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }
}
