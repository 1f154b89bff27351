// PKCS#11 key protector against a real SoftHSM2 token: generate/protect/reveal round trips,
// non-extractability of the key hierarchy, the integrity binding and concurrency.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HsmError } from '../../../src/hsm/errors.js';
import type { Binding, ProtectedMaterial } from '../../../src/hsm/key-protector.js';
import { type Pkcs11Protector, openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { ck } from '../../../src/hsm/pkcs11-library.js';
import { type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

const SYMMETRIC_KEY = 2;
const SECRET_DATA = 7;

async function expectHsmError(p: Promise<unknown>, code: string): Promise<HsmError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HsmError);
  expect((e as HsmError).code).toBe(code);
  return e as HsmError;
}

describeHsm('Pkcs11 key protector', () => {
  let token: TestToken;
  let hsm: Pkcs11Protector;
  const bindingA: Binding = { uid: '11111111-aaaa-4000-8000-000000000001', objectType: SYMMETRIC_KEY };
  const bindingB: Binding = { uid: '11111111-aaaa-4000-8000-000000000002', objectType: SYMMETRIC_KEY };

  beforeAll(async () => {
    token = await makeTestToken();
    hsm = await openPkcs11Protector(token.config);
    await hsm.createKek(1);
  });

  afterAll(async () => {
    await hsm?.close();
    await token?.cleanup();
  });

  it('reports the KEK versions and health', async () => {
    expect(await hsm.listKekVersions()).toEqual([1]);
    expect(await hsm.currentKekVersion()).toBe(1);
    expect(await hsm.health()).toEqual({ ok: true, detail: "token 'kmipd-test', KEK version 1" });
  });

  it('refuses to create an existing KEK version', async () => {
    await expectHsmError(hsm.createKek(1), 'KekExists');
  });

  for (const bits of [128, 192, 256] as const) {
    it(`generates an AES-${bits} key inside the HSM and reveals ${bits / 8} bytes`, async () => {
      const pm = await hsm.generate({ kind: 'aes', bits }, bindingA);
      expect(pm.kekVersion).toBe(1);
      expect(pm.mac).toHaveLength(32);
      const key = await hsm.reveal(pm, bindingA);
      expect(key).toHaveLength(bits / 8);
      expect(pm.wrapped.includes(key)).toBe(false);
      // The digest the HSM took of the key it generated (C_DigestKey) is the SHA-256 of its value.
      expect(pm.sha256?.toString('hex')).toBe(createHash('sha256').update(key).digest('hex'));
      // Two generations never give the same key.
      const other = await hsm.reveal(await hsm.generate({ kind: 'aes', bits }, bindingA), bindingA);
      expect(other.equals(key)).toBe(false);
      key.fill(0);
      other.fill(0);
    });
  }

  for (const bytes of [1, 5, 20, 64]) {
    it(`generates ${bytes} bytes of generic secret material`, async () => {
      const pm = await hsm.generate({ kind: 'generic', bytes }, bindingA);
      const key = await hsm.reveal(pm, bindingA);
      expect(key).toHaveLength(bytes);
    });
  }

  for (const size of [1, 7, 8, 32, 100, 4096]) {
    it(`protects and reveals ${size} bytes of caller material`, async () => {
      const plaintext = Buffer.alloc(size);
      for (let i = 0; i < size; i++) plaintext[i] = (i * 131 + 7) & 0xff;
      // A trailing zero byte must survive: SoftHSM pads with zeros (envelope.ts).
      plaintext[size - 1] = 0;
      const pm = await hsm.protect(plaintext, { uid: `secret-${size}`, objectType: SECRET_DATA });
      if (size >= 4) expect(pm.wrapped.includes(plaintext)).toBe(false);
      const out = await hsm.reveal(pm, { uid: `secret-${size}`, objectType: SECRET_DATA });
      expect(out.equals(plaintext)).toBe(true);
    });
  }

  it('accepts a Uint8Array view and does not alter it', async () => {
    const backing = new Uint8Array(64).map((_, i) => i);
    const view = backing.subarray(16, 48);
    const copy = Buffer.from(view);
    const pm = await hsm.protect(view, bindingA);
    expect(Buffer.from(view).equals(copy)).toBe(true);
    expect((await hsm.reveal(pm, bindingA)).equals(copy)).toBe(true);
  });

  it('rejects empty and oversized material and bad bindings', async () => {
    await expectHsmError(hsm.protect(Buffer.alloc(0), bindingA), 'InvalidInput');
    await expectHsmError(hsm.protect(Buffer.alloc(64 * 1024 + 1), bindingA), 'InvalidInput');
    await expectHsmError(hsm.generate({ kind: 'generic', bytes: 0 }, bindingA), 'InvalidInput');
    await expectHsmError(hsm.generate({ kind: 'aes', bits: 512 as 256 }, bindingA), 'InvalidInput');
    await expectHsmError(hsm.generate({ kind: 'aes', bits: 256 }, { uid: '', objectType: 2 }), 'InvalidInput');
    await expectHsmError(hsm.generate({ kind: 'aes', bits: 256 }, { uid: 'x', objectType: -1 }), 'InvalidInput');
  });

  it('keeps the KEK and the binding key sensitive and non-extractable', async () => {
    const raw = openRawSession(token);
    try {
      for (const label of ['kmipd-kek-v1', 'kmipd-kek-mac-v1']) {
        const [h] = raw.findKeys(label);
        expect(h, label).toBeDefined();
        const attrs = raw.p11.C_GetAttributeValue(raw.session, h!, [
          { type: ck.CKA_SENSITIVE },
          { type: ck.CKA_EXTRACTABLE },
          { type: ck.CKA_TOKEN },
          { type: ck.CKA_NEVER_EXTRACTABLE },
        ]);
        expect(attrs.map((a) => a.value?.[0])).toEqual([1, 0, 1, 1]);
        expect(() => raw.p11.C_GetAttributeValue(raw.session, h!, [{ type: ck.CKA_VALUE }])).toThrow(
          /CKR_ATTRIBUTE_SENSITIVE/,
        );
        // Nor can it be wrapped out under a key the attacker knows.
        const known = raw.p11.C_CreateObject(raw.session, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
          { type: ck.CKA_TOKEN, value: false },
          { type: ck.CKA_WRAP, value: true },
          { type: ck.CKA_VALUE, value: Buffer.alloc(32, 1) },
        ]);
        expect(() =>
          raw.p11.C_WrapKey(raw.session, { mechanism: ck.CKM_AES_KEY_WRAP_PAD }, known, h!, Buffer.alloc(64)),
        ).toThrow(/CKR_KEY_UNEXTRACTABLE/);
        // A session copy made the way the protector makes them stays locked down too.
        const copy = raw.p11.C_CopyObject(raw.session, h!, [{ type: ck.CKA_TOKEN, value: false }]);
        expect(() => raw.p11.C_GetAttributeValue(raw.session, copy, [{ type: ck.CKA_VALUE }])).toThrow(
          /CKR_ATTRIBUTE_SENSITIVE/,
        );
        expect(() =>
          raw.p11.C_CopyObject(raw.session, h!, [
            { type: ck.CKA_TOKEN, value: false },
            { type: ck.CKA_EXTRACTABLE, value: true },
          ]),
        ).toThrow(/CKR_ATTRIBUTE_READ_ONLY/);
      }
    } finally {
      raw.close();
    }
  });

  it('leaves no session key objects behind', async () => {
    const raw = openRawSession(token);
    try {
      const countSessionKeys = () => {
        raw.p11.C_FindObjectsInit(raw.session, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_TOKEN, value: false },
        ]);
        try {
          // KEK session copies keep their label; count only the transient, unlabelled keys.
          return raw.p11
            .C_FindObjects(raw.session, 10_000)
            .filter((h) => {
              const [label] = raw.p11.C_GetAttributeValue(raw.session, h, [{ type: ck.CKA_LABEL }]);
              return !label?.value?.toString().startsWith('kmipd-kek');
            }).length;
        } finally {
          raw.p11.C_FindObjectsFinal(raw.session);
        }
      };
      // Keys held by the reveal cache are session objects too, bounded by its size.
      const cached = () => hsm.revealCacheStats().entries;
      const before = countSessionKeys() - cached();
      for (let i = 0; i < 20; i++) {
        const pm = await hsm.generate({ kind: 'aes', bits: 256 }, bindingA);
        (await hsm.reveal(pm, bindingA)).fill(0);
        await hsm.rewrap(pm, bindingA, 1);
        await hsm.protect(Buffer.alloc(16, i), bindingA);
        (await hsm.reveal(pm, bindingB).catch(() => Buffer.alloc(0))).fill(0);
      }
      expect(countSessionKeys() - cached()).toBe(before);
    } finally {
      raw.close();
    }
  });

  describeHsm('integrity binding', () => {
    let a: ProtectedMaterial;
    let b: ProtectedMaterial;
    let keyA: Buffer;

    beforeAll(async () => {
      a = await hsm.generate({ kind: 'aes', bits: 256 }, bindingA);
      b = await hsm.generate({ kind: 'aes', bits: 256 }, bindingB);
      keyA = await hsm.reveal(a, bindingA);
    });

    it('reveals with the right binding', async () => {
      expect((await hsm.reveal(a, bindingA)).equals(keyA)).toBe(true);
    });

    it('detects wrapped blobs swapped between two objects', async () => {
      await expectHsmError(hsm.reveal({ ...a, wrapped: b.wrapped }, bindingA), 'IntegrityFailure');
      await expectHsmError(hsm.reveal({ ...b, wrapped: a.wrapped }, bindingB), 'IntegrityFailure');
      // Moving the whole row (blob and MAC) to the other object is detected as well.
      await expectHsmError(hsm.reveal(a, bindingB), 'IntegrityFailure');
      await expectHsmError(hsm.reveal(b, bindingA), 'IntegrityFailure');
    });

    it('detects a changed uid, object type or extra', async () => {
      await expectHsmError(hsm.reveal(a, { ...bindingA, uid: `${bindingA.uid}x` }), 'IntegrityFailure');
      await expectHsmError(hsm.reveal(a, { ...bindingA, objectType: SECRET_DATA }), 'IntegrityFailure');
      await expectHsmError(hsm.reveal(a, { ...bindingA, extra: '' }), 'IntegrityFailure');
      const withExtra = await hsm.generate({ kind: 'aes', bits: 128 }, { ...bindingA, extra: 'tenant-1' });
      await expectHsmError(hsm.reveal(withExtra, bindingA), 'IntegrityFailure');
      await expectHsmError(hsm.reveal(withExtra, { ...bindingA, extra: 'tenant-2' }), 'IntegrityFailure');
      expect(await hsm.reveal(withExtra, { ...bindingA, extra: 'tenant-1' })).toHaveLength(16);
    });

    it('detects every single-bit flip in wrapped and mac', async () => {
      for (const field of ['wrapped', 'mac'] as const) {
        const len = a[field].length;
        for (let byte = 0; byte < len; byte++) {
          for (const bit of [0, 7]) {
            const bad = Buffer.from(a[field]);
            bad[byte]! ^= 1 << bit;
            await expectHsmError(hsm.reveal({ ...a, [field]: bad }, bindingA), 'IntegrityFailure');
          }
        }
      }
    });

    it('detects truncated or extended blobs', async () => {
      await expectHsmError(hsm.reveal({ ...a, wrapped: a.wrapped.subarray(0, -1) }, bindingA), 'IntegrityFailure');
      await expectHsmError(hsm.reveal({ ...a, mac: a.mac.subarray(0, 31) }, bindingA), 'IntegrityFailure');
      await expectHsmError(
        hsm.reveal({ ...a, wrapped: Buffer.concat([a.wrapped, Buffer.alloc(8)]) }, bindingA),
        'IntegrityFailure',
      );
      await expectHsmError(hsm.reveal({ ...a, mac: Buffer.alloc(0) }, bindingA), 'IntegrityFailure');
    });

    it('detects a changed kekVersion (IntegrityFailure if that version exists, else KekNotFound)', async () => {
      await hsm.createKek(2);
      try {
        await expectHsmError(hsm.reveal({ ...a, kekVersion: 2 }, bindingA), 'IntegrityFailure');
        await expectHsmError(hsm.reveal({ ...a, kekVersion: 99 }, bindingA), 'KekNotFound');
      } finally {
        await hsm.destroyKek(2);
      }
      expect((await hsm.reveal(a, bindingA)).equals(keyA)).toBe(true);
    });

    it('never leaks key bytes or MAC input in error messages', async () => {
      const e = await expectHsmError(hsm.reveal({ ...a, wrapped: b.wrapped }, bindingA), 'IntegrityFailure');
      expect(e.message).not.toContain(keyA.toString('hex'));
      expect(e.message).not.toContain(token.pin);
      expect(e.message).toMatch(/integrity check failed/);
    });
  });

  it('returns HSM random bytes', async () => {
    const r1 = await hsm.random(32);
    const r2 = await hsm.random(32);
    expect(r1).toHaveLength(32);
    expect(r1.equals(r2)).toBe(false);
    expect(await hsm.random(0)).toHaveLength(0);
    expect(await hsm.random(200_000)).toHaveLength(200_000);
    await expectHsmError(hsm.random(-1), 'InvalidInput');
  });

  it('serves 200 parallel generate/reveal calls', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const binding = { uid: `parallel-${i}`, objectType: SYMMETRIC_KEY };
        const pm =
          i % 2 === 0
            ? await hsm.generate({ kind: 'aes', bits: 256 }, binding)
            : await hsm.protect(Buffer.alloc(32, i), binding);
        const key = await hsm.reveal(pm, binding);
        if (i % 2 === 1) expect(key.equals(Buffer.alloc(32, i))).toBe(true);
        return key.toString('hex');
      }),
    );
    expect(results).toHaveLength(200);
    const generated = results.filter((_, i) => i % 2 === 0);
    expect(new Set(generated).size).toBe(100);
  });

  it('fails cleanly after close', async () => {
    const t2 = await openPkcs11Protector(token.config);
    await t2.close();
    await t2.close();
    await expectHsmError(t2.generate({ kind: 'aes', bits: 128 }, bindingA), 'Closed');
    expect((await t2.health()).ok).toBe(false);
    // The first protector is unaffected by the second one closing.
    expect((await hsm.health()).ok).toBe(true);
  });
});
