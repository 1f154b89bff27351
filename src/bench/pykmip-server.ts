/**
 * Starts the PyKMIP reference server (Debian python3-pykmip 0.10, `pykmip-server`) for interop and
 * conformance comparisons: a fresh test PKI, config, SQLite database and empty policy directory in
 * a temp dir; TLS 1.2 with client certificates (KMIP Profiles 1.4 §3.1.2 "TLS 1.2 Authentication
 * Suite"). Nothing is committed: every secret is generated at run time.
 *
 * Config keys are the `[server]` settings PyKMIP reads (kmip/services/server/config.py): hostname,
 * port, certificate_path, key_path, ca_path, auth_suite, enable_tls_client_auth, logging_level,
 * database_path, policy_path. PyKMIP refuses client certificates without the clientAuth extended
 * key usage and takes the client identity from the certificate's common name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createCa, issueClientCert, issueServerCert } from '../pki/dev-pki.js';

export const PYTHON = '/usr/bin/python3';
export const PYKMIP_SERVER = '/usr/bin/pykmip-server';

/** Paths of a test PKI written to disk, PEM. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface PykmipServer {
  host: string;
  port: number;
  pki: TestPki;
  /** Temp dir holding config, PKI, database and log; removed by stop(). */
  dir: string;
  logPath: string;
  /** The server process (its session threads run inside it). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Whether python3-pykmip is installed; `reason` says what is missing. */
export function pykmipAvailability(serverPath: string = PYKMIP_SERVER): { available: true } | { available: false; reason: string } {
  if (!existsSync(serverPath)) return { available: false, reason: `${serverPath} not found (apt-get install python3-pykmip)` };
  const probe = spawnSync(PYTHON, ['-c', 'import kmip.pie.client, kmip.services.server'], { encoding: 'utf8' });
  if (probe.status !== 0) return { available: false, reason: `${PYTHON} cannot import kmip: ${probe.stderr.trim()}` };
  return { available: true };
}

/** CA, server certificate (SAN 127.0.0.1 and localhost) and a clientAuth client certificate. */
export function writeTestPki(dir: string, clientCn = 'kmipd-interop'): TestPki {
  mkdirSync(dir, { recursive: true });
  const ca = createCa({ cn: 'kmipd interop test CA' });
  const server = issueServerCert({ ca, cn: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const client = issueClientCert({ ca, cn: clientCn, eku: 'clientAuth' });
  const write = (name: string, pem: string, mode: number): string => {
    const p = path.join(dir, name);
    writeFileSync(p, pem, { mode });
    return p;
  };
  return {
    dir,
    caCert: write('ca.crt', ca.cert, 0o644),
    serverCert: write('server.crt', server.cert, 0o644),
    serverKey: write('server.key', server.key, 0o600),
    clientCert: write('client.crt', client.cert, 0o644),
    clientKey: write('client.key', client.key, 0o600),
  };
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One mutual-TLS handshake; resolves true when it completes. */
function tryHandshake(host: string, port: number, pki: TestPki): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ca: readFileSync(pki.caCert),
      cert: readFileSync(pki.clientCert),
      key: readFileSync(pki.clientKey),
      minVersion: 'TLSv1.2',
    });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface StartPykmipOptions {
  /** How long to wait for the server to accept TLS connections. Default 30 s. */
  readyTimeoutMs?: number;
  logLevel?: 'DEBUG' | 'INFO' | 'WARNING';
  /** The `pykmip-server` script. Default /usr/bin/pykmip-server. */
  serverPath?: string;
}

export async function startPykmipServer(options: StartPykmipOptions = {}): Promise<PykmipServer> {
  const serverPath = options.serverPath ?? PYKMIP_SERVER;
  const availability = pykmipAvailability(serverPath);
  if (!availability.available) throw new Error(availability.reason);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmipd-pykmip-'));
  const host = '127.0.0.1';
  const pki = writeTestPki(path.join(dir, 'pki'));
  const policyDir = path.join(dir, 'policies');
  mkdirSync(policyDir);
  const port = await freePort(host);
  const configPath = path.join(dir, 'server.conf');
  const logPath = path.join(dir, 'server.log');
  writeFileSync(
    configPath,
    [
      '[server]',
      `hostname=${host}`,
      `port=${port}`,
      `certificate_path=${pki.serverCert}`,
      `key_path=${pki.serverKey}`,
      `ca_path=${pki.caCert}`,
      'auth_suite=TLS1.2',
      'enable_tls_client_auth=True',
      `logging_level=${options.logLevel ?? 'INFO'}`,
      `database_path=${path.join(dir, 'pykmip.db')}`,
      `policy_path=${policyDir}`,
      '',
    ].join('\n'),
  );

  // Own process group, so stop() also ends the multiprocessing manager PyKMIP forks.
  const child = spawn(serverPath, ['-f', configPath, '-l', logPath], { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });

  const server: PykmipServer = { host, port, pki, dir, logPath, pid: child.pid, stop: () => stopServer(child, dir) };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    if (await tryHandshake(host, port, pki)) return server;
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop().catch(() => undefined);
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-2000) : '';
  throw new Error(`pykmip-server did not accept TLS connections (${exited ?? 'timed out'})\n${stderr}\n${log}`);
}

async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGINT interrupts PyKMIP's blocking accept at once (SIGTERM waits for its 10 s socket
    // timeout); its shutdown then joins session threads for up to 10 s each, which a throw-away
    // test server need not wait for.
    signalGroup(pid, 'SIGINT');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 1000));
    if ((await Promise.race([gone, timer])) === 'timeout') {
      signalGroup(pid, 'SIGKILL');
      await gone;
    }
  }
  if (pid !== undefined) signalGroup(pid, 'SIGKILL'); // stragglers of the group (the manager process)
  rmSync(dir, { recursive: true, force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
