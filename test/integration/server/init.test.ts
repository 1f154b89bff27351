// `kmipd init` and `kmipd serve`: the deployment directory (files, modes, certificates, token),
// its config file (defaults, validation), and serving it: in-process and as a child process that
// drains on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeploymentExistsError, initDeployment } from '../../../src/cli/init.js';
import { serveDeployment } from '../../../src/cli/serve.js';
import { connectKmip } from '../../../src/client/connection.js';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '../../../src/config/config.js';
import { echoExecutor } from '../../support/test-executors.js';
import { testMessage } from '../../support/ttlv-messages.js';

const root = mkdtempSync(join(tmpdir(), 'kmipd-init-'));
const dir = join(root, 'deployment');
let summary = '';

beforeAll(async () => {
  await initDeployment(dir, { print: (s) => (summary += s) });
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string): number => statSync(join(dir, p)).mode & 0o777;
const pem = (p: string): string => readFileSync(join(dir, p), 'utf8');

describe('kmipd init', () => {
  it('creates the config, PKI, token, PIN file and data directory with private modes', () => {
    for (const f of ['kmipd.json', 'certs/ca.crt', 'certs/ca.key', 'certs/server.crt', 'certs/server.key', 'certs/admin.crt', 'certs/admin.key', 'hsm/pin', 'hsm/softhsm2.conf']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    for (const key of ['certs/ca.key', 'certs/server.key', 'certs/admin.key', 'hsm/pin', 'hsm/so-pin']) expect(mode(key), key).toBe(0o600);
    for (const d of ['.', 'certs', 'hsm', 'data']) expect(mode(d), d).toBe(0o700);
    expect(mode('certs/ca.crt')).toBe(0o644);
    expect(statSync(join(dir, 'data')).isDirectory()).toBe(true);
    expect(readFileSync(join(dir, 'hsm/pin'), 'utf8').trim().length).toBeGreaterThanOrEqual(16);
  });

  it('writes a config that loads and equals the defaults', () => {
    expect(loadConfig(dir)).toEqual(defaultConfig());
  });

  it('initialises a SoftHSM2 token with the configured label', () => {
    const r = spawnSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: join(dir, 'hsm/softhsm2.conf') }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Label:\s+kmipd\s*$/m);
    expect(readdirSync(join(dir, 'hsm/tokens')).length).toBe(1);
  });

  it('issues an admin certificate with clientAuth that verifies against ca.crt', () => {
    const ca = new X509Certificate(pem('certs/ca.crt'));
    const admin = new X509Certificate(pem('certs/admin.crt'));
    expect(admin.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
    expect(admin.checkIssued(ca)).toBe(true);
    expect(admin.verify(ca.publicKey)).toBe(true);
    expect(admin.subject).toContain('CN=admin');
    expect(ca.ca).toBe(true);
    // And it is a certificate for that key.
    expect(admin.checkPrivateKey(createPrivateKey(pem('certs/admin.key')))).toBe(true);
  });

  it('issues a server certificate for localhost and 127.0.0.1 with serverAuth', () => {
    const server = new X509Certificate(pem('certs/server.crt'));
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(server.verify(new X509Certificate(pem('certs/ca.crt')).publicKey)).toBe(true);
  });

  it('tells the operator which files a client needs', () => {
    expect(summary).toContain('ca.crt');
    expect(summary).toContain('admin.crt');
    expect(summary).toContain('admin.key');
    expect(summary).toContain('kmipd serve --dir');
  });

  it('refuses to overwrite an existing deployment and changes nothing', async () => {
    const before = pem('certs/ca.key');
    await expect(initDeployment(dir, { print: () => {} })).rejects.toThrow(DeploymentExistsError);
    await expect(initDeployment(dir, { print: () => {} })).rejects.toThrow(/refusing to initialise .*kmipd\.json, certs, hsm, data/);
    expect(pem('certs/ca.key')).toBe(before);
  });

  it('leaves nothing behind when a step fails', async () => {
    const target = join(root, 'broken');
    await expect(initDeployment(target, { print: () => {}, softhsmUtil: '/nonexistent/softhsm2-util' })).rejects.toThrow(/not found/);
    expect(existsSync(target)).toBe(false);
  });

  it('exits 1 with a clear message from the command line when the deployment exists', () => {
    const r = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/kmipd-cli.ts', 'init', '--dir', dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: refusing to initialise /);
  }, 30_000);
});

describe('deployment config', () => {
  it('fills every absent field with its default', () => {
    const c = parseConfig({ limits: { maxBatchCount: 100 } });
    expect(c.limits.maxBatchCount).toBe(100);
    expect(c.limits.maxMessageBytes).toBe(1024 * 1024);
    expect(c.tls.requireClientAuthEku).toBe(true);
    expect(c.admin.listen).toBe('127.0.0.1:9696');
  });

  it('names the bad field', () => {
    expect(() => parseConfig({ limits: { maxBatchCount: 'many' } })).toThrow(/limits\.maxBatchCount: expected an integer from 1 to 65535, got "many"/);
    expect(() => parseConfig({ limits: { maxBatchCont: 3 } })).toThrow(/limits\.maxBatchCont: unknown field/);
    expect(() => parseConfig({ listen: 'localhost' })).toThrow(/listen: expected "host:port"/);
    expect(() => parseConfig({ tls: { legacyCiphers: 'yes' } })).toThrow(/tls\.legacyCiphers: expected true or false/);
    expect(() => parseConfig({ store: { kind: 'mysql' } })).toThrow(/store\.kind: expected one of "sqlite", "postgres"/);
    expect(() => parseConfig({ store: { kind: 'postgres' } })).toThrow(/store\.url: expected a URL "postgres:\/\/user@host:port\/database", got undefined/);
    expect(() => parseConfig({ store: { kind: 'postgres', url: 'postgres://u:secret@db/k', pool: { max: 0 } } })).toThrow(/store\.pool\.max: expected an integer from 1 to 1000/);
    expect(() => parseConfig({ store: { kind: 'postgres', url: 'mysql://u:secret@db/k' } })).toThrow(/store\.url: .*got "mysql:\/\/u:\*\*\*@db\/k"/);
    expect(() => parseConfig({ store: { kind: 'sqlite', url: 'postgres://db/k' } })).toThrow(/store\.url: expected no such field for kind "sqlite"/);
    expect(parseConfig({ store: { kind: 'postgres', url: 'postgres://kmipd@db:5432/kmipd' } }).store).toEqual({
      kind: 'postgres',
      url: 'postgres://kmipd@db:5432/kmipd',
      passwordEnv: 'KMIPD_STORE_PASSWORD',
      passwordFile: null,
      pool: { max: 10, connectTimeoutMs: 5000 },
    });
    expect(parseConfig({ store: { path: 'x.db' } }).store).toEqual({ kind: 'sqlite', path: 'x.db' });
    expect(() => parseConfig({ admin: { listen: null } })).not.toThrow();
    expect(() => parseConfig([])).toThrow(ConfigError);
  });

  it('reports a missing or malformed file with its path', () => {
    const d = mkdtempSync(join(root, 'cfg-'));
    expect(() => loadConfig(d)).toThrow(/kmipd\.json: not found \(create a deployment with: kmipd init/);
    writeFileSync(join(d, 'kmipd.json'), '{ "listen": ');
    expect(() => loadConfig(d)).toThrow(/kmipd\.json: not valid JSON/);
  });
});

describe('kmipd serve', () => {
  it('serves the deployment in-process with the admin certificate, and reports health', async () => {
    const lines: string[] = [];
    const running = await serveDeployment(dir, {
      listen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      executorFactory: () => echoExecutor(),
      logDestination: { write: (s: string) => void lines.push(s) },
    });
    try {
      const c = await connectKmip({
        host: '127.0.0.1',
        port: running.kmip.address.port,
        servername: 'localhost',
        ca: pem('certs/ca.crt'),
        cert: pem('certs/admin.crt'),
        key: pem('certs/admin.key'),
        timeoutMs: 5_000,
      });
      const m = testMessage(32);
      expect((await c.send(m)).equals(m)).toBe(true);
      await c.close();
      const res = await fetch(`http://127.0.0.1:${running.admin!.address.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', checks: { kmip_listener: { ok: true }, server_certificate: { ok: true } } });
      expect(lines.some((l) => l.includes('"msg":"KMIP listener started"'))).toBe(true);
    } finally {
      await running.shutdown();
    }
  });

  it('says loudly when no executor is wired in', async () => {
    const lines: string[] = [];
    const running = await serveDeployment(dir, { listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logDestination: { write: (s: string) => void lines.push(s) } });
    try {
      expect(lines.some((l) => l.includes('"level":"warn"') && l.includes('no KMIP executor wired in'))).toBe(true);
      const res = await fetch(`http://127.0.0.1:${running.admin!.address.port}/healthz`);
      expect(res.status).toBe(503);
      const c = await connectKmip({ host: '127.0.0.1', port: running.kmip.address.port, servername: 'localhost', ca: pem('certs/ca.crt'), cert: pem('certs/admin.crt'), key: pem('certs/admin.key') });
      await expect(c.send(testMessage(8))).rejects.toMatchObject({ code: 'Closed' });
    } finally {
      await running.shutdown();
    }
  });

  it('drains on SIGTERM: the in-flight request is answered, then the process exits 0', async () => {
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/kmipd-cli.ts', 'serve', '--dir', dir, '--listen', '127.0.0.1:0'], {
      env: { ...process.env, KMIPD_TEST_DELAY_MS: '500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /"listen":"127\.0\.0\.1:(\d+)","msg":"KMIP listener started"/.exec(out);
          if (m) {
            clearInterval(timer);
            resolve(Number(m[1]));
          }
          if (child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`serve exited early: ${out}`));
          }
        }, 20);
      });
      const c = await connectKmip({ host: '127.0.0.1', port, servername: 'localhost', ca: pem('certs/ca.crt'), cert: pem('certs/admin.crt'), key: pem('certs/admin.key') });
      const m = testMessage(16);
      const answer = c.send(m);
      await new Promise((r) => setTimeout(r, 100)); // the request is executing (500 ms)
      child.kill('SIGTERM');
      expect((await answer).equals(m)).toBe(true);
      expect(await exited).toBe(0);
      expect(out).toContain('"msg":"shutting down"');
      expect(out).toContain('"msg":"kmipd stopped"');
      await c.close();
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});
