// HSM configuration and PIN handling. The user PIN is read from an environment variable or a
// file, never from the command line (argv is visible to every local user through /proc), and it
// never appears in logs or error messages: only the *source* of the PIN is ever named.

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { HsmError, HsmErrorCode } from './errors.js';

export interface HsmConfig {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** CKA_LABEL of the token (at most 32 bytes); the slot id is looked up from it. */
  tokenLabel: string;
  /** Where the user PIN comes from: the env var is tried first, then the file. */
  pin: { env?: string; file?: string };
  /** Label prefix of the KEKs: `${prefix}-v${n}` and binding keys `${prefix}-mac-v${n}`. */
  kekLabelPrefix?: string;
  /** SoftHSM2 only: exported as SOFTHSM2_CONF before C_Initialize. */
  softhsmConf?: string;
  /** Size of the session pool (default 4). */
  sessions?: number;
  /**
   * Use the non-blocking (thread-pool) variants of the slow PKCS#11 calls. Off by default: with
   * SoftHSM2 the synchronous calls are 2-3x faster and the async ones do not scale with more
   * sessions (measured; see pkcs11-protector.ts). A network HSM with millisecond round trips
   * wants this on, so that the event loop is not blocked for each call.
   */
  asyncCalls?: boolean;
  /**
   * Work with session copies of the token KEKs (C_CopyObject with CKA_TOKEN=false; the copy
   * stays sensitive and non-extractable). Default true: SoftHSM2 wraps about twice as fast with
   * a session object. Turn off for HSMs that refuse C_CopyObject on keys.
   */
  sessionKeyCopies?: boolean;
  /**
   * Re-initialise the module (C_Finalize/C_Initialize, re-login) after this many session objects
   * have been created, because SoftHSM 2.6.1 only frees their memory in C_Finalize. Default
   * 200,000 (about 55 MB with SoftHSM); 0 disables it, which suits hardware HSMs.
   */
  recycleAfterObjects?: number;
  /**
   * Reveal cache (reveal-cache.ts): after a verified reveal the unwrapped key stays in the HSM as
   * a session object, so revealing the same stored row again costs one C_GetAttributeValue. The
   * plaintext then lives inside the HSM (never in JavaScript) for up to `revealCacheTtlMs`.
   * Bound on the number of keys kept (default 1024); 0 turns the cache off.
   */
  revealCacheEntries?: number;
  /** Longest time a key stays cached after its MAC was verified, in ms (default 60,000); 0 turns it off. */
  revealCacheTtlMs?: number;
}

export const DEFAULT_KEK_LABEL_PREFIX = 'kmipd-kek';
export const DEFAULT_SESSIONS = 4;
export const DEFAULT_RECYCLE_AFTER_OBJECTS = 200_000;
export const DEFAULT_REVEAL_CACHE_ENTRIES = 1024;
export const DEFAULT_REVEAL_CACHE_TTL_MS = 60_000;
const MAX_REVEAL_CACHE_ENTRIES = 1_000_000;
const MAX_REVEAL_CACHE_TTL_MS = 86_400_000;

/** The subset of a pino logger used here; a pino Logger satisfies it. */
export interface HsmLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: HsmLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface ResolvedHsmConfig {
  module: string;
  tokenLabel: string;
  pin: { env?: string; file?: string };
  kekLabelPrefix: string;
  softhsmConf: string | undefined;
  sessions: number;
  asyncCalls: boolean;
  sessionKeyCopies: boolean;
  recycleAfterObjects: number;
  revealCacheEntries: number;
  revealCacheTtlMs: number;
}

/** Applies defaults and rejects configurations that cannot work. */
export function resolveHsmConfig(config: HsmConfig): ResolvedHsmConfig {
  const invalid = (msg: string) => new HsmError(HsmErrorCode.ConfigInvalid, `invalid HSM configuration: ${msg}`);
  if (typeof config.module !== 'string' || config.module.length === 0) throw invalid('module path is empty');
  if (typeof config.tokenLabel !== 'string' || config.tokenLabel.length === 0) throw invalid('tokenLabel is empty');
  // Token labels are a blank-padded 32-byte field (CK_TOKEN_INFO.label).
  if (Buffer.byteLength(config.tokenLabel, 'utf8') > 32) throw invalid('tokenLabel is longer than 32 bytes');
  if (config.tokenLabel !== config.tokenLabel.trim()) throw invalid('tokenLabel has leading or trailing blanks');
  const prefix = config.kekLabelPrefix ?? DEFAULT_KEK_LABEL_PREFIX;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) throw invalid('kekLabelPrefix must be 1-64 characters of [A-Za-z0-9._-]');
  const sessions = config.sessions ?? DEFAULT_SESSIONS;
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 64) throw invalid('sessions must be from 1 to 64');
  const recycle = config.recycleAfterObjects ?? DEFAULT_RECYCLE_AFTER_OBJECTS;
  if (!Number.isInteger(recycle) || recycle < 0) throw invalid('recycleAfterObjects must be a non-negative integer');
  const cacheEntries = config.revealCacheEntries ?? DEFAULT_REVEAL_CACHE_ENTRIES;
  if (!Number.isInteger(cacheEntries) || cacheEntries < 0 || cacheEntries > MAX_REVEAL_CACHE_ENTRIES) {
    throw invalid(`revealCacheEntries must be an integer from 0 to ${MAX_REVEAL_CACHE_ENTRIES}`);
  }
  const cacheTtl = config.revealCacheTtlMs ?? DEFAULT_REVEAL_CACHE_TTL_MS;
  if (!Number.isInteger(cacheTtl) || cacheTtl < 0 || cacheTtl > MAX_REVEAL_CACHE_TTL_MS) {
    throw invalid(`revealCacheTtlMs must be an integer from 0 to ${MAX_REVEAL_CACHE_TTL_MS}`);
  }
  return {
    module: config.module,
    tokenLabel: config.tokenLabel,
    pin: { ...config.pin },
    kekLabelPrefix: prefix,
    softhsmConf: config.softhsmConf,
    sessions,
    asyncCalls: config.asyncCalls ?? false,
    sessionKeyCopies: config.sessionKeyCopies ?? true,
    recycleAfterObjects: recycle,
    revealCacheEntries: cacheEntries,
    revealCacheTtlMs: cacheTtl,
  };
}

/**
 * Reads the user PIN: from `pin.env` if that variable is set and non-empty, else from
 * `pin.file`. One trailing newline is removed from a file (editors add one). A PIN file that
 * group or others can read still works, but is reported at warn level.
 */
export function readPin(source: { env?: string; file?: string }, log: HsmLogger = silentLogger): string {
  if (source.env !== undefined) {
    const v = process.env[source.env];
    if (v !== undefined && v.length > 0) return v;
  }
  if (source.file !== undefined) return readPinFile(source.file, log);
  if (source.env !== undefined) {
    throw new HsmError(HsmErrorCode.PinMissing, `HSM PIN not available: environment variable ${source.env} is not set`);
  }
  throw new HsmError(HsmErrorCode.PinMissing, 'HSM PIN not available: configure pin.env or pin.file');
}

function readPinFile(path: string, log: HsmLogger): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be opened (${code ?? 'error'})`;
    throw new HsmError(HsmErrorCode.PinMissing, `HSM PIN file ${path} ${why}`);
  }
  let raw: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new HsmError(HsmErrorCode.PinMissing, `HSM PIN file ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      log.warn(
        { pinFile: path, mode: (st.mode & 0o777).toString(8) },
        'HSM PIN file is readable by group or others; restrict it with chmod 600',
      );
    }
    raw = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  let end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0a) end--;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  const pin = raw.toString('utf8', 0, end);
  raw.fill(0);
  if (pin.length === 0) throw new HsmError(HsmErrorCode.PinMissing, `HSM PIN file ${path} is empty`);
  return pin;
}
