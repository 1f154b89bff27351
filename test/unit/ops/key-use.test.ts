// Whether a key may be used (KMIP 1.4 §3.22, §3.19, §3.25–3.26; 2.1 §4.57): state, dates and
// Cryptographic Usage Mask, with each version's reason.
import { describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { StoredObject } from '../../../src/store/types.js';
import { requireUse } from '../../../src/ops/key-use.js';

const M = Mask.CryptographicUsageMask;
const S = Enum.State;
const v14 = { major: 1, minor: 4 };
const v21 = { major: 2, minor: 1 };
const now = new Date('2030-01-01T00:00:00Z');
const t = BigInt(now.getTime() / 1000);

function key(state: number, mask: number, dates: Record<string, bigint> = {}, material = true): StoredObject {
  return {
    uid: 'u',
    tenant: 't',
    objectType: Enum.ObjectType.SymmetricKey,
    state,
    version: 1,
    createdAt: 0,
    material: material ? { wrapped: Buffer.alloc(1), mac: Buffer.alloc(1), kekVersion: 1, meta: new Uint8Array() } : null,
    attributes: [
      { name: 'CryptographicUsageMask', index: 0, value: { tag: Tag.AttributeValue, type: 'Integer', value: mask } },
      ...Object.entries(dates).map(([name, v]) => ({ name, index: 0, value: { tag: Tag.AttributeValue, type: 'DateTime' as const, value: v } })),
    ],
  };
}

const reason = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { reason?: string }).reason;
  }
};

describe('requireUse', () => {
  it('allows an Active key for a use its mask holds', () => {
    expect(reason(() => requireUse(v21, key(S.Active, M.Encrypt | M.Decrypt), M.Encrypt, 'protect', now))).toBeUndefined();
  });

  it('refuses a use outside the mask: 1.x Permission Denied, 2.x Incompatible Cryptographic Usage Mask', () => {
    expect(reason(() => requireUse(v14, key(S.Active, M.Decrypt), M.Encrypt, 'protect', now))).toBe('PermissionDenied');
    expect(reason(() => requireUse(v21, key(S.Active, M.Decrypt), M.Encrypt, 'protect', now))).toBe('IncompatibleCryptographicUsageMask');
  });

  it('refuses a Pre-Active key for any purpose', () => {
    expect(reason(() => requireUse(v21, key(S.PreActive, M.Decrypt), M.Decrypt, 'process', now))).toBe('WrongKeyLifecycleState');
    expect(reason(() => requireUse(v14, key(S.PreActive, M.Decrypt), M.Decrypt, 'process', now))).toBe('PermissionDenied');
  });

  it('lets a Deactivated or Compromised key process but not protect', () => {
    for (const s of [S.Deactivated, S.Compromised]) {
      expect(reason(() => requireUse(v21, key(s, M.Decrypt | M.Encrypt), M.Decrypt, 'process', now))).toBeUndefined();
      expect(reason(() => requireUse(v21, key(s, M.Decrypt | M.Encrypt), M.Encrypt, 'protect', now))).toBe('WrongKeyLifecycleState');
    }
  });

  it('applies the Activation and Deactivation Dates as they pass (date-driven transitions)', () => {
    expect(reason(() => requireUse(v21, key(S.PreActive, M.Encrypt, { ActivationDate: t - 10n }), M.Encrypt, 'protect', now))).toBeUndefined();
    expect(reason(() => requireUse(v21, key(S.Active, M.Encrypt, { DeactivationDate: t - 10n }), M.Encrypt, 'protect', now))).toBe('WrongKeyLifecycleState');
  });

  it('honours Process Start Date and Protect Stop Date', () => {
    expect(reason(() => requireUse(v21, key(S.Active, M.Decrypt, { ProcessStartDate: t + 10n }), M.Decrypt, 'process', now))).toBe('WrongKeyLifecycleState');
    expect(reason(() => requireUse(v21, key(S.Active, M.Encrypt, { ProtectStopDate: t - 10n }), M.Encrypt, 'protect', now))).toBe('WrongKeyLifecycleState');
    expect(reason(() => requireUse(v21, key(S.Active, M.Decrypt, { ProtectStopDate: t - 10n }), M.Decrypt, 'process', now))).toBeUndefined();
  });

  it('refuses a key without material', () => {
    expect(reason(() => requireUse(v21, key(S.Active, M.Encrypt, {}, false), M.Encrypt, 'protect', now))).toBe('KeyValueNotPresent');
  });
});
