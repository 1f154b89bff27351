/**
 * `kmipd init --dir DIR`: creates a self-contained development deployment: the config file, a
 * development PKI (CA, server certificate, an admin client certificate), a private SoftHSM2 token
 * with its PIN file, and the data directory.
 *
 * It never overwrites: an existing deployment holds the CA key that signed every appliance's
 * certificate and the token that protects every stored key, and replacing either loses them.
 * If any step fails, what this run created is removed again, so a retry starts clean.
 *
 * `--store postgres://...` (K10) puts the objects, bindings and audit trail in an existing
 * PostgreSQL database instead of data/: its schema is created (migrations), and the database must
 * not already hold a deployment. A password in the URL is moved to DIR/store-password (mode 0600) so the config file carries none. Further nodes reuse this directory (its
 * certificates, config and HSM token settings); they do not run init.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME, defaultConfig, defaultPostgresStore, parseConfig, parseHostPort, redactUrl } from '../config/config.js';
import type { KmipdConfig } from '../config/config.js';
import { generatePin, provisionSoftHsmToken } from '../hsm/token.js';
import { openPkcs11Protector } from '../hsm/pkcs11-protector.js';
import { createCa, issueClientCert, issueServerCert, writePemPair } from '../pki/dev-pki.js';
import { openStoreBackend } from '../store/backend.js';
import { describeCertificate } from '../authz/cert-issuance.js';

export interface InitOptions {
  /** KMIP listen address written to the config (default 127.0.0.1:5696). */
  listen?: string;
  /** Admin listen address, or null to disable it (default 127.0.0.1:9696). */
  adminListen?: string | null;
  /** Extra DNS names or IP addresses for the server certificate (names appliances connect to). */
  serverNames?: readonly string[];
  /** Validity of the issued leaf certificates in days (default 825). */
  days?: number;
  /** A PostgreSQL URL: keep objects, bindings and the audit trail there instead of data/kmipd.db. */
  store?: string;
  /** softhsm2-util binary (tests may point elsewhere). */
  softhsmUtil?: string;
  /** Receives the human-readable summary; defaults to stdout. */
  print?: (text: string) => void;
}

export interface InitResult {
  dir: string;
  config: KmipdConfig;
  /** Every file and directory created, absolute paths. */
  created: string[];
}

export class DeploymentExistsError extends Error {
  override readonly name = 'DeploymentExistsError';
}

/** The top-level entries a deployment consists of; any of them present means "already initialised". */
const DEPLOYMENT_ENTRIES = [CONFIG_FILE_NAME, 'certs', 'hsm', 'data', 'store-password'] as const;

/** The store settings for `--store URL`, and the password taken out of the URL (if it had one). */
function postgresStoreOf(url: string): { store: ReturnType<typeof defaultPostgresStore>; password: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--store: not a URL: ${redactUrl(url)} (expected postgres://user@host:port/database)`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`--store: expected a postgres:// URL, got ${u.protocol}//`);
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  u.password = '';
  const store = defaultPostgresStore(u.toString());
  if (password !== undefined) store.passwordFile = 'store-password';
  return { store, password };
}

/** Wildcard listen addresses are not names a client can connect to, so they get no SAN. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

function splitNames(names: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const n of names) {
    if (WILDCARD_HOSTS.has(n)) continue;
    const list = isIP(n) ? ipAddresses : dnsNames;
    if (!list.includes(n)) list.push(n);
  }
  return { dnsNames, ipAddresses };
}

export async function initDeployment(dirArg: string, options: InitOptions = {}): Promise<InitResult> {
  const dir = resolve(dirArg);
  const found = DEPLOYMENT_ENTRIES.filter((e) => existsSync(join(dir, e)));
  if (found.length > 0) {
    throw new DeploymentExistsError(
      `refusing to initialise ${dir}: it already holds a deployment (${found.join(', ')}); ` +
        'remove it first or choose another --dir',
    );
  }

  const config = defaultConfig();
  if (options.listen !== undefined) config.listen = options.listen;
  if (options.adminListen !== undefined) config.admin.listen = options.adminListen;
  const pg = options.store === undefined ? undefined : postgresStoreOf(options.store);
  if (pg !== undefined) config.store = pg.store;
  // Validate before creating anything, so a bad --listen leaves no debris.
  parseConfig(config);
  const listenHost = parseHostPort(config.listen).host;

  const created: string[] = [];
  const mkdir = (p: string): void => {
    if (existsSync(p)) return;
    mkdirSync(p, { recursive: true, mode: 0o700 });
    chmodSync(p, 0o700);
    created.push(p);
  };
  const track = (...paths: string[]): void => {
    created.push(...paths);
  };

  try {
    mkdir(dir);

    // --- PKI -------------------------------------------------------------------------------
    const certsDir = join(dir, 'certs');
    mkdir(certsDir);
    const days = options.days ?? 825;
    const ca = createCa({ cn: 'kmipd CA', o: 'kmipd' });
    const names = splitNames(['localhost', '127.0.0.1', '::1', listenHost, ...(options.serverNames ?? [])]);
    const server = issueServerCert({ ca, cn: names.dnsNames[0] ?? 'kmipd', ...names, days });
    const admin = issueClientCert({ ca, cn: 'admin', o: 'kmipd', ou: 'admin', days });
    const caFiles = writePemPair(certsDir, 'ca', ca);
    track(caFiles.certPath, caFiles.keyPath);
    const serverFiles = writePemPair(certsDir, 'server', server);
    track(serverFiles.certPath, serverFiles.keyPath);
    const adminFiles = writePemPair(certsDir, 'admin', admin);
    track(adminFiles.certPath, adminFiles.keyPath);

    // --- HSM token -------------------------------------------------------------------------
    const hsmDir = join(dir, 'hsm');
    mkdir(hsmDir);
    const userPin = generatePin();
    const soPin = generatePin();
    // The token lands in hsm/tokens with hsm/softhsm2.conf, matching config.hsm.softhsmConf.
    await provisionSoftHsmToken({ dir: hsmDir, label: config.hsm.tokenLabel, soPin, userPin, util: options.softhsmUtil });
    const pinPath = join(hsmDir, 'pin');
    writeFileSync(pinPath, `${userPin}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(pinPath, 0o600);
    track(pinPath);
    // Without the SO PIN the token can never be re-initialised or have its user PIN reset.
    const soPinPath = join(hsmDir, 'so-pin');
    writeFileSync(soPinPath, `${soPin}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(soPinPath, 0o600);
    track(soPinPath);
    // The first key-encryption key: AES-256, sensitive and non-extractable, created inside the
    // token. `serve` refuses to start without one.
    const keys = await openPkcs11Protector(
      { module: config.hsm.module, tokenLabel: config.hsm.tokenLabel, pin: { file: pinPath }, kekLabelPrefix: config.hsm.kekLabelPrefix, softhsmConf: join(hsmDir, 'softhsm2.conf') },
    );
    try {
      await keys.createKek(1);
    } finally {
      await keys.close();
    }

    // --- data and config -------------------------------------------------------------------
    if (config.store.kind === 'sqlite') {
      mkdir(join(dir, 'data'));
      const dbPath = resolve(dir, config.store.path);
      track(dbPath, `${dbPath}-wal`, `${dbPath}-shm`);
    } else if (pg?.password !== undefined) {
      const pwPath = join(dir, 'store-password');
      writeFileSync(pwPath, `${pg.password}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(pwPath, 0o600);
      track(pwPath);
    }
    // The admin certificate is bound to Admin (all tenants) by its fingerprint, so the operator
    // can connect at once; everyone else gets a binding with `kmipd cert issue` or `role bind`.
    // Opening the store creates its schema (SQLite file, or the PostgreSQL migrations).
    const backend = await openStoreBackend(config.store, dir, { applicationName: 'kmipd init' });
    try {
      if (backend.kind === 'postgres' && (await backend.access.listBindings()).length > 0) {
        throw new DeploymentExistsError(
          `refusing to initialise against ${backend.location}: the database already holds a deployment (role bindings); ` +
            'to add a node, give it a copy of that deployment directory instead of running init',
        );
      }
      const facts = describeCertificate(admin.cert);
      await backend.access.recordCertificate(
        { ...facts, name: 'admin', issuedAt: Date.now() },
        { field: 'fingerprint', value: facts.fingerprint, tenant: 'default', role: 'Admin', note: 'certs/admin.crt (kmipd init)' },
      );
    } finally {
      await backend.close();
    }
    const configPath = join(dir, CONFIG_FILE_NAME);
    // The whole config is written, defaults included, so every knob is visible to the operator.
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o640, flag: 'wx' });
    chmodSync(configPath, 0o640);
    track(configPath);
  } catch (err) {
    // Undo in reverse order; only what this run created is touched.
    for (const p of [...created].reverse()) rmSync(p, { recursive: true, force: true });
    throw err;
  }

  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const certs = join(dir, 'certs');
  print(
    [
      `Initialised a kmipd deployment in ${dir}:`,
      `  ${CONFIG_FILE_NAME}            configuration (listen ${config.listen}, admin ${config.admin.listen ?? 'disabled'})`,
      '  certs/ca.crt, ca.key     development CA (keep ca.key private: it can mint client certificates)',
      '  certs/server.crt, .key   server certificate for localhost, 127.0.0.1, ::1' +
        (options.serverNames?.length ? `, ${options.serverNames.join(', ')}` : ''),
      '  certs/admin.crt, .key    client certificate CN=admin (clientAuth), bound to role Admin (all tenants)',
      `  hsm/                     SoftHSM2 token "${config.hsm.tokenLabel}"; user PIN in hsm/pin, SO PIN in hsm/so-pin (mode 0600)`,
      config.store.kind === 'sqlite'
        ? '  data/                    object store'
        : `  store                    PostgreSQL ${redactUrl(config.store.url)}${pg?.password !== undefined ? ' (password in store-password, mode 0600)' : ''}`,
      '',
      'Start the server:',
      `  kmipd serve --dir ${rel(dir)}`,
      '',
      'A KMIP client needs three files:',
      `  CA certificate:      ${rel(join(certs, 'ca.crt'))}`,
      `  client certificate:  ${rel(join(certs, 'admin.crt'))}`,
      `  client key:          ${rel(join(certs, 'admin.key'))}`,
      `and connects with TLS 1.2+ to ${config.listen}, e.g.`,
      `  openssl s_client -connect ${config.listen} -CAfile ${rel(join(certs, 'ca.crt'))} -cert ${rel(join(certs, 'admin.crt'))} -key ${rel(join(certs, 'admin.key'))}`,
      '',
    ].join('\n'),
  );
  return { dir, config, created };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create a development deployment: config, PKI, SoftHSM2 token, data directory')
    .requiredOption('--dir <dir>', 'deployment directory (created if missing; must not hold a deployment)')
    .option('--listen <host:port>', 'KMIP listen address written to the config', '127.0.0.1:5696')
    .option('--admin-listen <host:port>', 'health/metrics listen address written to the config', '127.0.0.1:9696')
    .option('--no-admin', 'disable the health/metrics listener')
    .option('--san <name>', 'extra DNS name or IP address for the server certificate (repeatable)', collect, [])
    .option('--store <url>', 'keep the store in an existing PostgreSQL database (postgres://user@host:port/db) instead of data/')
    .action(async (opts: { dir: string; listen: string; adminListen: string; admin: boolean; san: string[]; store?: string }) => {
      await initDeployment(opts.dir, {
        store: opts.store,
        listen: opts.listen,
        adminListen: opts.admin ? opts.adminListen : null,
        serverNames: opts.san,
      });
    });
}
