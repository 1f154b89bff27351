/**
 * One process's share of a load run: `connections` simulated clients, each with its own TLS
 * connection and one request outstanding at a time (appliances do not pipeline), for a duration or
 * a number of requests. Latencies go into a mergeable histogram; failures are counted by Result
 * Reason (or transport error); the process's own CPU use over the measured window is reported, so
 * a client that is the bottleneck shows itself.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { connectKmip, KmipTransportError, type KmipConnection } from '../../client/connection.js';
import { LatencyHistogram, type HistogramJson } from './histogram.js';
import {
  activateRequest,
  createRequest,
  destroyRequest,
  discoverVersionsRequest,
  getRequest,
  locateByNameRequest,
  readOutcome,
  revokeRequest,
  type Outcome,
} from './requests.js';

export const BENCH_OPS = ['create', 'get', 'locate', 'lifecycle', 'connect', 'mixed', 'idle', 'discover'] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

/** Objects made before the run, for get, locate and mixed. */
export interface Fixture {
  uids: string[];
  names: string[];
}

/** The server, credentials and load shape: what the command line asks for and every process runs. */
export interface LoadSettings {
  host: string;
  port: number;
  /** PEM file paths. */
  ca: string;
  cert: string;
  key: string;
  op: BenchOp;
  connections: number;
  /** Measured window; the run ends at whichever of duration and count comes first. */
  durationMs?: number;
  count?: number;
  warmupMs: number;
  /** connect: offer the previous connection's TLS session (resumption), as appliances do. */
  resume: boolean;
  maxTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  timeoutMs: number;
}

/** What one process runs: serialisable, it crosses the fork boundary. */
export interface LoadPlan extends LoadSettings {
  fixture: Fixture;
  /** Unique per process and run: names of created objects start with it. */
  namePrefix: string;
}

export interface LoadResult {
  /** Successful requests in the measured window. */
  ok: number;
  /** Failed requests in the measured window, by Result Reason name or `Transport:<code>`. */
  errors: Record<string, number>;
  histogram: HistogramJson;
  /** Wall time of the measured window, until the last measured request completed. */
  seconds: number;
  /** CPU time this process used in the measured window. */
  cpuSeconds: number;
  /** Every request sent, warm-up included, and how many of them were successful Creates. */
  totals: { requests: number; succeeded: number; created: number; warmup: number };
  /** connect: measured connections whose TLS session was resumed. */
  resumed: number;
}

export interface RunHooks {
  /** Called once every connection is open (or immediately for connect), before the warm-up. */
  ready?: () => Promise<void>;
  /** Completed measured requests so far, polled for the progress bar. */
  progress?: (done: number) => void;
}

const OPEN_PARALLEL = 16;

type Step = (conn: KmipConnection) => Promise<Outcome>;

function transportReason(err: unknown): string {
  return err instanceof KmipTransportError ? `Transport:${err.code}` : `Transport:${err instanceof Error ? err.name : 'Error'}`;
}

export async function runLoad(plan: LoadPlan, hooks: RunHooks = {}): Promise<LoadResult> {
  const secureContext: SecureContext = createSecureContext({
    ca: readFileSync(plan.ca),
    cert: readFileSync(plan.cert),
    key: readFileSync(plan.key),
  });
  const connectOptions = {
    host: plan.host,
    port: plan.port,
    ca: '',
    cert: '',
    key: '',
    secureContext,
    timeoutMs: plan.timeoutMs,
    ...(plan.maxTlsVersion ? { maxVersion: plan.maxTlsVersion } : {}),
  };

  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const totals = { requests: 0, succeeded: 0, created: 0, warmup: 0 };
  let ok = 0;
  let resumed = 0;
  let measuring = false;
  let stopping = false;
  let ticketsLeft = plan.count ?? Infinity;
  let serial = 0;
  const fixture = plan.fixture;
  const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const newName = (): string => `${plan.namePrefix}-${serial++}`;

  const send = async (conn: KmipConnection, request: Buffer): Promise<Outcome> => readOutcome(await conn.send(request));
  const create: Step = async (conn) => {
    const out = await send(conn, createRequest(newName()));
    if (out.ok) totals.created++;
    return out;
  };
  const get: Step = (conn) => send(conn, getRequest(pick(fixture.uids)));
  const locate: Step = (conn) => send(conn, locateByNameRequest(pick(fixture.names)));

  /** lifecycle: Create → Activate → Revoke → Destroy, one request per step, per connection. */
  function lifecycleStep(): Step {
    let uid: string | undefined;
    let phase = 0;
    return async (conn) => {
      if (phase === 0 || uid === undefined) {
        const out = await create(conn);
        if (out.ok && out.uids[0] !== undefined) {
          uid = out.uids[0];
          phase = 1;
        }
        return out;
      }
      const request = phase === 1 ? activateRequest(uid) : phase === 2 ? revokeRequest(uid) : destroyRequest(uid);
      const out = await send(conn, request);
      phase = out.ok && phase < 3 ? phase + 1 : 0;
      return out;
    };
  }

  function mixedStep(): Step {
    return (conn) => {
      const r = Math.random();
      return r < 0.7 ? get(conn) : r < 0.9 ? locate(conn) : create(conn);
    };
  }

  function stepFor(op: BenchOp): Step {
    switch (op) {
      case 'create':
        return create;
      case 'get':
        return get;
      case 'locate':
        return locate;
      case 'lifecycle':
        return lifecycleStep();
      case 'mixed':
        return mixedStep();
      case 'connect':
      case 'idle':
      case 'discover':
        return (conn) => send(conn, discoverVersionsRequest());
    }
  }

  function account(startNs: bigint, measured: boolean, outcome: Outcome | { ok: false; reason: string }): void {
    totals.requests++;
    if (outcome.ok) totals.succeeded++;
    if (!measured) {
      totals.warmup++;
      return;
    }
    histogram.record(Number(process.hrtime.bigint() - startNs) / 1000);
    if (outcome.ok) ok++;
    else errors[outcome.reason] = (errors[outcome.reason] ?? 0) + 1;
  }

  /** Takes the next request slot; false when the run is over. */
  function ticket(): boolean {
    if (stopping) return false;
    if (!measuring) return true;
    if (ticketsLeft <= 0) return false;
    ticketsLeft--;
    return true;
  }

  async function persistentClient(): Promise<KmipConnection> {
    return connectKmip(connectOptions);
  }

  async function loopOnConnection(first: KmipConnection): Promise<void> {
    let conn: KmipConnection | undefined = first;
    const step = stepFor(plan.op);
    while (ticket()) {
      const measured = measuring;
      const t0 = process.hrtime.bigint();
      try {
        conn ??= await persistentClient();
        account(t0, measured, await step(conn));
      } catch (err) {
        account(t0, measured, { ok: false, reason: transportReason(err) });
        // A failed transport is not reused: reconnect for the next request, after a pause so a
        // refused server is not hammered.
        await conn?.close().catch(() => undefined);
        conn = undefined;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await conn?.close().catch(() => undefined);
  }

  async function loopConnecting(): Promise<void> {
    let session: Buffer | undefined;
    const request = discoverVersionsRequest();
    while (ticket()) {
      const measured = measuring;
      const t0 = process.hrtime.bigint();
      let conn: KmipConnection | undefined;
      try {
        conn = await connectKmip({ ...connectOptions, ...(plan.resume && session ? { session } : {}) });
        const out = readOutcome(await conn.send(request));
        if (measured && conn.sessionReused) resumed++;
        session = conn.session ?? session;
        await conn.close();
        account(t0, measured, out);
      } catch (err) {
        await conn?.close().catch(() => undefined);
        account(t0, measured, { ok: false, reason: transportReason(err) });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  // Open every persistent connection first, so handshakes are not part of the measured window.
  const connections: KmipConnection[] = [];
  if (plan.op !== 'connect') {
    // At most OPEN_PARALLEL handshakes at a time: a burst of a thousand would outlast handshake
    // deadlines on a busy machine without saying anything about the server's steady state.
    let next = 0;
    let failure: unknown;
    await Promise.all(
      Array.from({ length: Math.min(OPEN_PARALLEL, plan.connections) }, async () => {
        while (next < plan.connections && failure === undefined) {
          next++;
          try {
            connections.push(await persistentClient());
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure !== undefined) {
      await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
      throw failure instanceof Error ? failure : new Error(String(failure));
    }
    if (plan.op === 'idle') {
      // Every connection completes one request, so the server holds a fully set-up session.
      await Promise.all(connections.map((c) => c.send(discoverVersionsRequest())));
    }
  }
  await hooks.ready?.();

  if (plan.op === 'idle') {
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, plan.durationMs ?? 1000));
    await Promise.all(connections.map((c) => c.close()));
    return {
      ok: connections.length,
      errors: {},
      histogram: histogram.toJSON(),
      seconds: (Date.now() - t0) / 1000,
      cpuSeconds: 0,
      totals: { requests: connections.length, succeeded: connections.length, created: 0, warmup: 0 },
      resumed: 0,
    };
  }

  // Without a warm-up the very first requests are measured.
  if (plan.warmupMs <= 0) measuring = true;
  const loops =
    plan.op === 'connect'
      ? Array.from({ length: plan.connections }, () => loopConnecting())
      : connections.map((c) => loopOnConnection(c));

  if (plan.warmupMs > 0) await new Promise((r) => setTimeout(r, plan.warmupMs));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  measuring = true;
  const timers: NodeJS.Timeout[] = [];
  if (plan.durationMs !== undefined) timers.push(setTimeout(() => (stopping = true), plan.durationMs));
  if (hooks.progress) {
    const progress = hooks.progress;
    const t = setInterval(() => progress(histogram.count), 250);
    timers.push(t);
  }
  await Promise.all(loops);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  for (const t of timers) clearTimeout(t);
  hooks.progress?.(histogram.count);
  return {
    ok,
    errors,
    histogram: histogram.toJSON(),
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    totals,
    resumed,
  };
}
