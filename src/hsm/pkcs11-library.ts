// Loading and initialising a PKCS#11 module (PKCS#11 v2.40 §5.4 C_Initialize/C_Finalize, §5.5
// slot and token management). Cryptoki state is per process, not per pkcs11js object: a second
// C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED, and one C_Finalize ends every session of
// the process. So each module path is loaded once here and shared, reference-counted, by every
// protector (and test helper) in the process; only the last one to leave finalises it.

import pkcs11js from 'pkcs11js';
import type { PKCS11 } from 'pkcs11js';
import { HsmError, HsmErrorCode, ckrOf, toHsmError } from './errors.js';

export type Handle = Buffer;
export { pkcs11js as ck };

// PKCS#11 constants pkcs11js does not export.
export const CKS_RW_USER_FUNCTIONS = 3;
const CKF_TOKEN_INITIALIZED = 0x400;
const CKF_USER_PIN_INITIALIZED = 0x8;
const CKF_USER_PIN_LOCKED = 0x40000;

export interface LoadedModule {
  readonly path: string;
  readonly p11: PKCS11;
  /** Protectors and helpers currently relying on the module being initialised. */
  users: number;
  /** The SOFTHSM2_CONF value the module was last initialised with. */
  conf: string | undefined;
  /** Increments on every C_Initialize we make, so that recoveries do not finalise twice. */
  generation: number;
  /** Calls running on the libuv thread pool; C_Finalize must not race them. */
  inflight: number;
}

const loaded = new Map<string, LoadedModule>();

/** Loads (once) and initialises the module; pair every call with detachModule. */
export function attachModule(path: string, softhsmConf: string | undefined): LoadedModule {
  let m = loaded.get(path);
  if (m === undefined) {
    const p11 = new pkcs11js.PKCS11();
    try {
      p11.load(path);
    } catch (e) {
      // dlopen's message names the file and the reason; it carries nothing secret.
      const why = e instanceof Error ? e.message : String(e);
      throw new HsmError(HsmErrorCode.ModuleMissing, `PKCS#11 module ${path} could not be loaded: ${why}`);
    }
    m = { path, p11, users: 0, conf: undefined, generation: 0, inflight: 0 };
    loaded.set(path, m);
  }
  if (m.users > 0) {
    // SoftHSM reads SOFTHSM2_CONF once, in C_Initialize: a second configuration cannot be
    // honoured while the first is in use.
    if (softhsmConf !== undefined && m.conf !== softhsmConf) {
      throw new HsmError(
        HsmErrorCode.ConfigInvalid,
        `PKCS#11 module ${path} is already in use in this process with SOFTHSM2_CONF=${m.conf ?? '(unset)'}`,
      );
    }
  } else {
    // Nobody we know of uses it: start from a clean state so the requested configuration is read.
    finalizeQuietly(m);
    initialize(m, softhsmConf);
  }
  m.users++;
  return m;
}

export function detachModule(m: LoadedModule): void {
  if (m.users <= 0) return;
  m.users--;
  if (m.users === 0) finalizeQuietly(m);
}

/**
 * Finalises and re-initialises the module, unless someone already did so since `seenGeneration`
 * (another protector in the process recovering from the same event). Returns the generation the
 * caller's new sessions belong to.
 */
export function reinitializeModule(m: LoadedModule, seenGeneration: number): number {
  if (m.generation === seenGeneration) {
    finalizeQuietly(m);
    initialize(m, m.conf);
  }
  return m.generation;
}

/** Resolves when no thread-pool call is running on the module, or after `timeoutMs`. */
export async function waitForIdle(m: LoadedModule, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (m.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

function initialize(m: LoadedModule, softhsmConf: string | undefined): void {
  if (softhsmConf !== undefined) process.env['SOFTHSM2_CONF'] = softhsmConf;
  try {
    // CKF_OS_LOCKING_OK: the *Async calls run on libuv's thread pool; without it SoftHSM assumes
    // a single-threaded caller (measured: concurrent async calls then fail with CKR_GENERAL_ERROR).
    m.p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (e) {
    if (ckrOf(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw toHsmError(e, `initialising PKCS#11 module ${m.path}`);
  }
  m.conf = softhsmConf;
  m.generation++;
}

function finalizeQuietly(m: LoadedModule): void {
  try {
    m.p11.C_Finalize();
  } catch {
    // CKR_CRYPTOKI_NOT_INITIALIZED or a dead device: either way there is nothing left to end.
  }
}

/** Finds the slot holding the token labelled `label` (SoftHSM assigns random slot ids). */
export function findTokenSlot(m: LoadedModule, label: string): Handle {
  let slots: Handle[];
  try {
    slots = m.p11.C_GetSlotList(true);
  } catch (e) {
    throw toHsmError(e, `listing the slots of ${m.path}`);
  }
  const matches: { slot: Handle; flags: number }[] = [];
  for (const slot of slots) {
    try {
      const info = m.p11.C_GetTokenInfo(slot);
      // CK_TOKEN_INFO.label is blank-padded to 32 bytes.
      if (info.label.replace(/ +$/, '') === label) matches.push({ slot, flags: info.flags });
    } catch {
      // A slot whose token vanished between the two calls is simply not ours.
    }
  }
  const where = `module ${m.path}${m.conf !== undefined ? ` (SOFTHSM2_CONF=${m.conf})` : ''}`;
  const first = matches[0];
  if (first === undefined) throw new HsmError(HsmErrorCode.TokenNotFound, `token '${label}' not found in ${where}`);
  if (matches.length > 1) {
    // Two tokens with one label: picking either could use the wrong KEKs.
    throw new HsmError(HsmErrorCode.ConfigInvalid, `${matches.length} tokens are labelled '${label}' in ${where}`);
  }
  if ((first.flags & CKF_TOKEN_INITIALIZED) === 0 || (first.flags & CKF_USER_PIN_INITIALIZED) === 0) {
    throw new HsmError(HsmErrorCode.TokenNotFound, `token '${label}' in ${where} is not initialised`);
  }
  if ((first.flags & CKF_USER_PIN_LOCKED) !== 0) {
    throw new HsmError(HsmErrorCode.PinLocked, `the user PIN of token '${label}' is locked`, { ckr: 'CKR_PIN_LOCKED' });
  }
  return first.slot;
}
