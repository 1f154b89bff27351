// A private PostgreSQL server for the test run, from Debian's `postgresql` binaries (bin/setup --test
// installs them): initdb into a temp dir, listening only on a Unix socket in that dir and on
// 127.0.0.1 at a free port, fsync and synchronous_commit on (the store's durability claims are
// tested, not assumed). Password (SCRAM) authentication over TCP, so the store's URL is an
// ordinary one; trust only on the socket, which lives in a directory no one else can enter.
//
// Started lazily by the first test file that asks for a database, shared by every file of the run
// (the vitest globalSetup in test/support/postgres-global.ts hands out the run directory and stops
// the server at the end). Each caller gets a fresh, empty schema: `await createTestDatabase()`.
//
// PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user
// (runuser) with the run directory owned by it. Without PostgreSQL the suites are skipped
// locally (describePostgres) and FAIL under CI=true.
//
// KMIPD_TEST_POSTGRES_URL (a superuser URL of an existing server) skips all of that.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, inject } from 'vitest';

export const isCI = process.env['CI'] === 'true';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Directory shared by the test files of one run; the server lives in it (see postgres-global.ts). */
    kmipdPostgresRun: string;
  }
}

/** Where the server of a run is, once started (written to <run>/server.json). */
export interface TestPostgresServer {
  /** Superuser URL (database `postgres`), TCP on 127.0.0.1. */
  adminUrl: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory holding the Unix socket (`.s.PGSQL.<port>`). */
  socketDir: string;
  /** The PostgreSQL binaries used (initdb, pg_ctl, postgres). */
  binDir: string;
  dataDir: string;
}

const SUPERUSER = 'kmipd_test';
/** The database the run's test schemas live in (created with the server). */
const TEST_DATABASE = 'kmipd_test';

/** The newest Debian PostgreSQL install (/usr/lib/postgresql/<major>/bin), or KMIPD_TEST_PG_BIN. */
export function postgresBinDir(): string | undefined {
  const forced = process.env['KMIPD_TEST_PG_BIN'];
  if (forced) return existsSync(path.join(forced, 'initdb')) ? forced : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : path.join(root, majors[0], 'bin');
}

export function postgresAvailable(): boolean {
  return process.env['KMIPD_TEST_POSTGRES_URL'] !== undefined || postgresBinDir() !== undefined;
}

/**
 * `describe` for suites that need PostgreSQL. Locally a missing install skips them; under CI=true
 * the suite runs and fails on its first createTestDatabase(), so a broken image cannot pass.
 */
export const describePostgres: typeof describe = postgresAvailable() || isCI ? describe : (describe.skip as typeof describe);

let serverPromise: Promise<TestPostgresServer> | undefined;

/** The run's server, starting it if no test file has yet. */
export function testPostgresServer(): Promise<TestPostgresServer> {
  serverPromise ??= locateOrStartServer();
  return serverPromise;
}

/**
 * A new, empty place to put tables, as a URL (same user and password as admin). It is a fresh
 * schema in the run's test database, named in the URL (`?options=-c search_path=…`), so every
 * unqualified table a store creates or reads lands in it: as isolated as a database of its own
 * for a store, and far cheaper (CREATE DATABASE copies and syncs a whole template each time).
 */
export async function createTestDatabase(prefix = 'kmipd_t'): Promise<string> {
  const server = await testPostgresServer();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad test schema name ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${TEST_DATABASE}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  url.searchParams.set('options', `-c search_path=${name}`);
  return url.toString();
}

/** Runs one statement as the superuser (pg_terminate_backend and the like in tests). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const server = await testPostgresServer();
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    return (await admin.query<R>(sql, params)).rows;
  } finally {
    await admin.end();
  }
}

async function locateOrStartServer(): Promise<TestPostgresServer> {
  const external = process.env['KMIPD_TEST_POSTGRES_URL'];
  if (external !== undefined) return externalServer(external);
  const binDir = postgresBinDir();
  if (binDir === undefined) {
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<major>/bin/initdb): run bin/setup --test');
  }
  let run: string | undefined;
  try {
    run = inject('kmipdPostgresRun');
  } catch {
    run = undefined;
  }
  if (run === undefined) {
    // Not under the suite's globalSetup (a script, another config): a server for this process only.
    run = privateRunDir();
    const dir = run;
    process.once('exit', () => stopServer(dir));
  }
  return startOrWait(run, binDir);
}

function externalServer(adminUrl: string): TestPostgresServer {
  const u = new URL(adminUrl);
  return {
    adminUrl,
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    socketDir: '',
    binDir: postgresBinDir() ?? '',
    dataDir: '',
  };
}

/** A fresh run directory, owned by `postgres` when we are root (see the header). */
export function privateRunDir(): string {
  // As root the server runs as `postgres`, which must be able to reach the directory: /tmp, not a
  // TMPDIR that may sit under root's home.
  const dir = mkdtempSync(path.join(asRoot() && existsSync('/tmp') ? '/tmp' : tmpdir(), 'kmipd-pg-'));
  // Without a postgres user there is no PostgreSQL to start: leave the directory as it is, and
  // let createTestDatabase() fail (CI) or describePostgres skip (locally), not the whole run.
  if (asRoot() && spawnSync('id', ['-u', 'postgres']).status === 0) chownSync(dir, postgresUid(), postgresGid());
  return dir;
}

/**
 * The first caller in a run takes the lock (mkdir is atomic) and starts the server; the others
 * wait for server.json (or failed.json, so a broken start fails every file, not just the first).
 */
async function startOrWait(run: string, binDir: string): Promise<TestPostgresServer> {
  const info = path.join(run, 'server.json');
  const failed = path.join(run, 'failed.json');
  let starter = false;
  try {
    mkdirSync(path.join(run, 'lock'));
    starter = true;
  } catch {
    starter = false;
  }
  if (starter) {
    try {
      const server = await startServer(run, binDir);
      writeFileSync(info, JSON.stringify(server));
      return server;
    } catch (err) {
      writeFileSync(failed, JSON.stringify({ message: (err as Error).message }));
      throw err;
    }
  }
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (existsSync(info)) return JSON.parse(readFileSync(info, 'utf8')) as TestPostgresServer;
    if (existsSync(failed)) throw new Error(`the test PostgreSQL server failed to start: ${readFileSync(failed, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the test PostgreSQL server in ${run} did not start within 90 s`);
}

async function startServer(run: string, binDir: string): Promise<TestPostgresServer> {
  const dataDir = path.join(run, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwFile = path.join(run, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  own(pwFile);
  await runAsServerUser(path.join(binDir, 'initdb'), [
    '-D', dataDir,
    '-U', SUPERUSER,
    `--pwfile=${pwFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E', 'UTF8',
    '--locale=C.UTF-8',
    // initdb's own fsync of the fresh cluster is skipped: the files are thrown away with the run.
    // The running server syncs (fsync=on below), which is what the tests rely on.
    '--no-sync',
  ]);
  rmSync(pwFile, { force: true });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const opts = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${run}`,
      '-c fsync=on',
      '-c synchronous_commit=on',
      '-c full_page_writes=on',
      '-c max_connections=200',
      // The test machine is small and shared: modest memory, and no background noise in logs.
      '-c shared_buffers=64MB',
      '-c log_min_messages=warning',
    ].join(' ');
    try {
      await runAsServerUser(path.join(binDir, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', dataDir, '-l', path.join(run, 'server.log'), '-o', opts]);
    } catch (err) {
      lastError = err; // most likely the port was taken between freePort() and the bind: try another
      continue;
    }
    await runAsServerUser(path.join(binDir, 'createdb'), ['-h', run, '-p', String(port), '-U', SUPERUSER, TEST_DATABASE]);
    return {
      adminUrl: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      host: '127.0.0.1',
      port,
      user: SUPERUSER,
      password,
      socketDir: run,
      binDir,
      dataDir,
    };
  }
  throw lastError;
}

/** Stops the server of a run directory (if it ever started) and removes the directory. Synchronous. */
export function stopServer(run: string): void {
  const info = path.join(run, 'server.json');
  if (existsSync(info)) {
    const s = JSON.parse(readFileSync(info, 'utf8')) as TestPostgresServer;
    const [cmd, args] = serverUserCommand(path.join(s.binDir, 'pg_ctl'), ['stop', '-m', 'fast', '-w', '-t', '60', '-D', s.dataDir]);
    spawnSync(cmd, args, { stdio: 'ignore' });
  }
  rmSync(run, { recursive: true, force: true });
}

function asRoot(): boolean {
  return process.getuid?.() === 0;
}

function idOf(flag: '-u' | '-g'): number {
  const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root but there is no `postgres` user to run PostgreSQL as');
  return Number(r.stdout.trim());
}
const postgresUid = () => idOf('-u');
const postgresGid = () => idOf('-g');

function own(file: string): void {
  if (asRoot()) chownSync(file, postgresUid(), postgresGid());
}

function serverUserCommand(bin: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function runAsServerUser(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = serverUserCommand(bin, args);
  return new Promise((resolve, reject) => {
    // stdio to a pipe we drain, never inherited: pg_ctl's daemon would otherwise hold the test's stdout open.
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(bin)} exited with ${code}: ${out.trim().slice(-2000)}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
