/**
 * The pass matrix behind bin/conformance-matrix: runs the OASIS KMIP 1.4 and 2.1 test cases
 * (../shared/kmip-vectors) through the conformance runner against kmipd and against the PyKMIP
 * reference server, and prints, per profile (BL, SKLC, SASED, TL, OMOS, SKFF, CS-BC, AX, and the
 * 1.4 TC-* test cases) and version, how many files each server passes.
 *
 * Started by bin/conformance-matrix through the TypeScript loader hooks, with the repository as the
 * working directory. Options:
 *   --server kmipd|pykmip   run only one column (default both)
 *   --repeat N              run each server N times and report any file whose verdict or first
 *                           difference changed between runs (a flaky verdict is a runner bug)
 *   --reuse                 with --repeat: all runs against one server instance (checks that the
 *                           runner's clean-up leaves the store as it found it); default: a fresh
 *                           instance per run
 *   --json-dir DIR          write each run's JSON report there
 *   --details               print every file's line, not only the table
 *   --kmipd-in-process      start kmipd in this process (test/support/kmipd-under-test.ts, with its
 *                           test wiring of the executor) instead of through `kmipd init` + `kmipd serve`
 * Environment: KMIP_VECTORS_DIR (default ../shared/kmip-vectors), KMIPD_BIN (default bin/kmipd).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConformanceRunner, type FileResult, type RunReport } from '../../src/conformance/runner.js';
import { connectKmip } from '../../src/client/connection.js';
import { formatFileLine, formatSummary, toJsonReport } from '../../src/conformance/report.js';
import { expandVectorPaths } from '../../src/conformance/vector-paths.js';
import { freePort, startPykmipServer } from './pykmip-server.js';
import { startKmipdUnderTest } from './kmipd-under-test.js';

interface Endpoint {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  stop(): Promise<void>;
}

type ServerName = 'kmipd' | 'pykmip';

const PROFILES = ['BL', 'SKLC', 'SASED', 'TL', 'OMOS', 'SKFF', 'CS-BC', 'AX', 'TC'] as const;
const VERSIONS = [
  { version: '1.4', dir: 'kmip-1.4' },
  { version: '2.1', dir: 'kmip-2.1' },
] as const;

/** `kmip-1.4/mandatory/CS-BC-M-GCM-1-14.xml` → `CS-BC`; every 1.4 test case → `TC`. */
function profileOf(file: string): string {
  const base = path.basename(file, '.xml');
  if (base.startsWith('TC-')) return 'TC';
  const m = /^(.*?)-M-/.exec(base);
  return m ? m[1]! : base;
}

function versionOf(file: string): string {
  return file.includes(`${path.sep}kmip-2.1${path.sep}`) ? '2.1' : '1.4';
}

async function startPykmip(): Promise<Endpoint> {
  const s = await startPykmipServer();
  return {
    host: s.host,
    port: s.port,
    ca: readFileSync(s.pki.caCert),
    cert: readFileSync(s.pki.clientCert),
    key: readFileSync(s.pki.clientKey),
    stop: () => s.stop(),
  };
}

/**
 * kmipd through its own CLI, as an operator would run it: `kmipd init --dir DIR` (config, PKI with
 * an admin client certificate in DIR/certs, SoftHSM token), then `kmipd serve --dir DIR`. Needs the
 * build (bin/conformance-matrix runs bin/setup) and both commands registered in src/cli/main.ts.
 */
async function startKmipd(): Promise<Endpoint> {
  // KMIPD_BIN: another launcher with the same commands (e.g. one wiring a different executor).
  const bin = process.env['KMIPD_BIN'] ?? 'bin/kmipd';
  const kmipd = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const help = kmipd(['--help']);
  const commands = `${help.stdout}${help.stderr}`;
  if (help.status !== 0 || !/^\s+init\b/m.test(commands) || !/^\s+serve\b/m.test(commands)) {
    throw new Error('`kmipd init` / `kmipd serve` are not registered in the built CLI (bin/kmipd --help); kmipd column not run');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmipd-matrix-'));
  const port = await freePort();
  const init = kmipd(['init', '--dir', path.join(dir, 'deployment'), '--listen', `127.0.0.1:${port}`, '--no-admin']);
  if (init.status !== 0) throw new Error(`kmipd init failed: ${init.stderr.trim()}`);
  const deployment = path.join(dir, 'deployment');
  // The Baseline vectors bracket each case with Interop, which a production deployment does not
  // offer (KMIP 2.1 §6.1.26): this conformance deployment turns it on, as the vector suite does.
  const configPath = path.join(deployment, 'kmipd.json');
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), interopOperation: true }, null, 2));
  const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--dir', deployment], { stdio: ['ignore', 'ignore', 'inherit'] });
  const certs = path.join(deployment, 'certs');
  const endpoint: Endpoint = {
    host: '127.0.0.1',
    port,
    ca: readFileSync(path.join(certs, 'ca.crt')),
    cert: readFileSync(path.join(certs, 'admin.crt')),
    key: readFileSync(path.join(certs, 'admin.key')),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      await (await connectKmip({ ...endpoint, timeoutMs: 2000 })).close();
      return endpoint;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await endpoint.stop();
  throw new Error('kmipd serve did not accept TLS connections within 30 s');
}

async function startKmipdInProcess(): Promise<Endpoint> {
  const k = await startKmipdUnderTest();
  return { host: k.host, port: k.port, ca: k.ca, cert: k.cert, key: k.key, stop: () => k.stop() };
}

async function runAgainst(endpoint: Endpoint, files: readonly string[], details: boolean): Promise<RunReport> {
  const runner = new ConformanceRunner({
    connect: () => connectKmip({ host: endpoint.host, port: endpoint.port, ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key, timeoutMs: 30_000 }),
    onFileDone: (r) => {
      if (details) process.stdout.write(`${formatFileLine(r)}\n`);
    },
  });
  return runner.runFiles(files);
}

interface Args {
  servers: ServerName[];
  repeat: number;
  reuse: boolean;
  jsonDir?: string;
  details: boolean;
  kmipdInProcess: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let servers: ServerName[] = ['kmipd', 'pykmip'];
  let kmipdInProcess = false;
  let repeat = 1;
  let reuse = false;
  let jsonDir: string | undefined;
  let details = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--server') {
      const v = argv[++i];
      if (v !== 'kmipd' && v !== 'pykmip') throw new Error('--server takes kmipd or pykmip');
      servers = [v];
    } else if (a === '--repeat') {
      repeat = Number(argv[++i]);
      if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a positive integer');
    } else if (a === '--json-dir') {
      jsonDir = argv[++i];
    } else if (a === '--reuse') {
      reuse = true;
    } else if (a === '--kmipd-in-process') {
      kmipdInProcess = true;
    } else if (a === '--details') {
      details = true;
    } else {
      throw new Error(`unknown option ${a ?? ''}`);
    }
  }
  return { servers, repeat, reuse, ...(jsonDir !== undefined && { jsonDir }), details, kmipdInProcess };
}

/**
 * What must not change between runs: the verdict and where the first difference is. The actual
 * value is left out because it may quote the server's own Result Message, which is free text
 * (PyKMIP's names an internal object counter that grows with every run on one instance).
 */
function signature(r: FileResult): string {
  const d = r.difference;
  return d ? `${r.verdict} request ${d.request} ${d.path} expected ${d.expected}` : `${r.verdict} ${r.message ?? ''}`;
}

/** The server being run right now, stopped if the driver is interrupted (servers run detached). */
let active: Endpoint | undefined;

let exiting = false;

function stopActiveAndExit(code: number): void {
  if (exiting) return;
  exiting = true;
  const endpoint = active;
  active = undefined;
  void (endpoint?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
}

process.once('SIGINT', () => stopActiveAndExit(130));
process.once('SIGTERM', () => stopActiveAndExit(143));
// `bin/conformance-matrix | head` closes stdout early: stop the server rather than leak it.
process.stdout.on('error', () => stopActiveAndExit(141));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const vectors = process.env['KMIP_VECTORS_DIR'] ?? path.resolve('..', 'shared', 'kmip-vectors');
  if (!existsSync(vectors)) throw new Error(`KMIP vectors not found at ${vectors} (set KMIP_VECTORS_DIR)`);
  const files = expandVectorPaths(VERSIONS.map((v) => path.join(vectors, v.dir)));
  if (args.jsonDir !== undefined) mkdirSync(args.jsonDir, { recursive: true });

  const passedBy = new Map<ServerName, Set<string> | string>();
  let unstable = 0;
  for (const server of args.servers) {
    const runs: RunReport[] = [];
    let endpoint: Endpoint | undefined;
    for (let run = 1; run <= args.repeat; run++) {
      try {
        endpoint ??= server === 'pykmip' ? await startPykmip() : args.kmipdInProcess ? await startKmipdInProcess() : await startKmipd();
        active = endpoint;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${server}: ${reason}\n`);
        passedBy.set(server, 'n/a');
        break;
      }
      try {
        process.stderr.write(`${server}: run ${run}/${args.repeat} on ${endpoint.host}:${endpoint.port} (${files.length} files)\n`);
        const report = await runAgainst(endpoint, files, args.details);
        process.stderr.write(`${server}: ${formatSummary(report)} (${Math.round(report.durationMs / 1000)} s)\n`);
        runs.push(report);
        if (args.jsonDir !== undefined) {
          writeFileSync(path.join(args.jsonDir, `${server}-run${run}.json`), `${JSON.stringify(toJsonReport(report, `${endpoint.host}:${endpoint.port}`), null, 2)}\n`);
        }
      } finally {
        if (!args.reuse || run === args.repeat) {
          active = undefined;
          await endpoint.stop();
          endpoint = undefined;
        }
      }
    }
    const first = runs[0];
    if (first === undefined) continue;
    let differing = 0;
    passedBy.set(server, new Set(first.files.filter((f) => f.verdict === 'pass').map((f) => f.path)));
    for (const other of runs.slice(1)) {
      first.files.forEach((f, i) => {
        const g = other.files[i];
        if (g === undefined || signature(f) !== signature(g)) {
          differing++;
          process.stderr.write(`${server}: ${f.id} differs between runs:\n  ${formatFileLine(f)}\n  ${g ? formatFileLine(g) : '(missing)'}\n`);
        }
      });
    }
    unstable += differing;
    if (runs.length > 1) process.stderr.write(`${server}: ${runs.length} runs, ${differing === 0 ? 'identical verdicts and differences' : `${differing} files differ`}\n`);
  }

  const cell = (server: ServerName, profile: string, version: string): string => {
    const passed = passedBy.get(server);
    if (passed === undefined) return '–';
    if (typeof passed === 'string') return passed;
    return String(files.filter((f) => profileOf(f) === profile && versionOf(f) === version && passed.has(f)).length);
  };
  const lines = ['| Profile | Version | kmipd | PyKMIP | Total |', '| --- | --- | ---: | ---: | ---: |'];
  for (const profile of PROFILES) {
    for (const { version } of VERSIONS) {
      const total = files.filter((f) => profileOf(f) === profile && versionOf(f) === version).length;
      if (total === 0) continue;
      lines.push(`| ${profile} | ${version} | ${cell('kmipd', profile, version)} | ${cell('pykmip', profile, version)} | ${total} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return unstable === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`conformance-matrix: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
