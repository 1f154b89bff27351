/**
 * The deployment configuration file `DIR/kmipd.json`: its schema, defaults and validation.
 *
 * Every field has a default, so a file may hold only what differs. Unknown fields are errors
 * rather than ignored: a misspelt limit would otherwise silently keep its default. Errors name
 * the field by its dotted path (`limits.maxBatchCount`) and say what was expected. Relative
 * paths in the file are relative to DIR, so a deployment directory can be moved as a whole.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';

export const CONFIG_FILE_NAME = 'kmipd.json';

export interface TlsConfig {
  /** PEM bundle of the CAs whose client certificates are accepted; may hold several (external ones too). */
  ca: string;
  /** Server certificate chain (PEM), leaf first. */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /** Refuse client certificates that lack the clientAuth extended key usage (1.3.6.1.5.5.7.3.2). */
  requireClientAuthEku: boolean;
  /** Also offer CBC suites and static-RSA key exchange for appliances that predate AEAD suites. */
  legacyCiphers: boolean;
}

export interface HsmConfig {
  module: string;
  tokenLabel: string;
  /** File holding the user PIN; read when `pinEnv` is unset. */
  pinFile: string;
  /** Environment variable that, when set, supplies the user PIN instead of `pinFile`. */
  pinEnv: string;
  /** SoftHSM2 configuration (token directory); ignored for hardware modules. */
  softhsmConf: string;
  kekLabelPrefix: string;
  /** Reveal cache: unwrapped keys kept inside the HSM after a verified reveal (0 turns it off). */
  revealCacheEntries: number;
  /** Longest a key stays in the reveal cache after its MAC check, in ms (0 turns it off). */
  revealCacheTtlMs: number;
}

/** The embedded default: one SQLite file (WAL) on this machine. */
export interface SqliteStoreConfig {
  kind: 'sqlite';
  path: string;
}

/**
 * A PostgreSQL database shared by several kmipd nodes (high availability). The password is best
 * kept out of the URL (this file is readable by the operator group): it is taken, in this order,
 * from the URL, the environment variable `passwordEnv`, or the file `passwordFile`. It is never
 * logged; errors name the URL with the password removed.
 */
export interface PostgresStoreConfig {
  kind: 'postgres';
  /** `postgres://user@host:port/database` (`postgresql://` too); `?host=/run/postgresql` for a Unix socket. */
  url: string;
  passwordEnv: string;
  passwordFile: string | null;
  pool: PostgresPoolConfig;
}

export interface PostgresPoolConfig {
  /** Connections this node keeps open at most. */
  max: number;
  /** How long to wait for a connection (new or from the pool) before failing the request. */
  connectTimeoutMs: number;
}

export type StoreConfig = SqliteStoreConfig | PostgresStoreConfig;

export const defaultPostgresStore = (url: string): PostgresStoreConfig => ({
  kind: 'postgres',
  url,
  passwordEnv: 'KMIPD_STORE_PASSWORD',
  passwordFile: null,
  // A KMIP request holds a connection for one transaction (milliseconds); 10 per node keeps two
  // nodes far below PostgreSQL's default max_connections (100) while saturating this machine.
  pool: { max: 10, connectTimeoutMs: 5_000 },
});

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Resource limits. Each bounds what one client, or all clients together, can make the server
 * hold or wait for; the comments on `defaultLimits` give the reason for each default.
 */
export interface LimitsConfig {
  maxMessageBytes: number;
  maxResponseBytes: number;
  maxBatchCount: number;
  maxDepth: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  drainTimeoutMs: number;
}

export interface AdminConfig {
  /** `host:port` of the health/metrics HTTP listener, or null to disable it. */
  listen: string | null;
}

export const LOG_LEVEL_NAMES = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export interface LogConfig {
  level: LogLevelName;
}

/** The key rotation scheduler (K8, src/rotation/scheduler.ts). Policies live in the store (kmipd policy). */
export interface RotationConfig {
  /** Run the scheduler in this server process. Several processes on one store may all run it: claims keep each rotation single. */
  enabled: boolean;
  /** Milliseconds between passes over the due keys. */
  pollMs: number;
  /** How long a claim protects a rotation in progress; a crashed process's keys are retried after it. */
  leaseMs: number;
  /** Rotations per pass at most. */
  batchSize: number;
}

export interface KmipdConfig {
  /** `host:port` of the KMIP listener. 5696 is the IANA port for KMIP over TLS. */
  listen: string;
  tls: TlsConfig;
  hsm: HsmConfig;
  store: StoreConfig;
  limits: LimitsConfig;
  admin: AdminConfig;
  log: LogConfig;
  /**
   * Answer the KMIP 2.x Interop operation (test-case begin/end/reset markers). KMIP 2.1 §6.1.26:
   * it SHALL NOT be available in a production server, so it is off unless a test deployment asks.
   */
  interopOperation: boolean;
  rotation: RotationConfig;
}

const MiB = 1024 * 1024;

export const defaultLimits: Readonly<LimitsConfig> = {
  // Largest request accepted. KMIP requests are small (a Register of a 4096-bit certificate
  // chain is a few KiB; 64 batched Gets are ~10 KiB); 1 MiB leaves two orders of magnitude of
  // headroom while capping what one connection can make the server buffer before parsing.
  maxMessageBytes: 1 * MiB,
  // Largest response built. Matches the request ceiling: a Locate returning ~25k identifiers or a
  // batch of 64 key Gets fits; beyond that clients must page (KMIP Maximum Items/Offset Items).
  maxResponseBytes: 1 * MiB,
  // Batch items per request. Tape libraries batch >= 32 items (one per drive/cartridge), arrays
  // fewer; 64 covers them with room while bounding the work one message can queue.
  maxBatchCount: 64,
  // Structure nesting depth. Real KMIP messages nest < 10 deep (message, batch item, payload,
  // attributes, attribute, value, key block...); 32 leaves headroom and bounds decoder recursion.
  maxDepth: 32,
  // TLS handshake deadline. A handshake is two round trips plus one RSA operation, well under a
  // second even for embedded appliance CPUs; 10 s tolerates slow links, and a peer that opens a
  // socket and never sends a ClientHello holds a connection slot for at most that long.
  handshakeTimeoutMs: 10_000,
  // Idle connection (no request started). Appliances keep a connection open between key requests;
  // 5 minutes keeps those warm yet reclaims slots from peers that vanished behind NAT/firewalls,
  // and a reconnect costs one (resumed) handshake.
  idleTimeoutMs: 300_000,
  // Time to receive one whole message once its first byte arrived. 1 MiB at 1 Mbit/s takes ~8 s;
  // 30 s covers slow management networks, while a client trickling bytes (slowloris) is dropped
  // because the timer runs per message, not per byte.
  readTimeoutMs: 30_000,
  // Concurrent connections, all clients together. An idle mutual-TLS connection costs tens of KiB,
  // so 4096 stays far below memory and fd limits while exceeding the fleet of a large site
  // (hundreds of arrays/libraries, a few connections each).
  maxConnections: 4096,
  // Concurrent connections from one IP address. A large tape library (up to ~128 drives) or an
  // array's controllers may sit behind one address; 128 fits them while one misbehaving or
  // compromised host cannot take more than 1/32 of the global slots.
  maxConnectionsPerAddress: 128,
  // Shutdown grace. Requests finish in milliseconds (HSM and SQLite commits); 10 s lets in-flight
  // work complete and flush, stays inside systemd's default 90 s stop timeout, and caps how long a
  // client that keeps pipelining can delay a stop.
  drainTimeoutMs: 10_000,
};

export function defaultConfig(): KmipdConfig {
  return {
    listen: '127.0.0.1:5696',
    tls: {
      ca: 'certs/ca.crt',
      cert: 'certs/server.crt',
      key: 'certs/server.key',
      requireClientAuthEku: true,
      legacyCiphers: false,
    },
    hsm: {
      module: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'kmipd',
      pinFile: 'hsm/pin',
      pinEnv: 'KMIPD_HSM_PIN',
      softhsmConf: 'hsm/softhsm2.conf',
      kekLabelPrefix: 'kmipd-kek',
      revealCacheEntries: 1024,
      revealCacheTtlMs: 60_000,
    },
    store: { kind: 'sqlite', path: 'data/kmipd.db' },
    limits: { ...defaultLimits },
    admin: { listen: '127.0.0.1:9696' },
    log: { level: 'info' },
    interopOperation: false,
    // A pass costs a few indexed queries; 30 s keeps rotations within a minute of their due time.
    // A lease of 5 minutes outlasts any single HSM key generation by far.
    rotation: { enabled: true, pollMs: 30_000, leaseMs: 300_000, batchSize: 16 },
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    /** Dotted path of the offending field, empty for file-level problems. */
    readonly field: string,
    detail: string,
  ) {
    super(field ? `${file}: ${field}: ${detail}` : `${file}: ${detail}`);
  }
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port`; the port may be 0 (pick a free one, for tests). */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`expected host:port (IPv6 as [addr]:port), got ${JSON.stringify(text)}`);
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} is out of range`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new Error(`${JSON.stringify(host)} is not an IPv6 address`);
  return { host, port };
}

export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Resolves a path from the config file: absolute paths stay, relative ones are relative to DIR. */
export function resolvePath(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}

// --- validation -------------------------------------------------------------------------------

/** A field validator: returns the accepted value or a description of what was expected. */
type Check<T> = (value: unknown) => { ok: true; value: T } | { ok: false; expected: string; field?: string };

const str: Check<string> = (v) => (typeof v === 'string' && v.length > 0 ? { ok: true, value: v } : { ok: false, expected: 'a non-empty string' });

const bool: Check<boolean> = (v) => (typeof v === 'boolean' ? { ok: true, value: v } : { ok: false, expected: 'true or false' });

function int(min: number, max: number): Check<number> {
  return (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? { ok: true, value: v }
      : { ok: false, expected: `an integer from ${min} to ${max}` };
}

function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? { ok: true, value: v as T }
      : { ok: false, expected: `one of ${values.map((x) => JSON.stringify(x)).join(', ')}` };
}

const hostPort: Check<string> = (v) => {
  const expected = '"host:port" (IPv6 as "[addr]:port", port 0-65535)';
  if (typeof v !== 'string') return { ok: false, expected };
  try {
    parseHostPort(v);
    return { ok: true, value: v };
  } catch {
    return { ok: false, expected };
  }
};

function nullable<T>(check: Check<T>): Check<T | null> {
  return (v) => (v === null ? { ok: true, value: null } : check(v));
}

/** The schema mirrors KmipdConfig: one validator per leaf field (or per union, such as store). */
type Schema<T> = { [K in keyof T]: T[K] extends string | number | boolean | null ? Check<T[K]> : Schema<T[K]> | Check<T[K]> };

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/**
 * `store` is a union chosen by `kind`, so it is checked as a whole; a missing kind means SQLite
 * (the default), and fields of the other kind are refused by name.
 */
const storeCheck: Check<StoreConfig> = (v) => {
  if (!isPlainObject(v)) return { ok: false, expected: 'an object with "kind": "sqlite" or "postgres"' };
  const kind = v.kind ?? 'sqlite';
  const fail = (field: string, expected: string): { ok: false; expected: string; field: string } => ({ ok: false, expected, field });
  const unknown = (known: readonly string[]) => Object.keys(v).find((k) => !known.includes(k));
  if (kind === 'sqlite') {
    const extra = unknown(['kind', 'path']);
    if (extra !== undefined) return fail(extra, `no such field for kind "sqlite" (known: kind, path)`);
    const path = v.path ?? 'data/kmipd.db';
    return typeof path === 'string' && path.length > 0 ? { ok: true, value: { kind, path } } : fail('path', 'a non-empty string');
  }
  if (kind !== 'postgres') return fail('kind', 'one of "sqlite", "postgres"');
  const extra = unknown(['kind', 'url', 'passwordEnv', 'passwordFile', 'pool']);
  if (extra !== undefined) return fail(extra, 'no such field for kind "postgres" (known: kind, url, passwordEnv, passwordFile, pool)');
  if (typeof v.url !== 'string' || !POSTGRES_URL.test(v.url)) return fail('url', 'a URL "postgres://user@host:port/database"');
  try {
    new URL(v.url);
  } catch {
    return fail('url', 'a URL "postgres://user@host:port/database"');
  }
  const out = defaultPostgresStore(v.url);
  if (v.passwordEnv !== undefined) {
    if (typeof v.passwordEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.passwordEnv)) return fail('passwordEnv', 'an environment variable name');
    out.passwordEnv = v.passwordEnv;
  }
  if (v.passwordFile !== undefined && v.passwordFile !== null) {
    if (typeof v.passwordFile !== 'string' || v.passwordFile.length === 0) return fail('passwordFile', 'a file path or null');
    out.passwordFile = v.passwordFile;
  }
  if (v.pool !== undefined) {
    if (!isPlainObject(v.pool)) return fail('pool', 'an object { max, connectTimeoutMs }');
    const extraPool = Object.keys(v.pool).find((k) => k !== 'max' && k !== 'connectTimeoutMs');
    if (extraPool !== undefined) return fail(`pool.${extraPool}`, 'no such field (known: max, connectTimeoutMs)');
    for (const [key, min, max] of [['max', 1, 1000], ['connectTimeoutMs', 100, 600_000]] as const) {
      const n = v.pool[key];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return fail(`pool.${key}`, `an integer from ${min} to ${max}`);
      out.pool[key] = n;
    }
  }
  return { ok: true, value: out };
};

const DAY_MS = 86_400_000;

const schema: Schema<KmipdConfig> = {
  listen: hostPort,
  tls: { ca: str, cert: str, key: str, requireClientAuthEku: bool, legacyCiphers: bool },
  hsm: { module: str, tokenLabel: str, pinFile: str, pinEnv: str, softhsmConf: str, kekLabelPrefix: str, revealCacheEntries: int(0, 1_000_000), revealCacheTtlMs: int(0, DAY_MS) },
  store: storeCheck,
  limits: {
    // TTLV needs at least a header; above 64 MiB a message is not KMIP any more.
    maxMessageBytes: int(64, 64 * MiB),
    maxResponseBytes: int(64, 64 * MiB),
    maxBatchCount: int(1, 65_535),
    maxDepth: int(2, 256),
    handshakeTimeoutMs: int(100, 300_000),
    idleTimeoutMs: int(100, DAY_MS),
    readTimeoutMs: int(100, DAY_MS),
    maxConnections: int(1, 1_000_000),
    maxConnectionsPerAddress: int(1, 1_000_000),
    drainTimeoutMs: int(0, 600_000),
  },
  admin: { listen: nullable(hostPort) },
  log: { level: oneOf(LOG_LEVEL_NAMES) },
  interopOperation: bool,
  rotation: { enabled: bool, pollMs: int(100, DAY_MS), leaseMs: int(1000, DAY_MS), batchSize: int(1, 10_000) },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Merges `raw` over `defaults` field by field, validating each leaf against `spec`. */
function merge(file: string, path: string, raw: unknown, defaults: Record<string, unknown>, spec: Record<string, unknown>): Record<string, unknown> {
  if (!isPlainObject(raw)) throw new ConfigError(file, path, `expected an object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!(key in spec)) {
      throw new ConfigError(file, path ? `${path}.${key}` : key, `unknown field (known: ${Object.keys(spec).join(', ')})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(spec)) {
    const fieldPath = path ? `${path}.${key}` : key;
    const value = raw[key];
    if (value === undefined) {
      out[key] = defaults[key];
    } else if (typeof rule === 'function') {
      const r = (rule as Check<unknown>)(value);
      if (!r.ok) {
        if (r.field === undefined) throw new ConfigError(file, fieldPath, `expected ${r.expected}, got ${describe(value)}`);
        const inner = r.field.split('.').reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), value);
        throw new ConfigError(file, `${fieldPath}.${r.field}`, `expected ${r.expected}, got ${describe(fieldPath === 'store' && r.field === 'url' && typeof inner === 'string' ? redactUrl(inner) : inner)}`);
      }
      out[key] = r.value;
    } else {
      out[key] = merge(file, fieldPath, value, defaults[key] as Record<string, unknown>, rule as Record<string, unknown>);
    }
  }
  return out;
}

/** Validates a parsed config object; `file` only labels error messages. */
export function parseConfig(raw: unknown, file = CONFIG_FILE_NAME): KmipdConfig {
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  const config = merge(file, '', raw, defaults, schema as unknown as Record<string, unknown>) as unknown as KmipdConfig;
  if (config.admin.listen !== null && config.admin.listen === config.listen) {
    throw new ConfigError(file, 'admin.listen', 'must differ from listen');
  }
  return config;
}

export function loadConfig(dir: string): KmipdConfig {
  const file = join(dir, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(file, '', `not found (create a deployment with: kmipd init --dir ${dir})`);
    throw new ConfigError(file, '', `cannot read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '', `not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw, file);
}
