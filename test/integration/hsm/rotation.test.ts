// KEK rotation primitives: create a new version, re-wrap under it, destroy the old one.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { HsmError } from '../../../src/hsm/errors.js';
import type { Binding, ProtectedMaterial } from '../../../src/hsm/key-protector.js';
import { type Pkcs11Protector, openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

async function hsmError(p: Promise<unknown>): Promise<HsmError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HsmError);
  return e as HsmError;
}

describeHsm('KEK rotation', () => {
  let token: TestToken;
  let hsm: Pkcs11Protector;
  const binding: Binding = { uid: 'rot-1', objectType: 2 };
  const other: Binding = { uid: 'rot-2', objectType: 7, extra: 'tenant-a' };
  let v1: ProtectedMaterial;
  let v1Other: ProtectedMaterial;
  let plain: Buffer;
  const secret = Buffer.from('a 27-byte piece of secret..');

  beforeAll(async () => {
    token = await makeTestToken();
    hsm = await openPkcs11Protector(token.config);
    await hsm.createKek(1);
    v1 = await hsm.generate({ kind: 'aes', bits: 256 }, binding);
    v1Other = await hsm.protect(secret, other);
    plain = await hsm.reveal(v1, binding);
  });

  afterAll(async () => {
    await hsm?.close();
    await token?.cleanup();
  });

  it('creates version 2, which becomes current for new material', async () => {
    await hsm.createKek(2);
    expect(await hsm.listKekVersions()).toEqual([1, 2]);
    expect(await hsm.currentKekVersion()).toBe(2);
    const fresh = await hsm.generate({ kind: 'aes', bits: 128 }, binding);
    expect(fresh.kekVersion).toBe(2);
  });

  it('re-wraps v1 material under v2 and reveals the same plaintext', async () => {
    const v2 = await hsm.rewrap(v1, binding, 2);
    expect(v2.kekVersion).toBe(2);
    expect(v2.wrapped.equals(v1.wrapped)).toBe(false);
    expect((await hsm.reveal(v2, binding)).equals(plain)).toBe(true);
    const v2Other = await hsm.rewrap(v1Other, other, 2);
    expect((await hsm.reveal(v2Other, other)).equals(secret)).toBe(true);
    // The binding carries over: the re-wrapped blob still refuses another object.
    expect((await hsmError(hsm.reveal(v2, other))).code).toBe('IntegrityFailure');
    // And re-wrapping refuses a blob that does not belong to the binding given.
    expect((await hsmError(hsm.rewrap(v1, other, 2))).code).toBe('IntegrityFailure');
    expect((await hsmError(hsm.rewrap(v1, binding, 3))).code).toBe('KekNotFound');
  });

  it('after destroying v1, re-wrapped material still reveals and v1 material fails with KekNotFound', async () => {
    const v2 = await hsm.rewrap(v1, binding, 2);
    // Make sure every pooled session holds a session copy of KEK v1 before it is destroyed.
    await Promise.all(Array.from({ length: 16 }, () => hsm.reveal(v1, binding)));
    await hsm.destroyKek(1);
    expect(await hsm.listKekVersions()).toEqual([2]);
    expect((await hsm.reveal(v2, binding)).equals(plain)).toBe(true);
    for (let i = 0; i < 8; i++) {
      const e = await hsmError(hsm.reveal(v1, binding));
      expect(e.code).toBe('KekNotFound');
    }
    const results = await Promise.allSettled(Array.from({ length: 16 }, () => hsm.reveal(v1, binding)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.code).toBe('KekNotFound');
    }
    expect((await hsmError(hsm.destroyKek(1))).code).toBe('KekNotFound');
    const raw = openRawSession(token);
    try {
      expect(raw.findKeys('kmipd-kek-v1')).toEqual([]);
      expect(raw.findKeys('kmipd-kek-mac-v1')).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('a KEK created by another protector (another process) is picked up', async () => {
    const second = await openPkcs11Protector(token.config);
    try {
      await second.createKek(3);
      expect(await hsm.listKekVersions()).toEqual([2, 3]);
      const pm = await second.protect(secret, binding);
      expect(pm.kekVersion).toBe(3);
      expect((await hsm.reveal(pm, binding)).equals(secret)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
