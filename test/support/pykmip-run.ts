// What the PyKMIP interop suites share (test/interop/*.test.ts): the python3-pykmip prerequisite
// (a missing one skips locally and FAILS under CI=true), a real kmipd under test started around a
// describe block, and running a Python script (Debian /usr/bin/python3) against a server with its
// host, port and mTLS file paths. The check scripts (test/interop/pykmip_common.py) print one
// JSON line per check, {"check", "ok", "detail" | "error"}, parsed here into `CheckLine`s.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmipdUnderTest, type KmipdUnderTest, type KmipdUnderTestOptions } from './kmipd-under-test.js';
import { PYTHON, pykmipAvailability, startPykmipServer, type PykmipServer } from './pykmip-server.js';
import { repoRoot } from './vectors-dir.js';

/** A script of test/interop by file name. */
export function interopScript(name: string): string {
  return path.join(repoRoot, 'test', 'interop', name);
}

/**
 * `describe` for suites that need python3-pykmip: without it the body is replaced by one test that
 * fails under CI=true and is skipped otherwise (saying what is missing).
 */
export function describeWithPykmip(title: string, body: () => void): void {
  describe(title, () => {
    const availability = pykmipAvailability();
    if (availability.available) {
      body();
    } else if (process.env['CI'] === 'true') {
      it('python3-pykmip is installed (required in CI)', () => {
        throw new Error(`python3-pykmip is missing: ${availability.reason}`);
      });
    } else {
      it.skip(`python3-pykmip is missing: ${availability.reason}`, () => undefined);
    }
  });
}

/** A KMIP server and the client credentials a script connects with (PEM file paths). */
export interface PykmipTarget {
  host: string;
  port: number;
  ca: string;
  cert: string;
  key: string;
}

export function kmipdTarget(kmipd: KmipdUnderTest): PykmipTarget {
  return { host: kmipd.host, port: kmipd.port, ...kmipd.paths };
}

export function referenceServerTarget(server: PykmipServer): PykmipTarget {
  return { host: server.host, port: server.port, ca: server.pki.caCert, cert: server.pki.clientCert, key: server.pki.clientKey };
}

/** The connection options every script takes (pykmip_common.connection_parser; bin/examples/envelope.py too). */
export function targetArgs(target: PykmipTarget): string[] {
  return ['--host', target.host, '--port', String(target.port), '--ca', target.ca, '--cert', target.cert, '--key', target.key];
}

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `/usr/bin/python3 script ...args`, killed after `timeoutMs`. Asynchronous: a synchronous
 * spawn would block the in-process server the script talks to.
 */
export function runPython(script: string, args: readonly string[], timeoutMs = 60_000): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** One check's result line. */
export interface CheckLine<Detail = Record<string, unknown>> {
  check: string;
  ok: boolean;
  detail?: Detail;
  error?: string;
}

export interface ChecksRun<Detail = Record<string, unknown>> {
  status: number | null;
  lines: CheckLine<Detail>[];
  stderr: string;
}

export interface ChecksOptions {
  /** Run only these checks (`--check`, in this order); all of the script's by default. */
  checks?: readonly string[];
  /** Arguments before the connection options (a command and its options). */
  args?: readonly string[];
  timeoutMs?: number;
}

/** Runs a pykmip_common check script against `target` and parses its lines. */
export async function runChecks<Detail = Record<string, unknown>>(
  script: string,
  target: PykmipTarget,
  options: ChecksOptions = {},
): Promise<ChecksRun<Detail>> {
  const args = [...(options.args ?? []), ...targetArgs(target)];
  for (const check of options.checks ?? []) args.push('--check', check);
  const { status, stdout, stderr } = await runPython(script, args, options.timeoutMs);
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CheckLine<Detail>);
  return { status, lines, stderr };
}

/** The run's line for `check`, asserted present and passed (with the script's stderr when absent). */
export function expectCheckPassed<Detail>(run: ChecksRun<Detail> | undefined, check: string): CheckLine<Detail> {
  const line = run?.lines.find((l) => l.check === check);
  expect(line, `no result line for ${check}; stderr:\n${run?.stderr ?? ''}`).toBeDefined();
  expect(line!.error ?? 'ok').toBe('ok');
  expect(line!.ok).toBe(true);
  return line!;
}

/**
 * A real kmipd for the enclosing describe block: started in beforeAll, stopped in afterAll. The
 * returned function gives the running server (inside tests and later hooks).
 */
export function useKmipdUnderTest(options: KmipdUnderTestOptions = {}, timeoutMs = 120_000): () => KmipdUnderTest {
  let kmipd: KmipdUnderTest | undefined;
  beforeAll(async () => {
    kmipd = await startKmipdUnderTest(undefined, options);
  }, timeoutMs);
  afterAll(async () => {
    await kmipd?.stop();
  });
  return () => {
    if (kmipd === undefined) throw new Error('kmipd under test did not start (see the beforeAll failure)');
    return kmipd;
  };
}

/**
 * A real kmipd for the enclosing describe block and one run of `script` against it, in beforeAll.
 * The returned function gives that run (undefined when the hook failed).
 */
export function useChecksAgainstKmipd<Detail = Record<string, unknown>>(
  script: string,
  kmipdOptions: KmipdUnderTestOptions = {},
  checksOptions: ChecksOptions = {},
): () => ChecksRun<Detail> | undefined {
  const kmipd = useKmipdUnderTest(kmipdOptions);
  let run: ChecksRun<Detail> | undefined;
  beforeAll(async () => {
    run = await runChecks<Detail>(script, kmipdTarget(kmipd()), checksOptions);
  }, 120_000);
  return () => run;
}

/** Runs `script` against a fresh PyKMIP reference server (which checks the script itself). */
export async function runChecksOnReferenceServer<Detail = Record<string, unknown>>(
  script: string,
  options: ChecksOptions = {},
): Promise<ChecksRun<Detail>> {
  const server = await startPykmipServer();
  try {
    return await runChecks<Detail>(script, referenceServerTarget(server), options);
  } finally {
    await server.stop();
  }
}
