// KeyProtector over PKCS#11 (pkcs11js): the key hierarchy of kmipd.
//
//   KEK v<n>          AES-256 token object, sensitive, never extractable, wrap/unwrap only,
//                     label `${prefix}-v${n}`
//   binding key v<n>  256-bit generic secret token object for HMAC-SHA256, sign/verify only,
//                     label `${prefix}-mac-v${n}`
//
// Material is wrapped under the KEK with CKM_AES_KEY_WRAP_PAD (RFC 5649), and the envelope is
// bound to its object by an HMAC computed and verified inside the HSM (envelope.ts has both byte
// formats). The binding is an HMAC rather than AES-GCM additional data because SoftHSM 2.6.1
// refuses CKM_AES_GCM in C_WrapKey (CKR_MECHANISM_INVALID, measured), and a key server must not
// decrypt wrapped keys into JavaScript just to authenticate them.
//
// Sessions: a small pool of R/W sessions, logged in once (login state belongs to the
// application, PKCS#11 v2.40 §5.6), each caching session copies of the KEK and binding key it
// has used. A session loss (sessions closed, library finalised, token gone) drops the pool,
// re-initialises the module with backoff and retries the call once; if the HSM stays away, calls
// fail with SessionLost and health() says so, but nothing is thrown outside a returned promise.
//
// Measured on this machine (2 shared cores, SoftHSM 2.6.1, 16 callers, 4 sessions): with
// synchronous calls and session KEK copies ~4.4k generate/s and ~4.5k reveal/s; with the token
// KEK handles about half that; with pkcs11js's *Async variants a third, and adding sessions does
// not help them (SoftHSM serialises internally). So calls are synchronous unless configured.
//
// Reveal cache (reveal-cache.ts): a verified reveal keeps its unwrapped key as a session object,
// so that the same stored row revealed again within the TTL costs one C_GetAttributeValue
// instead of C_Verify + C_UnwrapKey + C_GetAttributeValue + C_DestroyObject. The keys stay inside
// the HSM; handles are dropped with the pool (recovery, close), destroyed on eviction, expiry,
// forget(uid) and KEK destruction.

import { HsmError, HsmErrorCode, ckrOf, isRecoverable, toHsmError } from './errors.js';
import {
  type HsmConfig,
  type HsmLogger,
  type ResolvedHsmConfig,
  readPin,
  resolveHsmConfig,
  silentLogger,
} from './config.js';
import {
  ENVELOPE_FORMAT,
  type EnvelopeFormat,
  checkBinding,
  checkKekVersion,
  checkMaterialLength,
  macInput,
} from './envelope.js';
import type { Binding, EcCurve, GeneratedKeyPair, GeneratedMaterial, HealthReport, KekAdmin, KeyPairSpec, KeyProtector, KeySpec, ProtectedMaterial } from './key-protector.js';
import {
  Pkcs11Calls,
  bindingKeyTemplate,
  CURVES,
  computeMac,
  ecSigningKeyTemplate,
  ecVerifyingKeyTemplate,
  destroyQuietly,
  importTemplate,
  kekTemplate,
  keyPairTemplates,
  publicKeySpki,
  wrapPrivateKeyToEnvelope,
  readKeyValue,
  readableSessionKeyTemplate,
  unwrapEnvelope,
  verifyMac,
  wrapToEnvelope,
  wrappableSessionKeyTemplate,
} from './key-ops.js';
import { RevealCache, type RevealCacheStats } from './reveal-cache.js';
import {
  CKS_RW_USER_FUNCTIONS,
  type Handle,
  type LoadedModule,
  attachModule,
  ck,
  detachModule,
  findTokenSlot,
  reinitializeModule,
  waitForIdle,
} from './pkcs11-library.js';

export type Pkcs11Protector = KeyProtector &
  KekAdmin & {
    /** The token this protector works on, for log lines and `kmipd status`. */
    readonly tokenLabel: string;
    /** Counters of the reveal cache (reveal-cache.ts), for tests, benchmarks and status. */
    revealCacheStats(): RevealCacheStats;
  };

/** Retry schedule of a re-initialisation after a session loss (first attempt immediately). */
const RECOVERY_DELAYS_MS = [0, 100, 400, 1600];
/** After a failed recovery, calls fail fast for this long instead of each retrying the HSM. */
const RECOVERY_COOLDOWN_MS = 1000;
/** KEKs created or destroyed by another process are noticed within this time. */
const CURRENT_KEK_TTL_MS = 10_000;
const RANDOM_MAX_BYTES = 1024 * 1024;
const RANDOM_CHUNK = 64 * 1024;
const FIND_BATCH = 256;

interface VersionKeys {
  kek: Handle;
  mac: Handle;
}

interface PooledSession {
  handle: Handle;
  /** Pool epoch the session belongs to; sessions of an older epoch are never reused. */
  epoch: number;
  /** keyEpoch at the time `keys` was filled; a mismatch means a KEK was destroyed since. */
  keyEpoch: number;
  /** Keys usable in this session: session copies, or the token objects themselves. */
  keys: Map<number, VersionKeys & { copies: boolean }>;
}

interface Waiter {
  resolve(s: PooledSession): void;
  reject(e: unknown): void;
}

/** How often, and how far apart, opening retries a token that looks absent (about 1 s in all). */
const TOKEN_OPEN_ATTEMPTS = 5;
const TOKEN_OPEN_RETRY_MS = 250;

export async function openPkcs11Protector(config: HsmConfig, log: HsmLogger = silentLogger): Promise<Pkcs11Protector> {
  const cfg = resolveHsmConfig(config);
  const pin = readPin(cfg.pin, log);
  // A token directory shared by several nodes (SoftHSM2) can be unreadable for a moment while
  // another process rewrites its token file: the token then looks absent. Re-scan a few times
  // (the module reads its tokens at C_Initialize) before reporting it missing.
  let protector: Pkcs11KeyProtector;
  for (let attempt = 1; ; attempt++) {
    const module = attachModule(cfg.module, cfg.softhsmConf);
    protector = new Pkcs11KeyProtector(cfg, pin, module, log);
    try {
      protector.connect();
      break;
    } catch (e) {
      detachModule(module);
      const err = toHsmError(e, `opening token '${cfg.tokenLabel}'`);
      if (err.code !== HsmErrorCode.TokenNotFound || attempt >= TOKEN_OPEN_ATTEMPTS) throw err;
      log.warn({ token: cfg.tokenLabel, attempt }, 'token not found; scanning the module again');
      await new Promise((r) => setTimeout(r, TOKEN_OPEN_RETRY_MS));
    }
  }
  let versions: number[];
  try {
    versions = await protector.listKekVersions();
  } catch (e) {
    await protector.close();
    throw e;
  }
  log.info(
    { token: cfg.tokenLabel, module: cfg.module, sessions: cfg.sessions, kekVersions: versions },
    versions.length > 0 ? 'HSM ready' : 'HSM ready, but the token holds no KEK yet',
  );
  return protector;
}

class Pkcs11KeyProtector implements Pkcs11Protector {
  readonly tokenLabel: string;
  private readonly calls: Pkcs11Calls;
  /** Module generation our sessions were opened under. */
  private generation = 0;
  private epoch = 0;
  private keyEpoch = 0;
  private all: PooledSession[] = [];
  private idle: PooledSession[] = [];
  private leased = 0;
  private waiters: Waiter[] = [];
  /** Token object handles by version; valid across sessions until the module is re-initialised. */
  private tokenKeys = new Map<number, VersionKeys>();
  private current: { version: number; at: number } | undefined;
  private copiesEnabled: boolean;
  /** The module refused C_DigestKey once: generated keys are digested by the caller instead. */
  private digestKeyRefused = false;
  private recovering: Promise<void> | undefined;
  /** Session objects created since the module was last initialised (see maybeRecycle). */
  private objectsCreated = 0;
  private down: { at: number; error: HsmError } | undefined;
  private closed = false;
  /** Unwrapped keys kept inside the HSM after a verified reveal (reveal-cache.ts). */
  private readonly cache: RevealCache;
  private sweepTimer: NodeJS.Timeout | undefined;
  private releaseScheduled = false;

  constructor(
    private readonly cfg: ResolvedHsmConfig,
    private readonly pin: string,
    private readonly module: LoadedModule,
    private readonly log: HsmLogger,
  ) {
    this.tokenLabel = cfg.tokenLabel;
    this.calls = new Pkcs11Calls(module, cfg.asyncCalls);
    this.copiesEnabled = cfg.sessionKeyCopies;
    this.cache = new RevealCache(cfg.revealCacheEntries, cfg.revealCacheTtlMs);
    if (this.cache.enabled) {
      // Expired keys leave the HSM within a quarter of the TTL (at most a second) even when idle.
      const period = Math.max(10, Math.min(1000, Math.floor(cfg.revealCacheTtlMs / 4)));
      this.sweepTimer = setInterval(() => {
        if (this.cache.sweep() > 0) this.scheduleRelease();
      }, period);
      this.sweepTimer.unref();
    }
  }

  private get p11() {
    return this.module.p11;
  }

  // ---- connection and pool ---------------------------------------------------------------

  /** Finds the token, opens the pool and logs in. Synchronous: nothing may interleave. */
  connect(): void {
    const slot = findTokenSlot(this.module, this.cfg.tokenLabel);
    const opened: Handle[] = [];
    try {
      for (let i = 0; i < this.cfg.sessions; i++) {
        opened.push(this.p11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION));
      }
      try {
        this.p11.C_Login(opened[0] as Handle, ck.CKU_USER, this.pin);
      } catch (e) {
        // Login is per application: another protector of this process may have done it.
        if (ckrOf(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw toHsmError(e, `logging in to token '${this.cfg.tokenLabel}'`);
      }
    } catch (e) {
      for (const h of opened) this.closeSessionQuietly(h);
      throw e;
    }
    this.generation = this.module.generation;
    this.epoch++;
    this.all = opened.map((handle) => ({ handle, epoch: this.epoch, keyEpoch: this.keyEpoch, keys: new Map() }));
    this.idle = [];
    for (const s of this.all) this.release(s, false);
  }

  private async acquire(): Promise<PooledSession> {
    for (;;) {
      if (this.closed) throw closedError();
      if (this.recovering) {
        await this.recovering;
        continue;
      }
      if (this.down) {
        if (Date.now() - this.down.at < RECOVERY_COOLDOWN_MS) throw this.down.error;
        await this.recover();
        continue;
      }
      const s = this.idle.pop();
      if (s) {
        this.leased++;
        return s;
      }
      const s2 = await new Promise<PooledSession>((resolve, reject) => this.waiters.push({ resolve, reject }));
      this.leased++;
      return s2;
    }
  }

  /** Returns a session to the pool; sessions of a dropped pool are forgotten. */
  private release(s: PooledSession, leased = true): void {
    if (leased) this.leased--;
    if (this.closed || s.epoch !== this.epoch) return;
    const w = this.waiters.shift();
    if (w) w.resolve(s);
    else this.idle.push(s);
  }

  /**
   * Runs `fn` on a pooled session. A session-loss error triggers one recovery and one retry;
   * everything else is converted to an HsmError naming `what`.
   */
  private async run<T>(
    what: string,
    fn: (s: PooledSession) => Promise<T> | T,
    logContext: Record<string, unknown> = {},
  ): Promise<T> {
    let retried = false;
    for (;;) {
      const s = await this.acquire();
      try {
        const result = await fn(s);
        if (this.cache.pendingDestroys > 0) this.destroyEvicted(s);
        this.release(s);
        this.maybeRecycle();
        return result;
      } catch (e) {
        this.release(s);
        if (!retried && !this.closed && isRecoverable(e)) {
          retried = true;
          this.log.warn({ op: what, ckr: ckrOf(e) }, 'HSM session lost; re-initialising');
          // Someone may already have rebuilt the pool while this call was failing.
          if (s.epoch === this.epoch) await this.recover();
          continue;
        }
        const err = toHsmError(e, what);
        if (err.code === HsmErrorCode.DeviceError || err.code === HsmErrorCode.SessionLost) {
          this.log.error({ ...logContext, op: what, ckr: err.ckr, code: err.code }, err.message);
        } else if (err.code === HsmErrorCode.IntegrityFailure) {
          // Tampering or a row swapped in the store: worth an operator's attention.
          this.log.warn({ ...logContext, op: what, ckr: err.ckr, code: err.code }, err.message);
        }
        throw err;
      }
    }
  }

  private recover(planned = false): Promise<void> {
    this.recovering ??= this.doRecover(planned).finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  /**
   * SoftHSM 2.6.1 keeps about 270 bytes of native memory for every session object ever created
   * until C_Finalize, even after C_DestroyObject and C_CloseSession (measured: RSS +2.7 MB per
   * 10,000 generate/destroy pairs, flat again after a re-initialisation). Every protector call
   * creates one, so a long-running server re-initialises on purpose now and then, between calls.
   */
  private maybeRecycle(): void {
    const limit = this.cfg.recycleAfterObjects;
    if (limit === 0 || this.objectsCreated < limit || this.recovering || this.closed) return;
    // The reveal cache's counters say how much it saved (a hit creates no object) and what is lost here.
    this.log.info(
      { token: this.cfg.tokenLabel, objects: this.objectsCreated, revealCache: this.cache.stats() },
      'HSM planned re-initialisation',
    );
    this.recover(true).catch(() => undefined); // failures are reported by recover and by the next call
  }

  private async doRecover(planned: boolean): Promise<void> {
    // Drop the pool: leased sessions are discarded when they come back, idle ones now.
    this.epoch++;
    this.idle = [];
    // Cached keys die with their sessions, and the module reuses handle numbers after C_Finalize.
    this.cache.clear();
    this.tokenKeys.clear();
    this.current = undefined;
    let last: unknown;
    for (const delay of RECOVERY_DELAYS_MS) {
      if (delay > 0) await sleep(delay);
      if (this.closed) throw closedError();
      try {
        // Wait for calls still holding old sessions to fail out: after C_Finalize the module
        // reuses handle numbers, so a straggler could otherwise act on a new session's objects.
        await waitUntil(() => this.leased === 0, 5000);
        await waitForIdle(this.module, 2000);
        if (this.closed) break;
        this.generation = reinitializeModule(this.module, this.generation);
        this.connect();
        this.down = undefined;
        this.objectsCreated = 0;
        this.log.info({ token: this.cfg.tokenLabel, planned }, 'HSM sessions re-established');
        return;
      } catch (e) {
        last = e;
        const err = toHsmError(e, 're-opening HSM sessions');
        this.log.warn({ ckr: err.ckr, code: err.code }, `HSM recovery attempt failed: ${err.message}`);
        // A wrong or locked PIN will not fix itself by retrying (and retries could lock it).
        if (err.code === HsmErrorCode.PinIncorrect || err.code === HsmErrorCode.PinLocked) break;
      }
    }
    if (this.closed) throw closedError();
    const cause = toHsmError(last, 're-opening HSM sessions');
    const error = new HsmError(
      HsmErrorCode.SessionLost,
      `HSM unavailable: token '${this.cfg.tokenLabel}' could not be re-opened (${cause.ckr ?? cause.message})`,
      cause.ckr === undefined ? {} : { ckr: cause.ckr },
    );
    this.down = { at: Date.now(), error };
    for (const w of this.waiters.splice(0)) w.reject(error);
    this.log.error({ token: this.cfg.tokenLabel, ckr: cause.ckr }, error.message);
    throw error;
  }

  private closeSessionQuietly(h: Handle): void {
    try {
      this.p11.C_CloseSession(h);
    } catch {
      // Already gone with a finalised library or a closed-all: nothing to release.
    }
  }

  // ---- KEK lookup -----------------------------------------------------------------------

  private kekLabel(v: number): string {
    return `${this.cfg.kekLabelPrefix}-v${v}`;
  }

  private macLabel(v: number): string {
    return `${this.cfg.kekLabelPrefix}-mac-v${v}`;
  }

  private findByLabel(s: PooledSession, label: string): Handle[] {
    const p11 = this.p11;
    p11.C_FindObjectsInit(s.handle, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_LABEL, value: label },
    ]);
    try {
      return p11.C_FindObjects(s.handle, FIND_BATCH);
    } finally {
      p11.C_FindObjectsFinal(s.handle);
    }
  }

  private findOne(s: PooledSession, label: string): Handle | undefined {
    const found = this.findByLabel(s, label);
    if (found.length > 1) {
      throw new HsmError(HsmErrorCode.DeviceError, `token '${this.cfg.tokenLabel}' holds ${found.length} keys labelled '${label}'`);
    }
    return found[0];
  }

  /** The token objects of version `v`, or KekNotFound. */
  private tokenKeysFor(s: PooledSession, v: number): VersionKeys {
    const cached = this.tokenKeys.get(v);
    if (cached) return cached;
    const kek = this.findOne(s, this.kekLabel(v));
    const mac = this.findOne(s, this.macLabel(v));
    if (kek === undefined || mac === undefined) {
      const missing = kek === undefined ? this.kekLabel(v) : this.macLabel(v);
      throw new HsmError(
        HsmErrorCode.KekNotFound,
        `KEK version ${v} not found on token '${this.cfg.tokenLabel}' (no key labelled '${missing}')`,
      );
    }
    const keys = { kek, mac };
    this.tokenKeys.set(v, keys);
    return keys;
  }

  /** The keys of version `v` usable in session `s`, copying them into the session if enabled. */
  private keysFor(s: PooledSession, v: number): VersionKeys {
    if (s.keyEpoch !== this.keyEpoch) this.purgeSessionKeys(s);
    const have = s.keys.get(v);
    if (have) return have;
    const token = this.tokenKeysFor(s, v);
    if (this.copiesEnabled) {
      let kek: Handle | undefined;
      try {
        kek = this.p11.C_CopyObject(s.handle, token.kek, [{ type: ck.CKA_TOKEN, value: false }]);
        const mac = this.p11.C_CopyObject(s.handle, token.mac, [{ type: ck.CKA_TOKEN, value: false }]);
        this.objectsCreated += 2;
        const keys = { kek, mac, copies: true };
        s.keys.set(v, keys);
        return keys;
      } catch (e) {
        if (kek !== undefined) destroyQuietly(this.calls, s.handle, kek);
        if (isRecoverable(e)) throw e;
        // E.g. a KEK provisioned by other tooling with CKA_MODIFIABLE=false or CKA_COPYABLE=false.
        this.copiesEnabled = false;
        this.log.warn(
          { token: this.cfg.tokenLabel, ckr: ckrOf(e) },
          'HSM refused session copies of the KEK; using the token objects directly (slower)',
        );
      }
    }
    const keys = { ...token, copies: false };
    s.keys.set(v, keys);
    return keys;
  }

  private purgeSessionKeys(s: PooledSession): void {
    for (const k of s.keys.values()) {
      if (!k.copies) continue;
      destroyQuietly(this.calls, s.handle, k.kek);
      destroyQuietly(this.calls, s.handle, k.mac);
    }
    s.keys.clear();
    s.keyEpoch = this.keyEpoch;
  }

  /** Versions that have both a KEK and a binding key on the token, ascending. */
  private scanVersions(s: PooledSession): number[] {
    const p11 = this.p11;
    const handles: Handle[] = [];
    p11.C_FindObjectsInit(s.handle, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_TOKEN, value: true },
    ]);
    try {
      for (;;) {
        const batch = p11.C_FindObjects(s.handle, FIND_BATCH);
        handles.push(...batch);
        if (batch.length < FIND_BATCH) break;
      }
    } finally {
      p11.C_FindObjectsFinal(s.handle);
    }
    const prefix = this.cfg.kekLabelPrefix;
    const keks = new Set<number>();
    const macs = new Set<number>();
    for (const h of handles) {
      const [attr] = p11.C_GetAttributeValue(s.handle, h, [{ type: ck.CKA_LABEL }]);
      const label = attr?.value?.toString('utf8') ?? '';
      if (!label.startsWith(`${prefix}-`)) continue;
      const rest = label.slice(prefix.length + 1);
      const kek = /^v([1-9][0-9]{0,9})$/.exec(rest);
      const mac = /^mac-v([1-9][0-9]{0,9})$/.exec(rest);
      if (kek?.[1] !== undefined) keks.add(Number(kek[1]));
      if (mac?.[1] !== undefined) macs.add(Number(mac[1]));
    }
    const versions: number[] = [];
    for (const v of keks) {
      if (macs.has(v)) versions.push(v);
      else this.log.warn({ token: this.cfg.tokenLabel, version: v }, 'KEK has no binding key; ignoring this version');
    }
    return versions.sort((a, b) => a - b);
  }

  private currentVersion(s: PooledSession): number {
    if (this.current && Date.now() - this.current.at < CURRENT_KEK_TTL_MS) return this.current.version;
    const versions = this.scanVersions(s);
    const v = versions[versions.length - 1];
    if (v === undefined) {
      throw new HsmError(
        HsmErrorCode.KekNotFound,
        `no KEK found on token '${this.cfg.tokenLabel}' (labels '${this.cfg.kekLabelPrefix}-v<n>'); run 'kmipd init'`,
      );
    }
    this.current = { version: v, at: Date.now() };
    return v;
  }

  // ---- KekAdmin -------------------------------------------------------------------------

  async createKek(version: number): Promise<void> {
    checkKekVersion(version);
    await this.run(`creating KEK version ${version}`, async (s) => {
      if (this.findByLabel(s, this.kekLabel(version)).length > 0 || this.findByLabel(s, this.macLabel(version)).length > 0) {
        throw new HsmError(HsmErrorCode.KekExists, `KEK version ${version} already exists on token '${this.cfg.tokenLabel}'`);
      }
      const aesGen = { mechanism: ck.CKM_AES_KEY_GEN };
      const kek = await this.calls.generateKey(s.handle, aesGen, kekTemplate(this.kekLabel(version)));
      try {
        const macGen = { mechanism: ck.CKM_GENERIC_SECRET_KEY_GEN };
        await this.calls.generateKey(s.handle, macGen, bindingKeyTemplate(this.macLabel(version)));
      } catch (e) {
        // Never leave half a version behind: a KEK without binding key cannot be used.
        destroyQuietly(this.calls, s.handle, kek);
        throw e;
      }
      this.tokenKeys.delete(version);
      this.current = undefined;
    });
    this.log.info({ token: this.cfg.tokenLabel, version }, 'KEK created');
  }

  async listKekVersions(): Promise<number[]> {
    return this.run('listing KEK versions', (s) => this.scanVersions(s));
  }

  async currentKekVersion(): Promise<number> {
    return this.run('finding the current KEK', (s) => {
      this.current = undefined;
      return this.currentVersion(s);
    });
  }

  async destroyKek(version: number): Promise<void> {
    checkKekVersion(version);
    await this.run(`destroying KEK version ${version}`, (s) => {
      const found = [...this.findByLabel(s, this.kekLabel(version)), ...this.findByLabel(s, this.macLabel(version))];
      if (found.length === 0) {
        throw new HsmError(HsmErrorCode.KekNotFound, `KEK version ${version} not found on token '${this.cfg.tokenLabel}'`);
      }
      for (const h of found) this.p11.C_DestroyObject(s.handle, h);
      // Session copies outlive the token object they were copied from: purge them all. Leased
      // sessions purge theirs before their next use (keyEpoch), idle ones right now.
      this.keyEpoch++;
      this.tokenKeys.delete(version);
      this.current = undefined;
      this.purgeSessionKeys(s);
      // Keys unwrapped under it must not outlive it either.
      this.cache.forgetKekVersion(version);
      this.destroyEvicted(s);
      for (const idle of this.idle) this.purgeSessionKeys(idle);
    });
    this.log.warn({ token: this.cfg.tokenLabel, version }, 'KEK destroyed');
  }

  // ---- KeyProtector ---------------------------------------------------------------------

  async generate(spec: KeySpec, binding: Binding): Promise<GeneratedMaterial> {
    checkBinding(binding);
    let mechanism: number;
    let template;
    let length: number;
    if (spec.kind === 'aes') {
      if (spec.bits !== 128 && spec.bits !== 192 && spec.bits !== 256) {
        throw new HsmError(HsmErrorCode.InvalidInput, `AES key length must be 128, 192 or 256 bits, got ${String(spec.bits)}`);
      }
      length = spec.bits / 8;
      mechanism = ck.CKM_AES_KEY_GEN;
      template = wrappableSessionKeyTemplate(ck.CKK_AES, length);
    } else if (spec.kind === 'generic') {
      checkMaterialLength(spec.bytes);
      length = spec.bytes;
      mechanism = ck.CKM_GENERIC_SECRET_KEY_GEN;
      template = wrappableSessionKeyTemplate(ck.CKK_GENERIC_SECRET, length);
    } else {
      throw new HsmError(HsmErrorCode.InvalidInput, 'unknown key spec');
    }
    return this.run('generating key material', async (s) => {
      const v = this.currentVersion(s);
      const keys = this.keysFor(s, v);
      const key = await this.calls.generateKey(s.handle, { mechanism }, template);
      this.objectsCreated++;
      try {
        const pm = await this.seal(s, keys, v, key, length, binding);
        return { ...pm, sha256: this.digestOf(s, key) };
      } finally {
        destroyQuietly(this.calls, s.handle, key);
      }
    });
  }

  /**
   * SHA-256 of a generated key inside the HSM, so Create and Re-key need not reveal it for the
   * Digest attribute. A module that refuses C_DigestKey (CKR_KEY_INDIGESTIBLE for sensitive keys is
   * allowed by PKCS#11) is asked once; callers then reveal the key to digest it.
   */
  private digestOf(s: PooledSession, key: Handle): Buffer | undefined {
    if (this.digestKeyRefused) return undefined;
    try {
      return this.calls.digestKey(s.handle, key);
    } catch (e) {
      if (isRecoverable(e)) throw e;
      this.digestKeyRefused = true;
      this.log.warn({ ckr: ckrOf(e) }, 'HSM refused C_DigestKey; generated keys are revealed once for their Digest');
      return undefined;
    }
  }

  async generateKeyPair(spec: KeyPairSpec, privateBinding: Binding): Promise<GeneratedKeyPair> {
    checkBinding(privateBinding);
    const valid =
      (spec.kind === 'rsa' && [2048, 3072, 4096].includes(spec.bits)) || (spec.kind === 'ec' && Object.hasOwn(CURVES, spec.curve));
    if (!valid) throw new HsmError(HsmErrorCode.InvalidInput, 'key pairs are RSA-2048/3072/4096 or EC P-256/P-384/P-521/secp256k1');
    const { mechanism, publicTemplate, privateTemplate } = keyPairTemplates(spec);
    return this.run('generating a key pair', async (s) => {
      const v = this.currentVersion(s);
      const keys = this.keysFor(s, v);
      const pair = await this.calls.generateKeyPair(s.handle, mechanism, publicTemplate, privateTemplate);
      this.objectsCreated += 2;
      try {
        const publicKey = publicKeySpki(this.calls, s.handle, pair.publicKey, spec);
        const wrapped = await wrapPrivateKeyToEnvelope(this.calls, s.handle, keys.kek, pair.privateKey);
        const mac = await computeMac(this.calls, s.handle, keys.mac, macInput(privateBinding, v, wrapped));
        return { privateKey: { wrapped, mac, kekVersion: v }, publicKey };
      } finally {
        destroyQuietly(this.calls, s.handle, pair.privateKey);
        destroyQuietly(this.calls, s.handle, pair.publicKey);
      }
    });
  }

  async signEcdsaDigest(curve: EcCurve, privateScalar: Uint8Array, digest: Uint8Array): Promise<Buffer> {
    const size = this.checkEcdsaInput(curve, digest);
    if (!(privateScalar instanceof Uint8Array) || privateScalar.length !== size) {
      throw new HsmError(HsmErrorCode.InvalidInput, `the private scalar must be ${size} bytes`);
    }
    const d = Buffer.from(privateScalar.buffer, privateScalar.byteOffset, privateScalar.byteLength);
    return this.run('signing a digest with ECDSA', (s) => {
      const key = this.p11.C_CreateObject(s.handle, ecSigningKeyTemplate(curve, d));
      this.objectsCreated++;
      try {
        this.p11.C_SignInit(s.handle, { mechanism: ck.CKM_ECDSA }, key);
        return Buffer.from(this.p11.C_Sign(s.handle, Buffer.from(digest), Buffer.alloc(2 * size)));
      } finally {
        destroyQuietly(this.calls, s.handle, key);
      }
    });
  }

  async verifyEcdsaDigest(curve: EcCurve, publicPoint: Uint8Array, digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const size = this.checkEcdsaInput(curve, digest);
    if (!(publicPoint instanceof Uint8Array) || publicPoint.length !== 1 + 2 * size || publicPoint[0] !== 0x04) {
      throw new HsmError(HsmErrorCode.InvalidInput, 'the public point must be uncompressed');
    }
    if (signature.length !== 2 * size) return false;
    return this.run('verifying an ECDSA signature over a digest', (s) => {
      const key = this.p11.C_CreateObject(s.handle, ecVerifyingKeyTemplate(curve, Buffer.from(publicPoint)));
      this.objectsCreated++;
      try {
        this.p11.C_VerifyInit(s.handle, { mechanism: ck.CKM_ECDSA }, key);
        try {
          return this.p11.C_Verify(s.handle, Buffer.from(digest), Buffer.from(signature));
        } catch (e) {
          if (ckrOf(e) === 'CKR_SIGNATURE_INVALID' || ckrOf(e) === 'CKR_SIGNATURE_LEN_RANGE') return false;
          throw e;
        }
      } finally {
        destroyQuietly(this.calls, s.handle, key);
      }
    });
  }

  private checkEcdsaInput(curve: EcCurve, digest: Uint8Array): number {
    if (!Object.hasOwn(CURVES, curve)) throw new HsmError(HsmErrorCode.InvalidInput, 'unsupported curve');
    if (!(digest instanceof Uint8Array) || digest.length < 1 || digest.length > 64) {
      throw new HsmError(HsmErrorCode.InvalidInput, 'the digest must be 1 to 64 bytes');
    }
    return CURVES[curve].bytes;
  }

  async protect(plaintext: Uint8Array, binding: Binding): Promise<ProtectedMaterial> {
    checkBinding(binding);
    if (!(plaintext instanceof Uint8Array)) throw new HsmError(HsmErrorCode.InvalidInput, 'plaintext must be bytes');
    checkMaterialLength(plaintext.length);
    // A view, not a copy: there is no second plaintext buffer to zero.
    const value = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
    return this.run('protecting key material', async (s) => {
      const v = this.currentVersion(s);
      const keys = this.keysFor(s, v);
      const key = this.p11.C_CreateObject(s.handle, importTemplate(value));
      this.objectsCreated++;
      try {
        return await this.seal(s, keys, v, key, value.length, binding);
      } finally {
        destroyQuietly(this.calls, s.handle, key);
      }
    });
  }

  async reveal(pm: ProtectedMaterial, binding: Binding): Promise<Buffer> {
    this.checkMaterial(pm);
    checkBinding(binding);
    return this.run('revealing key material', async (s) => {
      // A hit: these exact bytes passed the MAC check within the TTL, and the key is still inside
      // the HSM. Lookup and read are synchronous, so no eviction can come between them.
      // The module generation guards against a re-initialisation that this pool has not yet
      // noticed (another protector of the process recovered): handle numbers restart then.
      const hit = this.module.generation === this.generation ? this.cache.lookup(pm, binding, s.epoch) : undefined;
      if (hit !== undefined) {
        try {
          return readKeyValue(this.calls, s.handle, hit.handle, hit.plaintextLength, hit.format);
        } catch (e) {
          if (isRecoverable(e)) throw e;
          // The object is unusable (gone, or not what was stored): forget it, take the long way.
          this.cache.discard(binding.uid, hit);
        }
      }
      const keys = this.keysFor(s, pm.kekVersion);
      await verifyMac(this.calls, s.handle, keys.mac, macInput(binding, pm.kekVersion, pm.wrapped), pm.mac);
      const { handle, plaintextLength, format } = await unwrapEnvelope(
        this.calls,
        s.handle,
        keys.kek,
        pm.wrapped,
        readableSessionKeyTemplate(),
      );
      this.objectsCreated++;
      let kept = false;
      try {
        const value = readKeyValue(this.calls, s.handle, handle, plaintextLength, format);
        // Only objects of the live pool are kept: an older session's handles die with it.
        kept = s.epoch === this.epoch && this.cache.insert(pm, binding, { handle, epoch: s.epoch, plaintextLength, format });
        return value;
      } finally {
        if (!kept) destroyQuietly(this.calls, s.handle, handle);
      }
    }, { uid: binding.uid, kekVersion: pm.kekVersion });
  }

  forget(uid: string): void {
    if (this.cache.forget(uid)) this.scheduleRelease();
  }

  revealCacheStats(): RevealCacheStats {
    return this.cache.stats();
  }

  async rewrap(pm: ProtectedMaterial, binding: Binding, toKekVersion: number): Promise<ProtectedMaterial> {
    this.checkMaterial(pm);
    checkBinding(binding);
    checkKekVersion(toKekVersion);
    // The row is about to be replaced: its cached key has no further use.
    this.forget(binding.uid);
    return this.run(`re-wrapping key material to KEK version ${toKekVersion}`, async (s) => {
      const from = this.keysFor(s, pm.kekVersion);
      const to = this.keysFor(s, toKekVersion);
      await verifyMac(this.calls, s.handle, from.mac, macInput(binding, pm.kekVersion, pm.wrapped), pm.mac);
      // Unwrapped as sensitive + extractable: it can be wrapped again but never read.
      const { handle, plaintextLength, format } = await unwrapEnvelope(
        this.calls,
        s.handle,
        from.kek,
        pm.wrapped,
        wrappableSessionKeyTemplate(ck.CKK_GENERIC_SECRET),
      );
      this.objectsCreated++;
      try {
        return await this.seal(s, to, toKekVersion, handle, plaintextLength, binding, format);
      } finally {
        destroyQuietly(this.calls, s.handle, handle);
      }
    }, { uid: binding.uid, kekVersion: pm.kekVersion });
  }

  async random(bytes: number): Promise<Buffer> {
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > RANDOM_MAX_BYTES) {
      throw new HsmError(HsmErrorCode.InvalidInput, `random length must be from 0 to ${RANDOM_MAX_BYTES} bytes`);
    }
    if (bytes === 0) return Buffer.alloc(0);
    return this.run('generating random bytes', (s) => {
      const out = Buffer.alloc(bytes);
      for (let o = 0; o < bytes; o += RANDOM_CHUNK) {
        const n = Math.min(RANDOM_CHUNK, bytes - o);
        const chunk = this.p11.C_GenerateRandom(s.handle, Buffer.alloc(n));
        chunk.copy(out, o);
      }
      return out;
    });
  }

  async health(): Promise<HealthReport> {
    if (this.closed) return { ok: false, detail: 'HSM protector is closed' };
    try {
      return await this.run('checking HSM health', (s) => {
        const info = this.p11.C_GetSessionInfo(s.handle);
        if (info.state !== CKS_RW_USER_FUNCTIONS) {
          // Someone logged us out (C_Logout elsewhere in the process): treat as a lost session.
          throw new HsmError(HsmErrorCode.SessionLost, 'HSM session is no longer logged in', {
            ckr: 'CKR_USER_NOT_LOGGED_IN',
          });
        }
        const v = this.currentVersion(s);
        return { ok: true, detail: `token '${this.cfg.tokenLabel}', KEK version ${v}` };
      });
    } catch (e) {
      return { ok: false, detail: toHsmError(e, 'checking HSM health').message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    for (const w of this.waiters.splice(0)) w.reject(closedError());
    // Let calls that already hold a session finish (only possible with asyncCalls).
    await waitUntil(() => this.leased === 0, 5000);
    if (this.recovering) await this.recovering.catch(() => undefined);
    // Closing a session destroys its session objects, including the KEK copies.
    for (const s of this.all) this.closeSessionQuietly(s.handle);
    this.cache.clear(); // its objects went with the sessions
    this.all = [];
    this.idle = [];
    this.tokenKeys.clear();
    detachModule(this.module);
  }

  // ---- helpers --------------------------------------------------------------------------

  /** Wraps `key` under `keys.kek` and MACs the envelope with `keys.mac`. */
  private async seal(
    s: PooledSession,
    keys: VersionKeys,
    version: number,
    key: Handle,
    length: number,
    binding: Binding,
    format: EnvelopeFormat = ENVELOPE_FORMAT,
  ): Promise<ProtectedMaterial> {
    const wrapped = await wrapToEnvelope(this.calls, s.handle, keys.kek, key, length, format);
    const mac = await computeMac(this.calls, s.handle, keys.mac, macInput(binding, version, wrapped));
    return { wrapped, mac, kekVersion: version };
  }

  /** Destroys the session objects of evicted, expired and forgotten cache entries. */
  private destroyEvicted(s: PooledSession): void {
    if (s.epoch !== this.epoch) return;
    for (const h of this.cache.takeDoomed(s.epoch)) destroyQuietly(this.calls, s.handle, h);
  }

  /** Destroys evicted cache objects soon, on a pooled session, even if no other call comes. */
  private scheduleRelease(): void {
    if (this.releaseScheduled || this.closed) return;
    this.releaseScheduled = true;
    setImmediate(() => {
      this.releaseScheduled = false;
      if (this.closed || this.cache.pendingDestroys === 0) return;
      // run() destroys them after the (empty) call; a failure is logged by run and retried later.
      this.run('releasing cached keys', () => undefined).catch(() => undefined);
    });
  }

  private checkMaterial(pm: ProtectedMaterial): void {
    if (!Buffer.isBuffer(pm.wrapped) || !Buffer.isBuffer(pm.mac)) {
      throw new HsmError(HsmErrorCode.InvalidInput, 'protected material must carry Buffers');
    }
    checkKekVersion(pm.kekVersion);
  }
}

function closedError(): HsmError {
  return new HsmError(HsmErrorCode.Closed, 'HSM protector is closed');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await sleep(2);
}
