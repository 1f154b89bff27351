/**
 * A whole `kmipd bench` run: the fixture (keys made before the run for get, locate and mixed), the
 * split over worker processes, the merge of their results, and the server's resident memory for
 * `idle`. The report's numbers are counted by the clients, request by request; nothing is
 * estimated.
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { connectKmip } from '../../client/connection.js';
import { LatencyHistogram } from './histogram.js';
import { createRequest, readOutcome } from './requests.js';
import { runLoad, type BenchOp, type Fixture, type LoadPlan, type LoadResult, type LoadSettings } from './runner.js';
import type { ParentMessage, WorkerMessage } from './worker.js';

export interface BenchOptions extends LoadSettings {
  /** Worker processes; undefined chooses (see autoWorkers). */
  workers?: number;
  /** idle: where to read the server's RSS. */
  serverPid?: number;
  metricsUrl?: string;
  /** Completed measured requests, all workers together. */
  progress?: (done: number, expected: number | undefined) => void;
}

export interface BenchReport {
  op: BenchOp;
  server: string;
  connections: number;
  workers: number;
  seconds: number;
  ok: number;
  failed: number;
  /** Successful requests per second in the measured window. */
  throughput: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: Record<string, number>;
  client: {
    cpuSeconds: number;
    /** Per worker: CPU seconds / wall seconds (1.0 = one core busy). */
    coreUse: number[];
    /** A worker used ≥ 90 % of a core: the client may be the bottleneck. */
    saturated: boolean;
  };
  totals: { requests: number; succeeded: number; created: number; warmup: number; fixture: number };
  /** connect: share of measured connections that resumed a TLS session. */
  resumedShare?: number;
  serverRss?: { beforeBytes: number; heldBytes: number; perConnectionBytes: number; source: string };
  /**
   * With serverPid: the server process's CPU time from the start of the warm-up to the end of the
   * run, per request sent in that time (warm-up included). Unlike throughput, this hardly moves
   * when other processes compete for the machine's cores.
   */
  serverCpu?: { seconds: number; perRequestUs: number };
  loadAverage: number[];
  at: string;
}

/**
 * One process drives about 8 connect loops (client-side handshakes cost as much as the server's)
 * or 32 persistent connections before its own CPU becomes the limit on this class of machine.
 */
export function autoWorkers(op: BenchOp, connections: number): number {
  const perWorker = op === 'connect' ? 8 : op === 'idle' ? 2000 : 32;
  return Math.max(1, Math.min(os.availableParallelism(), Math.ceil(connections / perWorker), connections));
}

/** Keys made before the run: named, so locate finds exactly one each. */
async function makeFixture(options: BenchOptions, prefix: string): Promise<Fixture> {
  const size = Math.max(16, Math.min(256, options.connections * 4));
  const ctx = createSecureContext({ ca: readFileSync(options.ca), cert: readFileSync(options.cert), key: readFileSync(options.key) });
  const fixture: Fixture = { uids: [], names: [] };
  const lanes = Math.min(4, size);
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      const conn = await connectKmip({
        host: options.host,
        port: options.port,
        ca: '',
        cert: '',
        key: '',
        secureContext: ctx,
        timeoutMs: options.timeoutMs,
        ...(options.maxTlsVersion ? { maxVersion: options.maxTlsVersion } : {}),
      });
      try {
        while (next < size) {
          const name = `${prefix}-fixture-${next++}`;
          const out = readOutcome(await conn.send(createRequest(name)));
          if (!out.ok || out.uids[0] === undefined) throw new Error(`fixture Create failed: ${out.ok ? 'no Unique Identifier' : out.reason}`);
          fixture.uids.push(out.uids[0]);
          fixture.names.push(name);
        }
      } finally {
        await conn.close();
      }
    }),
  );
  return fixture;
}

/** User + system CPU seconds of a process (/proc/PID/stat, fields 14 and 15, in clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function serverRss(options: BenchOptions): Promise<{ bytes: number; source: string } | undefined> {
  if (options.serverPid !== undefined) {
    const status = readFileSync(`/proc/${options.serverPid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!m) throw new Error(`no VmRSS in /proc/${options.serverPid}/status`);
    return { bytes: Number(m[1]) * 1024, source: `/proc/${options.serverPid}/status` };
  }
  if (options.metricsUrl !== undefined) {
    const res = await fetch(options.metricsUrl);
    const body = await res.text();
    const m = /^kmipd_process_resident_memory_bytes\s+([0-9.e+]+)/m.exec(body);
    if (!m) throw new Error(`${options.metricsUrl} has no kmipd_process_resident_memory_bytes`);
    return { bytes: Number(m[1]), source: options.metricsUrl };
  }
  return undefined;
}

function split(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function workerModule(): string {
  const here = fileURLToPath(import.meta.url);
  const candidate = here.replace(/bench\.(ts|js)$/, 'worker.$1');
  if (!existsSync(candidate)) throw new Error(`worker module not found: ${candidate}`);
  return candidate;
}

/** Runs the plans in forked processes; `allReady` runs once every worker has its connections open. */
async function runForked(plans: LoadPlan[], allReady: () => Promise<void>, progress: (done: number) => void): Promise<LoadResult[]> {
  const file = workerModule();
  const done = new Array<number>(plans.length).fill(0);
  let ready = 0;
  let releaseAll: () => void = () => undefined;
  const allReadyPromise = new Promise<void>((r) => (releaseAll = r));
  const children = plans.map((plan, i) => {
    const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const result = new Promise<LoadResult>((resolve, reject) => {
      let settled = false;
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          ready++;
          if (ready === plans.length) releaseAll();
        } else if (m.type === 'progress') {
          done[i] = m.done;
          progress(done.reduce((a, b) => a + b, 0));
        } else if (m.type === 'result') {
          settled = true;
          resolve(m.result);
        } else {
          settled = true;
          reject(new Error(`worker ${i}: ${m.message}`));
        }
      });
      child.once('exit', (code, signal) => {
        if (!settled) reject(new Error(`worker ${i} exited (${signal ?? code}) without a result`));
        releaseAll();
      });
    });
    child.send({ type: 'plan', plan } satisfies ParentMessage);
    return { child, result };
  });
  const go = allReadyPromise.then(async () => {
    await allReady();
    for (const { child } of children) if (child.connected) child.send({ type: 'go' } satisfies ParentMessage);
  });
  try {
    const results = await Promise.all(children.map((c) => c.result));
    await go;
    return results;
  } catch (err) {
    for (const { child } of children) if (child.exitCode === null) child.kill();
    throw err;
  }
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  if (options.durationMs === undefined && options.count === undefined) throw new Error('a duration or a count is required');
  const runId = `bench-${randomBytes(4).toString('hex')}`;
  const needsFixture = options.op === 'get' || options.op === 'locate' || options.op === 'mixed';
  const fixture = needsFixture ? await makeFixture(options, runId) : { uids: [], names: [] };
  const workers = Math.min(options.workers ?? autoWorkers(options.op, options.connections), options.connections);
  const plans: LoadPlan[] = Array.from({ length: workers }, (_, i) => ({
    host: options.host,
    port: options.port,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    op: options.op,
    connections: split(options.connections, workers, i),
    ...(options.durationMs !== undefined ? { durationMs: options.durationMs } : {}),
    ...(options.count !== undefined ? { count: split(options.count, workers, i) } : {}),
    warmupMs: options.warmupMs,
    fixture,
    namePrefix: `${runId}-w${i}`,
    resume: options.resume,
    ...(options.maxTlsVersion ? { maxTlsVersion: options.maxTlsVersion } : {}),
    timeoutMs: options.timeoutMs,
  }));

  let rssBefore: { bytes: number; source: string } | undefined;
  let rssHeld: { bytes: number; source: string } | undefined;
  if (options.op === 'idle') rssBefore = await serverRss(options);
  let cpuAtStart: number | undefined;
  const allReady = async (): Promise<void> => {
    if (options.serverPid !== undefined) cpuAtStart = processCpuSeconds(options.serverPid);
    // idle: give the server a moment to settle its per-connection buffers, then read its RSS.
    if (options.op === 'idle') {
      await new Promise((r) => setTimeout(r, 500));
      rssHeld = await serverRss(options);
    }
  };
  const progress = (done: number): void => options.progress?.(done, options.count);

  let results: LoadResult[];
  if (workers === 1) {
    results = [await runLoad(plans[0]!, { ready: allReady, progress })];
  } else {
    results = await runForked(plans, allReady, progress);
  }

  const cpuAtEnd = options.serverPid !== undefined ? processCpuSeconds(options.serverPid) : undefined;
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const totals = { requests: 0, succeeded: 0, created: 0, warmup: 0, fixture: fixture.uids.length };
  let ok = 0;
  let resumed = 0;
  let seconds = 0;
  let cpuSeconds = 0;
  const coreUse: number[] = [];
  for (const r of results) {
    histogram.merge(r.histogram);
    for (const [reason, n] of Object.entries(r.errors)) errors[reason] = (errors[reason] ?? 0) + n;
    ok += r.ok;
    resumed += r.resumed;
    seconds = Math.max(seconds, r.seconds);
    cpuSeconds += r.cpuSeconds;
    coreUse.push(r.seconds > 0 ? r.cpuSeconds / r.seconds : 0);
    totals.requests += r.totals.requests;
    totals.succeeded += r.totals.succeeded;
    totals.created += r.totals.created;
    totals.warmup += r.totals.warmup;
  }
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const ms = (us: number): number => Math.round(us) / 1000;
  const report: BenchReport = {
    op: options.op,
    server: `${options.host}:${options.port}`,
    connections: options.connections,
    workers,
    seconds,
    ok,
    failed,
    throughput: seconds > 0 ? ok / seconds : 0,
    latencyMs: {
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.maxUs),
      mean: histogram.count > 0 ? ms(histogram.sumUs / histogram.count) : 0,
    },
    errors,
    client: { cpuSeconds, coreUse, saturated: coreUse.some((u) => u >= 0.9) },
    totals,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    at: new Date().toISOString(),
  };
  if (cpuAtStart !== undefined && cpuAtEnd !== undefined && options.op !== 'idle') {
    const cpu = cpuAtEnd - cpuAtStart;
    report.serverCpu = { seconds: cpu, perRequestUs: totals.requests > 0 ? Math.round((cpu * 1e6) / totals.requests) : 0 };
  }
  if (options.op === 'connect') report.resumedShare = histogram.count > 0 ? resumed / histogram.count : 0;
  if (options.op === 'idle' && rssBefore && rssHeld) {
    report.serverRss = {
      beforeBytes: rssBefore.bytes,
      heldBytes: rssHeld.bytes,
      perConnectionBytes: Math.round((rssHeld.bytes - rssBefore.bytes) / Math.max(1, ok)),
      source: rssHeld.source,
    };
  }
  return report;
}

export function formatReport(r: BenchReport): string {
  const lines = [
    `${r.op} against ${r.server}: ${r.connections} connection(s), ${r.workers} worker process(es), ${r.seconds.toFixed(2)} s measured`,
    `  throughput  ${r.throughput.toFixed(1)} /s  (${r.ok} ok, ${r.failed} failed)`,
  ];
  if (r.op !== 'idle') {
    const l = r.latencyMs;
    lines.push(`  latency ms  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}  mean ${l.mean}`);
  }
  for (const [reason, n] of Object.entries(r.errors).sort((a, b) => b[1] - a[1])) lines.push(`  error       ${reason}: ${n}`);
  if (r.resumedShare !== undefined) lines.push(`  resumed     ${(r.resumedShare * 100).toFixed(0)} % of TLS sessions`);
  if (r.serverCpu) lines.push(`  server CPU  ${r.serverCpu.seconds.toFixed(2)} s, ${r.serverCpu.perRequestUs} µs per request`);
  if (r.serverRss) {
    const mb = (b: number): string => (b / 1048576).toFixed(1);
    lines.push(
      `  server RSS  ${mb(r.serverRss.beforeBytes)} MB before, ${mb(r.serverRss.heldBytes)} MB holding ${r.ok} connections (${(r.serverRss.perConnectionBytes / 1024).toFixed(1)} KiB each)`,
    );
  }
  lines.push(
    `  client CPU  ${r.client.cpuSeconds.toFixed(2)} s; per worker ${r.client.coreUse.map((u) => `${(u * 100).toFixed(0)} %`).join(', ')} of a core${r.client.saturated ? '  (SATURATED: the client may be the bottleneck; add --workers)' : ''}`,
  );
  lines.push(
    `  requests    ${r.totals.requests} sent (${r.totals.warmup} in warm-up), ${r.totals.succeeded} succeeded, ${r.totals.created} objects created, ${r.totals.fixture} fixture objects`,
  );
  lines.push(`  load avg    ${r.loadAverage.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
