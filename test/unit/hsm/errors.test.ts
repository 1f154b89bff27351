// Mapping of pkcs11js failures to HsmError codes and CKR names.

import { describe, expect, it } from 'vitest';
import { HsmError, ckrName, ckrOf, isRecoverable, toHsmError } from '../../../src/hsm/errors.js';

/** The shape pkcs11js gives most failures: a Pkcs11Error whose message is the bare CKR name. */
function pkcs11Error(name: string, code: number): Error {
  const e = new Error(name) as Error & { code: number };
  e.name = 'Pkcs11Error';
  e.code = code;
  return e;
}

describe('ckrOf', () => {
  it('reads Pkcs11Error and the plain "CKR_X:n" errors of C_CopyObject/C_CreateObject', () => {
    expect(ckrOf(pkcs11Error('CKR_PIN_INCORRECT', 0xa0))).toBe('CKR_PIN_INCORRECT');
    expect(ckrOf(new Error('CKR_ATTRIBUTE_READ_ONLY:16'))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    const bare = new Error('something');
    bare.name = 'Pkcs11Error';
    (bare as Error & { code: number }).code = 0x190;
    expect(ckrOf(bare)).toBe('CKR_CRYPTOKI_NOT_INITIALIZED');
    expect(ckrOf(new Error('ENOENT'))).toBeUndefined();
    expect(ckrOf('CKR_OK')).toBeUndefined();
  });

  it('names known return values and renders others in hex', () => {
    expect(ckrName(0x110)).toBe('CKR_WRAPPED_KEY_INVALID');
    expect(ckrName(0x80000001)).toBe('CKR_0x80000001');
  });
});

describe('toHsmError', () => {
  it.each([
    ['CKR_PIN_INCORRECT', 'PinIncorrect', 'HSM PIN is incorrect (CKR_PIN_INCORRECT)'],
    ['CKR_PIN_LOCKED', 'PinLocked', 'HSM user PIN is locked or expired (CKR_PIN_LOCKED)'],
    ['CKR_SESSION_HANDLE_INVALID', 'SessionLost', 'HSM session lost while wrapping (CKR_SESSION_HANDLE_INVALID)'],
    ['CKR_DEVICE_REMOVED', 'SessionLost', 'HSM session lost while wrapping (CKR_DEVICE_REMOVED)'],
    ['CKR_DEVICE_MEMORY', 'DeviceError', 'HSM failure while wrapping (CKR_DEVICE_MEMORY)'],
  ])('%s becomes %s', (ckr, code, message) => {
    const e = toHsmError(pkcs11Error(ckr, 0), 'wrapping');
    expect(e).toBeInstanceOf(HsmError);
    expect(e.code).toBe(code);
    expect(e.ckr).toBe(ckr);
    expect(e.message).toBe(message);
  });

  it('passes HsmErrors through and wraps other errors as DeviceError', () => {
    const original = new HsmError('KekNotFound', 'x');
    expect(toHsmError(original, 'y')).toBe(original);
    const native = toHsmError(new TypeError('bad handle'), 'reading');
    expect(native.code).toBe('DeviceError');
    expect(native.message).toBe('HSM failure while reading: bad handle');
  });
});

describe('isRecoverable', () => {
  it('is true for lost sessions, logins, devices and stale handles only', () => {
    for (const ckr of [
      'CKR_SESSION_HANDLE_INVALID',
      'CKR_SESSION_CLOSED',
      'CKR_DEVICE_REMOVED',
      'CKR_DEVICE_ERROR',
      'CKR_TOKEN_NOT_PRESENT',
      'CKR_USER_NOT_LOGGED_IN',
      'CKR_CRYPTOKI_NOT_INITIALIZED',
      'CKR_KEY_HANDLE_INVALID',
    ]) {
      expect(isRecoverable(pkcs11Error(ckr, 0)), ckr).toBe(true);
    }
    for (const ckr of ['CKR_PIN_INCORRECT', 'CKR_GENERAL_ERROR', 'CKR_SIGNATURE_INVALID', 'CKR_ARGUMENTS_BAD']) {
      expect(isRecoverable(pkcs11Error(ckr, 0)), ckr).toBe(false);
    }
    expect(isRecoverable(new HsmError('SessionLost', 'x'))).toBe(true);
    expect(isRecoverable(new HsmError('IntegrityFailure', 'x', { ckr: 'CKR_GENERAL_ERROR' }))).toBe(false);
  });
});
