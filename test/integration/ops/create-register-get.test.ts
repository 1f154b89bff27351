// Create, Register and Get through the real executor, SQLite store and SoftHSM2 token
// (KMIP 1.4 §4.1, §4.3, §4.11; 2.1 §6.1.8, §6.1.43, §6.1.19).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import { bindingOf, digestOfGenerated, generateObject } from '../../../src/ops/key-material.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import {
  at,
  attr,
  bytes,
  child,
  enumeration,
  expectFailure,
  keyBlock,
  materialOf,
  okPayload,
  ops,
  struct,
  uidOf,
  v14,
  v21,
} from '../../support/lifecycle-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const KF = Enum.KeyFormatType;
const OT = Enum.ObjectType;

describeHsm('Create, Register, Get', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const stored = (uid: string, tenant?: string) => h.stored(uid, tenant);

  it('a module that cannot digest keys: the Digest comes from one reveal, and is the same', async () => {
    const uid = 'digest-fallback';
    const skeleton = {
      objectType: OT.SymmetricKey,
      value: {
        keyBlock: {
          keyFormatType: KF.Raw,
          keyCompressionType: undefined,
          keyValue: { kind: 'plain' as const, keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString' as const, value: new Uint8Array(0) }, attribute: [], attributes: undefined },
          cryptographicAlgorithm: CA.AES,
          cryptographicLength: 256,
          keyWrappingData: undefined,
        },
      },
    };
    const generated = await generateObject(h.keys, bindingOf({ uid, objectType: OT.SymmetricKey, tenant: 'default' }), { kind: 'aes', bits: 256 }, skeleton);
    expect(generated.sha256).toHaveLength(32);
    const obj = { uid, tenant: 'default', objectType: OT.SymmetricKey, state: Enum.State.PreActive, version: 0, createdAt: 0, material: generated.material, attributes: [] };
    const before = h.keys.revealCacheStats();
    const fromHsm = await digestOfGenerated(h.keys, obj, generated);
    const mid = h.keys.revealCacheStats();
    const revealed = await digestOfGenerated(h.keys, obj, { ...generated, sha256: undefined });
    const after = h.keys.revealCacheStats();
    expect(mid.hits + mid.misses).toBe(before.hits + before.misses);
    expect(after.hits + after.misses).toBe(mid.hits + mid.misses + 1);
    expect(Buffer.from(revealed!.value).equals(Buffer.from(fromHsm!.value))).toBe(true);
    expect(revealed!.keyFormatType).toBe(KF.Raw);
  });

  const algorithms: [string, number, number, number][] = [
    ['AES-128', CA.AES, 128, 16],
    ['AES-192', CA.AES, 192, 24],
    ['AES-256', CA.AES, 256, 32],
    ['3DES-168', CA.DES3, 168, 24],
    ['3DES-192', CA.DES3, 192, 24],
    ['HMAC-SHA1', CA.HMAC_SHA1, 160, 20],
    ['HMAC-SHA224', CA.HMAC_SHA224, 224, 28],
    ['HMAC-SHA256', CA.HMAC_SHA256, 256, 32],
    ['HMAC-SHA384', CA.HMAC_SHA384, 384, 48],
    ['HMAC-SHA512', CA.HMAC_SHA512, 512, 64],
  ];

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      for (const [label, alg, bits, bytesLen] of algorithms) {
        it(`creates ${label} in the HSM; Get returns ${bytesLen} bytes, not all zero, different each time`, async () => {
          const res = await h.send(version, [ops.createKey(version, alg, bits, M.Encrypt | M.Decrypt), ops.get(undefined), ops.createKey(version, alg, bits, M.Encrypt | M.Decrypt), ops.get(undefined)]);
          const p0 = okPayload(res, 0);
          expect(child(p0, Tag.ObjectType)).toMatchObject({ type: 'Enumeration', value: OT.SymmetricKey });
          const g1 = okPayload(res, 1);
          const g2 = okPayload(res, 3);
          const k1 = materialOf(g1);
          const k2 = materialOf(g2);
          expect(k1.length).toBe(bytesLen);
          expect(k1.some((b) => b !== 0)).toBe(true);
          expect(Buffer.from(k1).equals(Buffer.from(k2))).toBe(false);
          expect(at(g1, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyFormatType)).toMatchObject({ value: KF.Raw });
          expect(at(g1, Tag.SymmetricKey, Tag.KeyBlock, Tag.CryptographicAlgorithm)).toMatchObject({ value: alg });
          expect(at(g1, Tag.SymmetricKey, Tag.KeyBlock, Tag.CryptographicLength)).toMatchObject({ value: bits });
          // The material at rest is the HSM's wrapped envelope, never the key.
          const obj = await stored(uidOf(p0));
          expect(obj?.material?.wrapped.includes(Buffer.from(k1))).toBe(false);
          expect(Buffer.from(obj!.material!.meta).includes(Buffer.from(k1))).toBe(false);
        });
      }

      it('rejects lengths the algorithm does not have', async () => {
        const res = await h.send(version, [ops.createKey(version, CA.AES, 64, M.Encrypt)]);
        expectFailure(res, version.major >= 2 ? 'InvalidAttributeValue' : 'InvalidField');
      });

      it('rejects Create of an object type Create does not make', async () => {
        const res = await h.send(version, [ops.create(version, OT.PrivateKey, [attr.algorithm(CA.RSA), attr.length(2048), attr.mask(M.Sign)])]);
        expectFailure(res, version.major >= 2 ? 'InvalidObjectType' : 'InvalidField');
      });

      it('Create takes the Digest from the HSM without revealing the new key', async () => {
        const before = h.keys.revealCacheStats();
        const res = await h.send(version, [ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt)]);
        uidOf(okPayload(res, 0));
        const after = h.keys.revealCacheStats();
        // Every reveal is a hit or a miss of the reveal cache: none happened.
        expect(after.hits + after.misses).toBe(before.hits + before.misses);
      });

      it('sets the server attributes: Initial Date, Digest of the Raw key, Fresh, Pre-Active', async () => {
        const res = await h.send(version, [ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt), ops.get(undefined)]);
        const uid = uidOf(okPayload(res, 0));
        const key = materialOf(okPayload(res, 1));
        const obj = await stored(uid);
        expect(obj?.state).toBe(Enum.State.PreActive);
        const names = obj!.attributes.map((a) => a.name);
        expect(names).toEqual(expect.arrayContaining(['InitialDate', 'LastChangeDate', 'OriginalCreationDate', 'KeyFormatType', 'Digest']));
        const digest = obj!.attributes.find((a) => a.name === 'Digest')!.value;
        const { createHash } = await import('node:crypto');
        expect(child(digest, Tag.DigestValue)).toMatchObject({ value: new Uint8Array(createHash('sha256').update(key).digest()) });
        expect(child(digest, Tag.KeyFormatType)).toMatchObject({ value: KF.Raw });
        // Served once: Fresh is false now (1.4 §3.34).
        expect(obj!.attributes.find((a) => a.name === 'Fresh')?.value).toMatchObject({ type: 'Boolean', value: false });
      });

      it('is Active at once when the Activation Date has passed (1.4 §3.22 transition 1; TC-REKEY-1-14 step 1)', async () => {
        const past = BigInt(Math.floor(Date.now() / 1000) - 3600);
        const res = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.activationDate(past)])]);
        const obj = await stored(uidOf(okPayload(res)));
        expect(obj?.state).toBe(Enum.State.Active);
      });

      it('Register + Get returns the exact bytes (BL-M-1-21)', async () => {
        const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
        const res = await h.send(version, [ops.registerKey(version, key, M.Encrypt), ops.get(undefined)]);
        okPayload(res, 0);
        expect(Buffer.from(materialOf(okPayload(res, 1))).equals(key)).toBe(true);
      });

      it('Register + Get of a password as Secret Data (SASED-M-2-14 / SASED-M-3-14)', async () => {
        const pw = Buffer.from('2a'.repeat(32), 'hex');
        const res = await h.send(version, [ops.registerSecret(version, pw, KF.Opaque), ops.get(undefined)]);
        const g = okPayload(res, 1);
        expect(Buffer.from(materialOf(g, Tag.SecretData)).equals(pw)).toBe(true);
        expect(at(g, Tag.SecretData, Tag.SecretDataType)).toMatchObject({ value: Enum.SecretDataType.Password });
        expect(at(g, Tag.SecretData, Tag.KeyBlock, Tag.KeyFormatType)).toMatchObject({ value: KF.Opaque });
        // No Digest beside a password: it would allow guessing it offline.
        const obj = await stored(uidOf(okPayload(res, 0)));
        expect(obj!.attributes.some((a) => a.name === 'Digest')).toBe(false);
      });

      it('returns Secret Data registered as Opaque also as Raw (the same bytes)', async () => {
        const pw = Buffer.from('hunter2hunter2');
        const res = await h.send(version, [ops.registerSecret(version, pw, KF.Opaque), ops.get(undefined, [enumeration(Tag.KeyFormatType, KF.Raw)])]);
        const g = okPayload(res, 1);
        expect(at(g, Tag.SecretData, Tag.KeyBlock, Tag.KeyFormatType)).toMatchObject({ value: KF.Raw });
        expect(Buffer.from(materialOf(g, Tag.SecretData)).equals(pw)).toBe(true);
      });

      it('converts Raw → Transparent Symmetric Key and back', async () => {
        const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
        const res = await h.send(version, [
          ops.registerKey(version, key, M.Encrypt),
          ops.get(undefined, [enumeration(Tag.KeyFormatType, KF.TransparentSymmetricKey)]),
        ]);
        const g = okPayload(res, 1);
        expect(at(g, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyFormatType)).toMatchObject({ value: KF.TransparentSymmetricKey });
        const k = at(g, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial, Tag.Key);
        expect(k?.type === 'ByteString' && Buffer.from(k.value).equals(key)).toBe(true);
      });

      it('registers a Transparent Symmetric Key, returns it as registered and as Raw (BL-M-3-21)', async () => {
        const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
        const kb = keyBlock(KF.TransparentSymmetricKey, struct(Tag.KeyMaterial, [bytes(Tag.Key, key)]), CA.AES, 128);
        const res = await h.send(version, [
          ops.register(version, OT.SymmetricKey, struct(Tag.SymmetricKey, [kb]), [attr.mask(M.Decrypt)]),
          ops.get(undefined),
          ops.get(undefined, [enumeration(Tag.KeyFormatType, KF.Raw)]),
        ]);
        const asRegistered = at(okPayload(res, 1), Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial, Tag.Key);
        expect(asRegistered?.type === 'ByteString' && Buffer.from(asRegistered.value).equals(key)).toBe(true);
        expect(Buffer.from(materialOf(okPayload(res, 2))).equals(key)).toBe(true);
        // The algorithm and length came from the Key Block.
        const obj = await stored(uidOf(okPayload(res, 0)));
        expect(obj!.attributes.find((a) => a.name === 'CryptographicAlgorithm')?.value).toMatchObject({ value: CA.AES });
        expect(obj!.attributes.find((a) => a.name === 'CryptographicLength')?.value).toMatchObject({ value: 128 });
      });

      it('refuses conversions it does not define with Key Format Type Not Supported', async () => {
        const res = await h.send(version, [ops.registerKey(version, Buffer.alloc(16, 7), M.Encrypt), ops.get(undefined, [enumeration(Tag.KeyFormatType, KF.PKCS_8)])]);
        expectFailure(res, 'KeyFormatTypeNotSupported', 1);
      });

      it('refuses a Key Wrapping Specification naming an unknown wrapping key with Item Not Found (key-wrapping.test.ts has the rest)', async () => {
        const spec = struct(Tag.KeyWrappingSpecification, [
          enumeration(Tag.WrappingMethod, Enum.WrappingMethod.Encrypt),
          struct(Tag.EncryptionKeyInformation, [{ tag: Tag.UniqueIdentifier, type: 'TextString', value: 'x' }]),
        ]);
        const res = await h.send(version, [ops.registerKey(version, Buffer.alloc(16, 9), M.Encrypt), ops.get(undefined, [spec])]);
        expectFailure(res, version.major >= 2 ? 'ObjectNotFound' : 'ItemNotFound', 1);
      });

      it('refuses a key whose length contradicts its Cryptographic Length', async () => {
        const kb = keyBlock(KF.Raw, bytes(Tag.KeyMaterial, Buffer.alloc(16, 1)), CA.AES, 256);
        const res = await h.send(version, [ops.register(version, OT.SymmetricKey, struct(Tag.SymmetricKey, [kb]), [attr.mask(M.Encrypt)])]);
        expectFailure(res, 'InvalidField');
      });

      it('refuses an Object Type that does not match the object', async () => {
        const kb = keyBlock(KF.Raw, bytes(Tag.KeyMaterial, Buffer.alloc(16, 1)), CA.AES, 128);
        const res = await h.send(version, [ops.register(version, OT.PrivateKey, struct(Tag.SymmetricKey, [kb]), [attr.mask(M.Encrypt)])]);
        expectFailure(res, 'InvalidField');
      });

      it('registers an Opaque Object and returns it (OMOS-M-1)', async () => {
        const value = Buffer.from('53656372657450617373776f7264', 'hex');
        const oo = struct(Tag.OpaqueObject, [enumeration(Tag.OpaqueDataType, 0x80000001), bytes(Tag.OpaqueDataValue, value)]);
        const res = await h.send(version, [ops.register(version, OT.OpaqueObject, oo, [attr.name(`OMOS-${version.major}-${Date.now()}`)]), ops.get(undefined)]);
        const v = at(okPayload(res, 1), Tag.OpaqueObject, Tag.OpaqueDataValue);
        expect(v?.type === 'ByteString' && Buffer.from(v.value).equals(value)).toBe(true);
      });

      it('refuses a second object with the same Name', async () => {
        const name = `dup-${version.major}-${Math.random()}`;
        const first = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.name(name)])]);
        okPayload(first);
        const second = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.name(name)])]);
        expectFailure(second, version.major >= 2 ? 'NonUniqueNameAttribute' : 'InvalidField');
      });
    });
  }

  it('1.x Create requires Cryptographic Algorithm and Cryptographic Usage Mask (1.4 Table 165)', async () => {
    const noMask = await h.send(v14, [ops.create(v14, OT.SymmetricKey, [attr.algorithm(CA.AES), attr.length(128)])]);
    expectFailure(noMask, 'InvalidField');
    const noAlg = await h.send(v14, [ops.create(v14, OT.SymmetricKey, [attr.length(128), attr.mask(M.Encrypt)])]);
    expectFailure(noAlg, 'InvalidField');
  });

  it('2.x Create supplies AES-256 for Encrypt and Decrypt when the client omits them (2.1 Table 28)', async () => {
    const res = await h.send(v21, [ops.create(v21, OT.SymmetricKey, []), ops.get(undefined)]);
    expect(materialOf(okPayload(res, 1)).length).toBe(32);
    const obj = await stored(uidOf(okPayload(res, 0)));
    expect(obj!.attributes.find((a) => a.name === 'CryptographicUsageMask')?.value).toMatchObject({ value: M.Encrypt | M.Decrypt });
  });

  it('creates Secret Data of the requested length (TC-CREATE-SD-1-14)', async () => {
    const res = await h.send(v14, [ops.create(v14, OT.SecretData, [attr.length(80)]), ops.get(undefined)]);
    const g = okPayload(res, 1);
    expect(materialOf(g, Tag.SecretData).length).toBe(10);
    expect(at(g, Tag.SecretData, Tag.KeyBlock, Tag.KeyFormatType)).toMatchObject({ value: KF.Opaque });
  });

  it('1.x Create uses the attributes of a registered Template, the request overriding it (1.4 §4)', async () => {
    const tname = `tmpl-${Math.random()}`;
    const templ = struct(Tag.Template, [
      struct(Tag.Attribute, [{ tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Algorithm' }, enumeration(Tag.AttributeValue, CA.AES)]),
      struct(Tag.Attribute, [{ tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Length' }, { tag: Tag.AttributeValue, type: 'Integer', value: 256 }]),
      struct(Tag.Attribute, [{ tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Usage Mask' }, { tag: Tag.AttributeValue, type: 'Integer', value: M.Encrypt }]),
    ]);
    okPayload(await h.send(v14, [ops.register(v14, OT.Template, templ, [attr.name(tname)])]));
    const templateRef = struct(Tag.Name, [{ tag: Tag.NameValue, type: 'TextString', value: tname }, enumeration(Tag.NameType, Enum.NameType.UninterpretedTextString)]);
    const req = {
      operation: Enum.Operation.Create,
      payload: [
        enumeration(Tag.ObjectType, OT.SymmetricKey),
        struct(Tag.TemplateAttribute, [
          templateRef,
          struct(Tag.Attribute, [{ tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Length' }, { tag: Tag.AttributeValue, type: 'Integer', value: 128 }]),
        ]),
      ],
    };
    const res = await h.send(v14, [req, ops.get(undefined)]);
    expect(materialOf(okPayload(res, 1)).length).toBe(16);
    const missing = await h.send(v14, [
      { operation: Enum.Operation.Create, payload: [enumeration(Tag.ObjectType, OT.SymmetricKey), struct(Tag.TemplateAttribute, [struct(Tag.Name, [{ tag: Tag.NameValue, type: 'TextString', value: 'no-such-template' }, enumeration(Tag.NameType, 1)])])] },
    ]);
    expectFailure(missing, 'ItemNotFound');
  });
});
