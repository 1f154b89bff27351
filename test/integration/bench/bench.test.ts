// `kmipd bench` against a real kmipd (mTLS, SoftHSM2 token, SQLite file): the counts it reports
// must be what the server did — objects in the store, records in the audit trail — in process and
// through the command line with worker processes. And bench:compare must refuse to run without
// PyKMIP under CI=true.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchOptions, type BenchReport } from '../../../src/bench/load/bench.js';
import { startKmipdUnderTest, type KmipdUnderTest } from '../../support/kmipd-under-test.js';

let server: KmipdUnderTest;
let dbPath: string;
let tmp: string;

function countRows(table: 'objects' | 'audit_log'): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function connectionsTotal(): number {
  const m = /^kmipd_connections_total (\d+)$/m.exec(server.running.metrics.render());
  if (!m) throw new Error('no kmipd_connections_total in the metrics');
  return Number(m[1]);
}

function options(extra: Partial<BenchOptions>): BenchOptions {
  return {
    host: server.host,
    port: server.port,
    ca: server.paths.ca,
    cert: server.paths.cert,
    key: server.paths.key,
    op: 'create',
    connections: 2,
    warmupMs: 0,
    resume: true,
    timeoutMs: 10_000,
    ...extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  server = await startKmipdUnderTest();
  dbPath = path.join(path.dirname(path.dirname(server.paths.ca)), 'data', 'kmipd.db');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kmipd-bench-test-'));
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('kmipd bench against a real kmipd', () => {
  it('create for a second: every Create it counts is an object in the store, and an audit record', async () => {
    const objects0 = countRows('objects');
    const audit0 = countRows('audit_log');
    const r = await runBench(options({ op: 'create', connections: 3, durationMs: 1000 }));
    expect(r.ok).toBeGreaterThan(0);
    expect(r.failed).toBe(0);
    expect(r.totals.created).toBe(r.ok);
    expect(r.totals.requests).toBe(r.ok);
    expect(countRows('objects') - objects0).toBe(r.ok);
    expect(countRows('audit_log') - audit0).toBe(r.totals.requests);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
    expect(r.throughput).toBeCloseTo(r.ok / r.seconds, 6);
    expect(r.client.cpuSeconds).toBeGreaterThan(0);
  });

  it('get with --count: exactly that many Gets reach the server (audit trail), after the fixture Creates', async () => {
    const objects0 = countRows('objects');
    const audit0 = countRows('audit_log');
    const r = await runBench(options({ op: 'get', connections: 4, count: 57 }));
    expect(r.ok).toBe(57);
    expect(r.failed).toBe(0);
    expect(r.totals.fixture).toBe(16);
    expect(countRows('objects') - objects0).toBe(16);
    expect(countRows('audit_log') - audit0).toBe(16 + 57);
  });

  it('lifecycle: Create, Activate, Revoke, Destroy per key, one audit record per request counted', async () => {
    const audit0 = countRows('audit_log');
    const r: BenchReport = await runBench(options({ op: 'lifecycle', connections: 2, count: 40 }));
    expect(r.ok + r.failed).toBe(40);
    expect(r.failed).toBe(0);
    expect(r.totals.created).toBe(10);
    expect(countRows('audit_log') - audit0).toBe(40);
  });

  it('the command line with two worker processes reports what the store received', async () => {
    const objects0 = countRows('objects');
    const out = path.join(tmp, 'report.json');
    const p = server.paths;
    const res = await run(
      ['src/cli/main.ts', 'bench', '--server', `${server.host}:${server.port}`, '--ca', p.ca, '--cert', p.cert, '--key', p.key, '--op', 'create', '--connections', '4', '--workers', '2', '--count', '30', '--json', out],
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report.workers).toBe(2);
    expect(report.client.coreUse).toHaveLength(2);
    expect(report.ok).toBe(30);
    expect(report.totals.created).toBe(30);
    expect(countRows('objects') - objects0).toBe(30);
    expect(res.stdout).toMatch(/throughput\s+[\d.]+ \/s\s+\(30 ok, 0 failed\)/);
    expect(res.stdout).not.toMatch(/\r/); // no progress bar when stdout is not a terminal
  }, 120_000); // three processes compile the TypeScript sources on start: ~25 s on a busy machine

  it('connect opens a new TLS connection per request and resumes sessions', async () => {
    const before = connectionsTotal();
    const r = await runBench(options({ op: 'connect', connections: 2, count: 20 }));
    expect(r.ok).toBe(20);
    expect(connectionsTotal() - before).toBe(20);
    expect(r.resumedShare).toBeGreaterThan(0.5);
  });

  it('discover sends Discover Versions on held connections: one connection each, one audit record per request', async () => {
    const before = connectionsTotal();
    const audit0 = countRows('audit_log');
    const r = await runBench(options({ op: 'discover', connections: 3, count: 30 }));
    expect(r.ok).toBe(30);
    expect(r.failed).toBe(0);
    expect(connectionsTotal() - before).toBe(3);
    expect(countRows('audit_log') - audit0).toBe(30);
  });

  it('a refused server shows as transport errors, not successes', async () => {
    const r = await runBench(options({ op: 'connect', port: 1, connections: 1, count: 3 })).catch((e: Error) => e);
    if (r instanceof Error) throw r;
    expect(r.ok).toBe(0);
    expect(r.errors['Transport:ConnectFailed']).toBe(3);
  });
});

describe('bench:compare', () => {
  it('fails under CI=true when PyKMIP is missing', { timeout: 60_000 }, async () => {
    const res = await run(['src/bench/compare.ts', '--quick', '--pykmip-server', '/nonexistent/pykmip-server'], { CI: 'true' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/PyKMIP is required under CI=true: \/nonexistent\/pykmip-server not found/);
    expect(res.stdout).toBe('');
  });

  it('--quick measures both servers and prints their ratios (PyKMIP required under CI=true)', async () => {
    const out = path.join(tmp, 'compare.json');
    const res = await run(['src/bench/compare.ts', '--quick', '--duration', '0.3', '--json', out]);
    expect(res.stderr).not.toMatch(/warning: .*measuring kmipd alone/);
    if (res.code !== 0) throw new Error(res.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { rows: { op: string; connections: number; kmipd: BenchReport; pykmip?: BenchReport }[] };
    expect(report.rows.map((r) => `${r.op}×${r.connections}`)).toEqual(['create×1', 'create×4', 'get×1', 'get×4']);
    for (const row of report.rows) {
      expect(row.kmipd.ok).toBeGreaterThan(0);
      expect(row.kmipd.failed).toBe(0);
      expect(row.pykmip?.ok).toBeGreaterThan(0);
      expect(row.pykmip?.failed).toBe(0);
      const ratio = (row.kmipd.throughput / row.pykmip!.throughput).toFixed(1);
      expect(res.stdout).toContain(`| ${row.op} | ${row.connections} |`);
      expect(res.stdout).toContain(`| ${ratio}× |`);
    }
    const full = JSON.parse(readFileSync(out, 'utf8')) as { bareTls: { held: BenchReport }; kmipdHeld: BenchReport };
    expect(full.bareTls.held.ok).toBeGreaterThan(0);
    expect(full.kmipdHeld.ok).toBeGreaterThan(0);
    expect(full.kmipdHeld.failed).toBe(0);
    expect(res.stdout).toMatch(/\| bare node TLS, canned response on held connections .* \| [\d,.]+ \/s \|/);
  }, 180_000);
});
