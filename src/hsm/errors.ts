// HSM errors: one error type for everything under src/hsm, carrying an operator-facing code
// and, when a PKCS#11 call failed, the CKR_* return value name (PKCS#11 v2.40 §5.1 / pkcs11t.h).
// Messages are written for operators and never contain PINs or key bytes; clients only ever see
// Cryptographic Failure (STYLE.md, Errors). This module must not import pkcs11js: the rest of the
// server imports it for `instanceof HsmError` and must not load the native addon to do so.

export const HsmErrorCode = {
  /** No PIN could be read (env var unset, PIN file missing/unreadable/empty). */
  PinMissing: 'PinMissing',
  PinIncorrect: 'PinIncorrect',
  PinLocked: 'PinLocked',
  /** The PKCS#11 module (shared library) could not be loaded. */
  ModuleMissing: 'ModuleMissing',
  TokenNotFound: 'TokenNotFound',
  KekNotFound: 'KekNotFound',
  KekExists: 'KekExists',
  /** A protected blob failed authentication: tampered, swapped or bound to another object. */
  IntegrityFailure: 'IntegrityFailure',
  /** The HSM (or SoftHSM2's store) reported a failure that is not ours to fix. */
  DeviceError: 'DeviceError',
  /** Sessions or login were lost and re-initialisation did not bring them back (yet). */
  SessionLost: 'SessionLost',
  /** A caller passed an argument the HSM layer refuses (size out of range, bad binding, …). */
  InvalidInput: 'InvalidInput',
  /** The configuration is unusable (label too long, conflicting SOFTHSM2_CONF, …). */
  ConfigInvalid: 'ConfigInvalid',
  /** softhsm2-util failed while provisioning a token. */
  ProvisioningFailed: 'ProvisioningFailed',
  /** The protector was closed. */
  Closed: 'Closed',
} as const;
export type HsmErrorCode = (typeof HsmErrorCode)[keyof typeof HsmErrorCode];

/** CKR_* values from PKCS#11 v2.40 (pkcs11t.h) that a key server is likely to meet. */
const CKR_NAMES: Readonly<Record<number, string>> = {
  0x000: 'CKR_OK',
  0x001: 'CKR_CANCEL',
  0x002: 'CKR_HOST_MEMORY',
  0x003: 'CKR_SLOT_ID_INVALID',
  0x005: 'CKR_GENERAL_ERROR',
  0x006: 'CKR_FUNCTION_FAILED',
  0x007: 'CKR_ARGUMENTS_BAD',
  0x010: 'CKR_ATTRIBUTE_READ_ONLY',
  0x011: 'CKR_ATTRIBUTE_SENSITIVE',
  0x012: 'CKR_ATTRIBUTE_TYPE_INVALID',
  0x013: 'CKR_ATTRIBUTE_VALUE_INVALID',
  0x020: 'CKR_DATA_INVALID',
  0x021: 'CKR_DATA_LEN_RANGE',
  0x030: 'CKR_DEVICE_ERROR',
  0x031: 'CKR_DEVICE_MEMORY',
  0x032: 'CKR_DEVICE_REMOVED',
  0x040: 'CKR_ENCRYPTED_DATA_INVALID',
  0x041: 'CKR_ENCRYPTED_DATA_LEN_RANGE',
  0x050: 'CKR_FUNCTION_CANCELED',
  0x054: 'CKR_FUNCTION_NOT_SUPPORTED',
  0x060: 'CKR_KEY_HANDLE_INVALID',
  0x062: 'CKR_KEY_SIZE_RANGE',
  0x063: 'CKR_KEY_TYPE_INCONSISTENT',
  0x068: 'CKR_KEY_FUNCTION_NOT_PERMITTED',
  0x069: 'CKR_KEY_NOT_WRAPPABLE',
  0x06a: 'CKR_KEY_UNEXTRACTABLE',
  0x070: 'CKR_MECHANISM_INVALID',
  0x071: 'CKR_MECHANISM_PARAM_INVALID',
  0x082: 'CKR_OBJECT_HANDLE_INVALID',
  0x090: 'CKR_OPERATION_ACTIVE',
  0x091: 'CKR_OPERATION_NOT_INITIALIZED',
  0x0a0: 'CKR_PIN_INCORRECT',
  0x0a1: 'CKR_PIN_INVALID',
  0x0a2: 'CKR_PIN_LEN_RANGE',
  0x0a3: 'CKR_PIN_EXPIRED',
  0x0a4: 'CKR_PIN_LOCKED',
  0x0b0: 'CKR_SESSION_CLOSED',
  0x0b1: 'CKR_SESSION_COUNT',
  0x0b3: 'CKR_SESSION_HANDLE_INVALID',
  0x0b5: 'CKR_SESSION_READ_ONLY',
  0x0c0: 'CKR_SIGNATURE_INVALID',
  0x0c1: 'CKR_SIGNATURE_LEN_RANGE',
  0x0d0: 'CKR_TEMPLATE_INCOMPLETE',
  0x0d1: 'CKR_TEMPLATE_INCONSISTENT',
  0x0e0: 'CKR_TOKEN_NOT_PRESENT',
  0x0e1: 'CKR_TOKEN_NOT_RECOGNIZED',
  0x0e2: 'CKR_TOKEN_WRITE_PROTECTED',
  0x0f0: 'CKR_UNWRAPPING_KEY_HANDLE_INVALID',
  0x0f1: 'CKR_UNWRAPPING_KEY_SIZE_RANGE',
  0x0f2: 'CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT',
  0x100: 'CKR_USER_ALREADY_LOGGED_IN',
  0x101: 'CKR_USER_NOT_LOGGED_IN',
  0x102: 'CKR_USER_PIN_NOT_INITIALIZED',
  0x103: 'CKR_USER_TYPE_INVALID',
  0x104: 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
  0x110: 'CKR_WRAPPED_KEY_INVALID',
  0x112: 'CKR_WRAPPED_KEY_LEN_RANGE',
  0x113: 'CKR_WRAPPING_KEY_HANDLE_INVALID',
  0x114: 'CKR_WRAPPING_KEY_SIZE_RANGE',
  0x115: 'CKR_WRAPPING_KEY_TYPE_INCONSISTENT',
  0x121: 'CKR_RANDOM_NO_RNG',
  0x150: 'CKR_BUFFER_TOO_SMALL',
  0x190: 'CKR_CRYPTOKI_NOT_INITIALIZED',
  0x191: 'CKR_CRYPTOKI_ALREADY_INITIALIZED',
  0x200: 'CKR_FUNCTION_REJECTED',
};

/** The CKR_* name of a PKCS#11 return value; unknown values are rendered in hex. */
export function ckrName(rv: number): string {
  return CKR_NAMES[rv] ?? `CKR_0x${rv.toString(16).padStart(8, '0')}`;
}

export interface HsmErrorOptions {
  /** The CKR_* name of the failed PKCS#11 call, if any. */
  ckr?: string;
  /** Only pass errors that cannot carry secrets (pkcs11js errors do not; execFile errors do). */
  cause?: unknown;
}

export class HsmError extends Error {
  override readonly name = 'HsmError';
  readonly code: HsmErrorCode;
  readonly ckr: string | undefined;

  constructor(code: HsmErrorCode, message: string, options: HsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ckr = options.ckr;
  }
}

export function isHsmError(e: unknown, code?: HsmErrorCode): e is HsmError {
  return e instanceof HsmError && (code === undefined || e.code === code);
}

/**
 * The CKR_* name carried by an error thrown by pkcs11js, or undefined if it is not a PKCS#11
 * failure. pkcs11js wraps most calls into a Pkcs11Error whose message is the bare CKR name and
 * whose `code` is the value, but a few methods it overrides (C_CopyObject, C_CreateObject,
 * C_SetAttributeValue) throw a plain Error with the message "CKR_NAME:value": accept both.
 */
export function ckrOf(e: unknown): string | undefined {
  if (e instanceof HsmError) return e.ckr;
  if (!(e instanceof Error)) return undefined;
  const m = /\b(CKR_[A-Z0-9_]+)(?::(\d+))?/.exec(e.message);
  if (m?.[1] !== undefined) return m[1];
  const code = (e as { code?: unknown }).code;
  if (e.name === 'Pkcs11Error' && typeof code === 'number') return ckrName(code);
  return undefined;
}

/** Return values that mean our sessions, login or library state are gone. */
const SESSION_LOSS = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_SLOT_ID_INVALID',
  // Our cached session copies of the KEKs die with the sessions that own them, so after an
  // external C_CloseAllSessions a stale handle is the first symptom some calls report.
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_WRAPPING_KEY_HANDLE_INVALID',
  'CKR_UNWRAPPING_KEY_HANDLE_INVALID',
]);

/**
 * True if the pool should be dropped, the module re-initialised and the call retried once.
 * Also CKR_DEVICE_ERROR, and CKR_OPERATION_ACTIVE (a session stuck in an unfinished operation):
 * re-initialisation is the only remedy we have for either.
 */
export function isRecoverable(e: unknown): boolean {
  if (e instanceof HsmError && e.code === HsmErrorCode.SessionLost) return true;
  const ckr = ckrOf(e);
  return ckr !== undefined && (SESSION_LOSS.has(ckr) || ckr === 'CKR_DEVICE_ERROR' || ckr === 'CKR_OPERATION_ACTIVE');
}

/**
 * Converts anything thrown while talking to the HSM into an HsmError. `what` names the action
 * for the operator ("wrapping a key", "logging in to token 'kmipd'"). Already-converted errors
 * pass through untouched so that a specific mapping made deeper down wins.
 */
export function toHsmError(e: unknown, what: string): HsmError {
  if (e instanceof HsmError) return e;
  const ckr = ckrOf(e);
  if (ckr === undefined) {
    // Not a PKCS#11 return value: a native or programming error. Its message comes from pkcs11js
    // or node, neither of which sees the PIN, so it is safe to keep as the cause.
    const detail = e instanceof Error ? e.message : String(e);
    return new HsmError(HsmErrorCode.DeviceError, `HSM failure while ${what}: ${detail}`, { cause: e });
  }
  switch (ckr) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
      return new HsmError(HsmErrorCode.PinIncorrect, `HSM PIN is incorrect (${ckr})`, { ckr, cause: e });
    case 'CKR_PIN_LOCKED':
    case 'CKR_PIN_EXPIRED':
      return new HsmError(HsmErrorCode.PinLocked, `HSM user PIN is locked or expired (${ckr})`, { ckr, cause: e });
    default:
      if (SESSION_LOSS.has(ckr)) {
        return new HsmError(HsmErrorCode.SessionLost, `HSM session lost while ${what} (${ckr})`, { ckr, cause: e });
      }
      return new HsmError(HsmErrorCode.DeviceError, `HSM failure while ${what} (${ckr})`, { ckr, cause: e });
  }
}
