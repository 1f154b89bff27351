/**
 * `kmipd bench`: a KMIP load generator (src/bench/load/) against any server over mutual TLS.
 * Prints a summary (and a progress bar when stdout is a terminal); `--json OUT` writes the report.
 * Exit code 1 when no request succeeded.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { parseServerAddress } from './conformance.js';
import { formatReport, runBench, type BenchOptions } from '../bench/load/bench.js';
import { BENCH_OPS, type BenchOp } from '../bench/load/runner.js';

export interface BenchCliOptions {
  server: string;
  ca: string;
  cert: string;
  key: string;
  op: string;
  connections: string;
  duration?: string;
  count?: string;
  warmup: string;
  workers?: string;
  json?: string;
  resume: boolean;
  tlsMax?: string;
  timeout: string;
  serverPid?: string;
  metrics?: string;
}

function positive(name: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function benchOptionsFromCli(o: BenchCliOptions): BenchOptions {
  const { host, port } = parseServerAddress(o.server);
  if (!(BENCH_OPS as readonly string[]).includes(o.op)) throw new Error(`--op must be one of ${BENCH_OPS.join(', ')}, got ${JSON.stringify(o.op)}`);
  const op = o.op as BenchOp;
  if (o.duration === undefined && o.count === undefined) throw new Error('give --duration SECONDS or --count N');
  if (op === 'idle' && o.duration === undefined) throw new Error('--op idle needs --duration (how long to hold the connections)');
  if (o.tlsMax !== undefined && o.tlsMax !== '1.2' && o.tlsMax !== '1.3') throw new Error(`--tls-max must be 1.2 or 1.3`);
  const options: BenchOptions = {
    host,
    port,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    op,
    connections: positive('--connections', o.connections, true),
    warmupMs: o.warmup === '0' ? 0 : positive('--warmup', o.warmup, false) * 1000,
    resume: o.resume,
    timeoutMs: positive('--timeout', o.timeout, true),
  };
  if (o.duration !== undefined) options.durationMs = positive('--duration', o.duration, false) * 1000;
  if (o.count !== undefined) options.count = positive('--count', o.count, true);
  if (o.workers !== undefined && o.workers !== 'auto') options.workers = positive('--workers', o.workers, true);
  if (o.tlsMax !== undefined) options.maxTlsVersion = o.tlsMax === '1.2' ? 'TLSv1.2' : 'TLSv1.3';
  if (o.serverPid !== undefined) options.serverPid = positive('--server-pid', o.serverPid, true);
  if (o.metrics !== undefined) options.metricsUrl = o.metrics;
  return options;
}

/** A one-line bar redrawn in place; only on a terminal. */
function progressBar(stream: NodeJS.WriteStream, options: BenchOptions): (done: number, expected: number | undefined) => void {
  const started = Date.now();
  const warmup = options.warmupMs;
  return (done, expected) => {
    const elapsed = Date.now() - started - warmup;
    const fraction = expected ? done / expected : options.durationMs ? Math.max(0, elapsed) / options.durationMs : 0;
    const width = 30;
    const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done} requests`);
  };
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('load-test a KMIP server: one TLS connection per simulated client, one request in flight on each')
    .requiredOption('--server <host:port>', 'server to load')
    .requiredOption('--ca <file>', 'PEM CA certificates that sign the server certificate')
    .requiredOption('--cert <file>', 'PEM client certificate (clientAuth EKU)')
    .requiredOption('--key <file>', 'PEM client private key')
    .option('--op <op>', `${BENCH_OPS.join('|')}`, 'get')
    .option('--connections <n>', 'simulated clients (connections)', '1')
    .option('--duration <seconds>', 'measured time')
    .option('--count <n>', 'measured requests (all connections together)')
    .option('--warmup <seconds>', 'unmeasured time before measuring', '0')
    .option('--workers <k|auto>', 'load-generator processes (auto: by op and connections)')
    .option('--no-resume', 'connect: a full handshake every time (no TLS session resumption)')
    .option('--tls-max <1.2|1.3>', 'highest TLS version offered')
    .option('--timeout <ms>', 'per-request and handshake timeout', '30000')
    .option('--server-pid <pid>', 'server process on this machine: report its CPU time per request, and (idle) its RSS from /proc')
    .option('--metrics <url>', 'idle: read the server RSS from kmipd /metrics')
    .option('--json <out>', 'write the report as JSON')
    .action(async (o: BenchCliOptions) => {
      const options = benchOptionsFromCli(o);
      const tty = process.stdout.isTTY === true;
      if (tty) options.progress = progressBar(process.stdout, options);
      const report = await runBench(options);
      if (tty) process.stdout.write('\r\x1b[K');
      process.stdout.write(formatReport(report));
      if (o.json !== undefined) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
      process.exitCode = report.ok > 0 ? 0 : 1;
    });
}
