// Key pairs generated inside a real SoftHSM2 token: the private key leaves the HSM only wrapped
// (format-2 envelope, PKCS#8 inside), bound like other material, and reveals to the key whose
// public half the protector returned; no session objects stay behind; KEK rotation keeps it.

import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HsmError } from '../../../src/hsm/errors.js';
import type { Binding, KeyPairSpec } from '../../../src/hsm/key-protector.js';
import { type Pkcs11Protector, openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { ck } from '../../../src/hsm/pkcs11-library.js';
import { type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

const PRIVATE_KEY = 4;

describeHsm('Pkcs11 key protector: key pairs', () => {
  let token: TestToken;
  let hsm: Pkcs11Protector;
  const binding: Binding = { uid: '22222222-aaaa-4000-8000-000000000001', objectType: PRIVATE_KEY, extra: 't' };
  const other: Binding = { ...binding, uid: '22222222-aaaa-4000-8000-000000000002' };

  beforeAll(async () => {
    token = await makeTestToken();
    hsm = await openPkcs11Protector(token.config);
    await hsm.createKek(1);
  });

  afterAll(async () => {
    await hsm?.close();
    await token?.cleanup();
  });

  const cases: { spec: KeyPairSpec; check: (details: Record<string, unknown>, type: string | undefined) => void }[] = [
    { spec: { kind: 'rsa', bits: 2048 }, check: (d, t) => expect([t, d['modulusLength'], d['publicExponent']]).toEqual(['rsa', 2048, 65537n]) },
    { spec: { kind: 'rsa', bits: 3072 }, check: (d, t) => expect([t, d['modulusLength']]).toEqual(['rsa', 3072]) },
    { spec: { kind: 'rsa', bits: 4096 }, check: (d, t) => expect([t, d['modulusLength']]).toEqual(['rsa', 4096]) },
    { spec: { kind: 'ec', curve: 'P-256' }, check: (d, t) => expect([t, d['namedCurve']]).toEqual(['ec', 'prime256v1']) },
    { spec: { kind: 'ec', curve: 'P-384' }, check: (d, t) => expect([t, d['namedCurve']]).toEqual(['ec', 'secp384r1']) },
    { spec: { kind: 'ec', curve: 'P-521' }, check: (d, t) => expect([t, d['namedCurve']]).toEqual(['ec', 'secp521r1']) },
    { spec: { kind: 'ec', curve: 'secp256k1' }, check: (d, t) => expect([t, d['namedCurve']]).toEqual(['ec', 'secp256k1']) },
  ];

  for (const { spec, check } of cases) {
    const name = spec.kind === 'rsa' ? `RSA-${spec.bits}` : `EC ${spec.curve}`;
    it(`generates ${name} inside the HSM; the revealed PKCS#8 signs for the returned SPKI`, async () => {
      const pair = await hsm.generateKeyPair(spec, binding);
      expect(pair.privateKey.wrapped[0]).toBe(2);
      const pub = createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' });
      check(pub.asymmetricKeyDetails as Record<string, unknown>, pub.asymmetricKeyType);
      const der = await hsm.reveal(pair.privateKey, binding);
      const priv = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      // Exactly the DER, no padding left: re-encoding gives the same length.
      expect(priv.export({ format: 'der', type: 'pkcs8' }).length).toBe(der.length);
      expect(pair.privateKey.wrapped.includes(der.subarray(der.length - 32))).toBe(false);
      const data = Buffer.from('kmipd key pair');
      expect(verify('sha256', data, pub, sign('sha256', data, priv))).toBe(true);
      der.fill(0);
      // Bound to its object like any other material.
      await expect(hsm.reveal(pair.privateKey, other)).rejects.toBeInstanceOf(HsmError);
    }, 60_000);
  }

  it('keeps a generated private key across a KEK rotation (format 2 survives rewrap)', async () => {
    const pair = await hsm.generateKeyPair({ kind: 'ec', curve: 'P-256' }, binding);
    const before = await hsm.reveal(pair.privateKey, binding);
    await hsm.createKek(2);
    const moved = await hsm.rewrap(pair.privateKey, binding, 2);
    expect(moved.kekVersion).toBe(2);
    expect(moved.wrapped[0]).toBe(2);
    expect((await hsm.reveal(moved, binding)).equals(before)).toBe(true);
  });

  it('refuses unsupported sizes and curves', async () => {
    await expect(hsm.generateKeyPair({ kind: 'rsa', bits: 1024 } as unknown as KeyPairSpec, binding)).rejects.toMatchObject({ code: 'InvalidInput' });
    await expect(hsm.generateKeyPair({ kind: 'ec', curve: 'P-224' } as unknown as KeyPairSpec, binding)).rejects.toMatchObject({ code: 'InvalidInput' });
  });

  it('leaves no private or public key objects on the token or in sessions', async () => {
    await hsm.generateKeyPair({ kind: 'ec', curve: 'P-256' }, binding);
    const raw = openRawSession(token);
    try {
      for (const cls of [ck.CKO_PRIVATE_KEY, ck.CKO_PUBLIC_KEY]) {
        raw.p11.C_FindObjectsInit(raw.session, [{ type: ck.CKA_CLASS, value: cls }]);
        try {
          expect(raw.p11.C_FindObjects(raw.session, 100)).toHaveLength(0);
        } finally {
          raw.p11.C_FindObjectsFinal(raw.session);
        }
      }
    } finally {
      raw.close();
    }
  });
});
