/**
 * `kmipd conformance`: runs OASIS KMIP XML test cases (KMIP Profiles v1.4 / v2.1 test cases, KMIP
 * Test Cases v1.4) against a live server over mutual TLS and reports PASS / FAIL / SKIP per file,
 * then `N passed, N failed`. Exit code 0 only when no file failed. The engine is src/conformance/.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { connectKmip, type ConnectKmipOptions } from '../client/connection.js';
import { ConformanceRunner, type KmipConnection } from '../conformance/runner.js';
import { ProgressBar, formatFileLine, formatSummary, toJsonReport } from '../conformance/report.js';
import { expandVectorPaths } from '../conformance/vector-paths.js';

export interface ConformanceCliOptions {
  server: string;
  ca: string;
  cert: string;
  key: string;
  json?: string;
  timeout?: string;
}

export interface ConformanceIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** The transport; tests inject their own. */
  connect?: (options: ConnectKmipOptions) => Promise<KmipConnection>;
}

/** `host:port`, `[v6]:port`. */
export function parseServerAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`--server must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 30_000;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--timeout must be a positive number of milliseconds, got ${JSON.stringify(text)}`);
  return n;
}

/** Runs the command; resolves with the exit code. Usage errors throw. */
export async function runConformanceCommand(paths: readonly string[], options: ConformanceCliOptions, io: ConformanceIo): Promise<number> {
  const { host, port } = parseServerAddress(options.server);
  const timeoutMs = parseTimeout(options.timeout);
  const ca = readFileSync(options.ca);
  const cert = readFileSync(options.cert);
  const key = readFileSync(options.key);
  const files = expandVectorPaths(paths);
  if (files.length === 0) throw new Error('no test-case files found');

  const connect = io.connect ?? connectKmip;
  const progress = new ProgressBar(io.stderr);
  const runner = new ConformanceRunner({
    connect: () => connect({ host, port, ca, cert, key, timeoutMs }),
    onFileStart: (file, index, total) => progress.update(index, total, file.replace(/^.*[\\/]/, '')),
    onFileDone: (result, index, total) => {
      progress.clear();
      io.stdout.write(`${formatFileLine(result)}\n`);
      if (index + 1 < total) progress.update(index + 1, total, '');
    },
  });
  const report = await runner.runFiles(files);
  progress.clear();
  io.stdout.write(`${formatSummary(report)}\n`);
  if (options.json !== undefined) {
    writeFileSync(options.json, `${JSON.stringify(toJsonReport(report, `${host}:${port}`), null, 2)}\n`);
  }
  return report.failed > 0 ? 1 : 0;
}

export function registerConformanceCommand(program: Command): void {
  program
    .command('conformance')
    .description('run OASIS KMIP XML test cases against a live server over mutual TLS')
    .argument('<paths...>', 'test-case files or directories (run in natural order)')
    .requiredOption('--server <host:port>', 'server to test')
    .requiredOption('--ca <file>', 'PEM CA certificates that sign the server certificate')
    .requiredOption('--cert <file>', 'PEM client certificate')
    .requiredOption('--key <file>', 'PEM client private key')
    .option('--json <out>', 'write a machine-readable report to this file')
    .option('--timeout <ms>', 'per-request and handshake timeout in milliseconds', '30000')
    .action(async (paths: string[], options: ConformanceCliOptions) => {
      process.exitCode = await runConformanceCommand(paths, options, { stdout: process.stdout, stderr: process.stderr });
    });
}
