/**
 * `npm run bench:compare`: kmipd against the PyKMIP 0.10 server (Debian python3-pykmip,
 * `auth_suite=TLS1.2`) on this machine, same scenarios, same client, one run. Both servers run as
 * child processes with their own temp directories (PyKMIP: its SQLite file; kmipd: a `kmipd init`
 * deployment with its SoftHSM2 token and SQLite store, served by `kmipd serve`). The client offers
 * TLS 1.2 to both, the suite PyKMIP's auth_suite mandates. Scenarios alternate between the servers
 * so that load from other processes on a shared machine falls on both alike.
 *
 * In the same run it measures the goals' reference points: a bare node TLS server with kmipd's TLS
 * policy (new connections per second, and canned responses on held connections: the machine's
 * request/response ceiling with this client), the single-commit SQLite ceiling on the same file system,
 * and kmipd's resident memory holding 1,000 idle mutual-TLS connections.
 *
 *   node dist/bench/compare.js [--quick] [--duration S] [--json OUT] [--pykmip-server PATH]
 *
 * Without PyKMIP it measures kmipd alone and says so; under CI=true a missing PyKMIP is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectKmip } from '../client/connection.js';
import { runBench, type BenchOptions, type BenchReport } from './load/bench.js';
import type { BenchOp } from './load/runner.js';
import { freePort, pykmipAvailability, startPykmipServer, PYKMIP_SERVER, type PykmipServer } from './pykmip-server.js';
import { singleCommitCeiling } from './sqlite-ceiling.js';

// From dist/ these are .js files; the tests run the sources (.ts) through a loader in execArgv.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const cliMain = fileURLToPath(new URL(`../cli/main${ext}`, import.meta.url));
const bareServer = fileURLToPath(new URL(`./bare-tls-server${ext}`, import.meta.url));
const nodeArgs = (file: string, args: string[]): string[] => [...process.execArgv, file, ...args];

interface Target {
  name: 'kmipd' | 'PyKMIP';
  pid?: number;
  host: string;
  port: number;
  ca: string;
  cert: string;
  key: string;
}

interface Row {
  op: BenchOp;
  connections: number;
  kmipd: BenchReport;
  pykmip?: BenchReport;
}

export interface CompareReport {
  machine: { cpus: number; model: string; node: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  pykmip: string;
  rows: Row[];
  bareTls: { resumed: BenchReport; full: BenchReport; held: BenchReport };
  /** Discover Versions on held connections: kmipd's per-message floor, against bareTls.held. */
  kmipdHeld: BenchReport;
  kmipdFullHandshake: BenchReport;
  sqliteSingleCommitPerSecond: number;
  idle?: BenchReport;
  seconds: number;
}

async function waitForTls(target: Target, child: ChildProcess, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.signalCode ?? child.exitCode})`);
    try {
      const c = await connectKmip({
        host: target.host,
        port: target.port,
        ca: readFileSync(target.ca),
        cert: readFileSync(target.cert),
        key: readFileSync(target.key),
        timeoutMs: 2000,
      });
      await c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what} did not accept TLS connections within ${timeoutMs} ms`);
}

function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs(cliMain, args), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kmipd ${args[0]} failed (${code}): ${err}`))));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(t);
}

/** A temp kmipd deployment served by `kmipd serve` in a child process. */
async function startKmipd(root: string): Promise<{ target: Target; child: ChildProcess; dir: string }> {
  const dir = path.join(root, 'kmipd');
  const port = await freePort();
  await runCli(['init', '--dir', dir, '--listen', `127.0.0.1:${port}`, '--no-admin']);
  const configPath = path.join(dir, 'kmipd.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { limits: Record<string, number> };
  // The idle measurement holds 1,000 connections from one address (default cap 128 per address).
  config.limits['maxConnectionsPerAddress'] = 2048;
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [...(process.env['KMIPD_COMPARE_SERVER_ARGS']?.split(' ').filter(Boolean) ?? []), ...nodeArgs(cliMain, ['serve', '--dir', dir])], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const target: Target = {
    name: 'kmipd',
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    host: '127.0.0.1',
    port,
    ca: path.join(dir, 'certs', 'ca.crt'),
    cert: path.join(dir, 'certs', 'admin.crt'),
    key: path.join(dir, 'certs', 'admin.key'),
  };
  await waitForTls(target, child, 'kmipd serve');
  return { target, child, dir };
}

async function startBare(kmipdDir: string): Promise<{ port: number; child: ChildProcess }> {
  const certs = path.join(kmipdDir, 'certs');
  const child = spawn(process.execPath, nodeArgs(bareServer, [path.join(certs, 'ca.crt'), path.join(certs, 'server.crt'), path.join(certs, 'server.key')]), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`bare TLS server exited (${code})`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const lat = (r: BenchReport): string => `${r.latencyMs.p50.toFixed(2)} / ${r.latencyMs.p99.toFixed(2)}`;
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a');
const cpu = (r: BenchReport | undefined): string => (r?.serverCpu ? String(r.serverCpu.perRequestUs) : 'n/a');
const failures = (r: BenchReport | undefined): string => (r && r.failed > 0 ? ` (${r.failed} failed: ${Object.keys(r.errors).join(', ')})` : '');

export function formatCompare(r: CompareReport): string {
  const out: string[] = [];
  out.push(
    `Machine: ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}; load average ${r.machine.loadAverageStart.join(' ')} at start, ${r.machine.loadAverageEnd.join(' ')} at end; PyKMIP: ${r.pykmip}; ${r.seconds.toFixed(0)} s`,
    '',
    '| scenario | conns | kmipd /s | kmipd p50 / p99 ms | PyKMIP /s | PyKMIP p50 / p99 ms | kmipd / PyKMIP | server CPU µs/request kmipd / PyKMIP | load avg |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const row of r.rows) {
    const p = row.pykmip;
    out.push(
      `| ${row.op} | ${row.connections} | ${fmt(row.kmipd.throughput)}${failures(row.kmipd)} | ${lat(row.kmipd)} | ${p ? fmt(p.throughput) + failures(p) : 'n/a'} | ${p ? lat(p) : 'n/a'} | ${p ? ratio(row.kmipd.throughput, p.throughput) : 'n/a'} | ${cpu(row.kmipd)} / ${cpu(p)} | ${row.kmipd.loadAverage[0]} |`,
    );
  }
  const find = (op: BenchOp, n: number): Row | undefined => r.rows.find((x) => x.op === op && x.connections === n);
  const top = Math.max(...r.rows.map((x) => x.connections));
  const get = find('get', top);
  const create = find('create', top);
  const connect = find('connect', top);
  const connectTop = connect;
  out.push(
    '',
    '| reference point (same run) | rate | server CPU µs/connection |',
    '| --- | ---: | ---: |',
    `| bare node TLS, new connection + 1 request, resumed session, ${top} conns | ${fmt(r.bareTls.resumed.throughput)} /s | ${cpu(r.bareTls.resumed)} |`,
    `| kmipd, new connection + 1 request, resumed session, ${top} conns | ${connectTop ? fmt(connectTop.kmipd.throughput) : 'n/a'} /s | ${cpu(connectTop?.kmipd)} |`,
    `| bare node TLS, new connection + 1 request, full handshake, ${top} conns | ${fmt(r.bareTls.full.throughput)} /s | ${cpu(r.bareTls.full)} |`,
    `| kmipd, new connection + 1 request, full handshake, ${top} conns | ${fmt(r.kmipdFullHandshake.throughput)} /s | ${cpu(r.kmipdFullHandshake)} |`,
    `| bare node TLS, canned response on held connections (the request/response ceiling), ${top} conns | ${fmt(r.bareTls.held.throughput)} /s | ${cpu(r.bareTls.held)} per message |`,
    `| kmipd, Discover Versions on held connections (framing, dispatch, durable audit record), ${top} conns | ${fmt(r.kmipdHeld.throughput)} /s | ${cpu(r.kmipdHeld)} per message |`,
    `| SQLite WAL synchronous=FULL, one row per commit | ${fmt(r.sqliteSingleCommitPerSecond)} /s | |`,
  );
  if (r.idle?.serverRss) {
    out.push(`| kmipd RSS holding ${r.idle.ok} idle mTLS connections | ${(r.idle.serverRss.heldBytes / 1048576).toFixed(1)} MB (${(r.idle.serverRss.beforeBytes / 1048576).toFixed(1)} MB before) | |`);
  }
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
  out.push('', 'Goals:');
  if (get) {
    const x = get.pykmip ? get.kmipd.throughput / get.pykmip.throughput : undefined;
    out.push(
      `- Get at ${top} connections ≥ 50× PyKMIP with p99 ≤ 5 ms: ${x === undefined ? 'n/a' : `${x.toFixed(1)}×`}, p99 ${get.kmipd.latencyMs.p99.toFixed(2)} ms: ${verdict(x === undefined ? undefined : x >= 50 && get.kmipd.latencyMs.p99 <= 5)}` +
        (get.pykmip ? ` (50× PyKMIP is ${fmt(50 * get.pykmip.throughput)}/s, ${((50 * get.pykmip.throughput * 100) / r.bareTls.held.throughput).toFixed(0)} % of the bare TLS ceiling on held connections)` : ''),
    );
  }
  if (create) {
    const x = create.pykmip ? create.kmipd.throughput / create.pykmip.throughput : undefined;
    const c = create.kmipd.throughput / r.sqliteSingleCommitPerSecond;
    out.push(
      `- durable Create at ${top} connections ≥ 20× PyKMIP and ≥ the single-commit SQLite ceiling: ${x === undefined ? 'n/a' : `${x.toFixed(1)}×`} PyKMIP, ${c.toFixed(2)}× the ceiling: ${verdict(x === undefined ? undefined : x >= 20 && c >= 1)}`,
    );
  }
  if (connect) {
    const resumed = connect.kmipd.throughput / r.bareTls.resumed.throughput;
    const full = r.kmipdFullHandshake.throughput / r.bareTls.full.throughput;
    const cpuShare = (k: BenchReport, b: BenchReport): string =>
      k.serverCpu && b.serverCpu && k.serverCpu.perRequestUs > 0 ? `${((b.serverCpu.perRequestUs / k.serverCpu.perRequestUs) * 100).toFixed(0)} %` : 'n/a';
    out.push(
      `- new connections ≥ 80% of bare node TLS: resumed ${(resumed * 100).toFixed(0)} %, full handshake ${(full * 100).toFixed(0)} % (by server CPU per connection: ${cpuShare(connect.kmipd, r.bareTls.resumed)} and ${cpuShare(r.kmipdFullHandshake, r.bareTls.full)}): ${verdict(resumed >= 0.8 && full >= 0.8)}`,
    );
  }
  if (r.idle?.serverRss) {
    const mb = r.idle.serverRss.heldBytes / 1048576;
    out.push(`- ${r.idle.ok} idle mTLS connections ≤ 200 MB RSS: ${mb.toFixed(1)} MB: ${verdict(r.idle.ok >= 1000 && mb <= 200)}`);
  }
  return `${out.join('\n')}\n`;
}

export async function runCompare(options: { quick: boolean; durationMs: number; pykmipServer: string; log: (line: string) => void }): Promise<CompareReport> {
  const started = Date.now();
  const loadAverageStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const availability = pykmipAvailability(options.pykmipServer);
  if (!availability.available) {
    if (process.env['CI'] === 'true') throw new Error(`PyKMIP is required under CI=true: ${availability.reason}`);
    options.log(`warning: ${availability.reason}; measuring kmipd alone`);
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-compare-'));
  const children: ChildProcess[] = [];
  let pykmip: PykmipServer | undefined;
  try {
    const kmipd = await startKmipd(root);
    children.push(kmipd.child);
    let pykmipTarget: Target | undefined;
    if (availability.available) {
      pykmip = await startPykmipServer({ serverPath: options.pykmipServer, logLevel: 'WARNING' });
      pykmipTarget = { name: 'PyKMIP', ...(pykmip.pid !== undefined ? { pid: pykmip.pid } : {}), host: pykmip.host, port: pykmip.port, ca: pykmip.pki.caCert, cert: pykmip.pki.clientCert, key: pykmip.pki.clientKey };
    }
    const bare = await startBare(kmipd.dir);
    children.push(bare.child);

    const warmupMs = options.quick ? 0 : 500;
    const bench = (t: Pick<Target, 'host' | 'port' | 'ca' | 'cert' | 'key' | 'pid'>, op: BenchOp, connections: number, extra: Partial<BenchOptions> = {}): Promise<BenchReport> =>
      runBench({
        host: t.host,
        port: t.port,
        ca: t.ca,
        cert: t.cert,
        key: t.key,
        op,
        connections,
        durationMs: options.durationMs,
        warmupMs,
        resume: true,
        maxTlsVersion: 'TLSv1.2',
        timeoutMs: 30_000,
        ...(t.pid !== undefined ? { serverPid: t.pid } : {}),
        ...extra,
      });

    const ops: BenchOp[] = options.quick ? ['create', 'get'] : ['create', 'get', 'locate', 'connect'];
    const levels = options.quick ? [1, 4] : [1, 4, 16];
    const rows: Row[] = [];
    for (const op of ops) {
      for (const connections of levels) {
        const k = await bench(kmipd.target, op, connections);
        const p = pykmipTarget ? await bench(pykmipTarget, op, connections) : undefined;
        rows.push({ op, connections, kmipd: k, ...(p ? { pykmip: p } : {}) });
        options.log(`${op} ×${connections}: kmipd ${fmt(k.throughput)}/s${p ? `, PyKMIP ${fmt(p.throughput)}/s` : ''} (load ${k.loadAverage[0]})`);
      }
    }
    const top = levels[levels.length - 1]!;
    const bareTarget = { host: '127.0.0.1', port: bare.port, ca: kmipd.target.ca, cert: kmipd.target.cert, key: kmipd.target.key, ...(bare.child.pid !== undefined ? { pid: bare.child.pid } : {}) };
    const bareResumed = await bench(bareTarget, 'connect', top);
    const bareFull = await bench(bareTarget, 'connect', top, { resume: false });
    const kmipdFull = await bench(kmipd.target, 'connect', top, { resume: false });
    const bareHeld = await bench(bareTarget, 'discover', top);
    const kmipdHeld = await bench(kmipd.target, 'discover', top);
    options.log(`discover ×${top} on held connections: bare TLS ${fmt(bareHeld.throughput)}/s, kmipd ${fmt(kmipdHeld.throughput)}/s`);
    options.log(`connect ×${top}: bare TLS ${fmt(bareResumed.throughput)}/s resumed, ${fmt(bareFull.throughput)}/s full; kmipd full ${fmt(kmipdFull.throughput)}/s`);
    const ceiling = singleCommitCeiling(path.join(root, 'ceiling.db'), options.quick ? 0.5 : 2);
    options.log(`SQLite single-commit ceiling ${fmt(ceiling.perSecond)}/s`);
    let idle: BenchReport | undefined;
    if (!options.quick && kmipd.child.pid !== undefined) {
      try {
        idle = await bench(kmipd.target, 'idle', 1000, { durationMs: 1000, serverPid: kmipd.child.pid });
        options.log(`idle ×1000: kmipd RSS ${((idle.serverRss?.heldBytes ?? 0) / 1048576).toFixed(1)} MB`);
      } catch (err) {
        options.log(`idle ×1000 not measured: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model.trim() ?? 'unknown',
        node: process.version,
        loadAverageStart,
        loadAverageEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
      },
      pykmip: availability.available ? 'python3-pykmip 0.10 (pykmip-server, auth_suite=TLS1.2)' : `not measured (${availability.reason})`,
      rows,
      bareTls: { resumed: bareResumed, full: bareFull, held: bareHeld },
      kmipdHeld,
      kmipdFullHandshake: kmipdFull,
      sqliteSingleCommitPerSecond: ceiling.perSecond,
      ...(idle ? { idle } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pykmip?.stop().catch(() => undefined);
    for (const c of children) await stopChild(c);
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      json: { type: 'string' },
      'pykmip-server': { type: 'string', default: PYKMIP_SERVER },
    },
  });
  const quick = values.quick === true;
  const durationMs = values.duration !== undefined ? Number(values.duration) * 1000 : quick ? 500 : 3000;
  if (!(durationMs > 0)) throw new Error('--duration must be a positive number of seconds');
  const report = await runCompare({ quick, durationMs, pykmipServer: values['pykmip-server'] ?? PYKMIP_SERVER, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(formatCompare(report));
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:compare: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
