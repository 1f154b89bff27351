// Encrypt, Decrypt, MAC, MAC Verify and RNG Retrieve through the real executor, SQLite store and
// SoftHSM2 token (KMIP 1.4 §4.29–4.35; 2.1 §6.1.11, §6.1.17, §6.1.30, §6.1.31, §6.1.44). Every
// ciphertext is checked against node:crypto computing with the same registered key.
import { createCipheriv, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { BatchItemRequest } from '../../../src/client/request.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, bytes, child, enumeration, expectFailure, int, materialOf, okPayload, ops, struct, uidNode, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const OP = Enum.Operation;
const BCM = Enum.BlockCipherMode;
const PM = Enum.PaddingMethod;
const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;

const bool = (tag: number, value: boolean): TtlvNode => ({ tag, type: 'Boolean', value });

function cryptoParams(mode: number, more: TtlvNode[] = []): TtlvNode {
  return struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, mode), ...more]);
}

interface CryptoFields {
  params?: TtlvNode;
  iv?: Uint8Array;
  aad?: Uint8Array;
  tag?: Uint8Array;
  extra?: TtlvNode[];
}

function cryptoItem(operation: number, uid: string | undefined, data: Uint8Array | undefined, f: CryptoFields = {}): BatchItemRequest {
  const payload: TtlvNode[] = [];
  if (uid !== undefined) payload.push(uidNode(uid));
  if (f.params !== undefined) payload.push(f.params);
  if (data !== undefined) payload.push(bytes(Tag.Data, data));
  if (f.iv !== undefined) payload.push(bytes(Tag.IVCounterNonce, f.iv));
  payload.push(...(f.extra ?? []));
  if (f.aad !== undefined) payload.push(bytes(Tag.AuthenticatedEncryptionAdditionalData, f.aad));
  if (f.tag !== undefined) payload.push(bytes(Tag.AuthenticatedEncryptionTag, f.tag));
  return { operation, payload };
}

const encryptItem = (uid: string | undefined, data: Uint8Array, f?: CryptoFields) => cryptoItem(OP.Encrypt, uid, data, f);
const decryptItem = (uid: string | undefined, data: Uint8Array, f?: CryptoFields) => cryptoItem(OP.Decrypt, uid, data, f);

function bytesOf(payload: readonly TtlvNode[], tag: number): Buffer {
  const n = child(payload, tag);
  if (n?.type !== 'ByteString') throw new Error(`no Byte String ${tag.toString(16)} in the payload`);
  return Buffer.from(n.value);
}

/** node:crypto's answer for the same key. */
function reference(cipher: string, key: Buffer, iv: Buffer | null, data: Buffer, pad: boolean): Buffer {
  const c = createCipheriv(cipher, key, iv);
  c.setAutoPadding(pad);
  return Buffer.concat([c.update(data), c.final()]);
}

describeHsm('Encrypt, Decrypt, MAC, MAC Verify, RNG Retrieve', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** Registers `key` (AES unless told) with `mask`, activates it, returns its uid. */
  async function activeKey(version: KmipVersion, key: Buffer, mask: number, algorithm: number = CA.AES, more: TtlvNode[] = [], tenant = 'default'): Promise<string> {
    const res = await h.send(version, [ops.registerKey(version, key, mask, more, algorithm), ops.activate()], undefined, tenant);
    const uid = uidOf(okPayload(res, 0));
    okPayload(res, 1);
    return uid;
  }

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      const data = Buffer.from('kmipd symmetric round trip, 45 bytes of data.');

      for (const bits of [128, 192, 256]) {
        const key = Buffer.from(Buffer.alloc(bits / 8).map((_, i) => (i * 7 + bits) & 0xff));
        const n = bits;
        const modes: [string, TtlvNode, string, Buffer | null, boolean, Buffer][] = [
          ['ECB, no padding', cryptoParams(BCM.ECB), `aes-${n}-ecb`, null, false, data.subarray(0, 32)],
          ['ECB, PKCS5', cryptoParams(BCM.ECB, [enumeration(Tag.PaddingMethod, PM.PKCS5)]), `aes-${n}-ecb`, null, true, data],
          ['CBC, PKCS5', cryptoParams(BCM.CBC, [enumeration(Tag.PaddingMethod, PM.PKCS5)]), `aes-${n}-cbc`, Buffer.alloc(16, 3), true, data],
          ['CBC, None', cryptoParams(BCM.CBC, [enumeration(Tag.PaddingMethod, PM.None)]), `aes-${n}-cbc`, Buffer.alloc(16, 4), false, data.subarray(0, 32)],
          ['CTR', cryptoParams(BCM.CTR), `aes-${n}-ctr`, Buffer.alloc(16, 5), false, data],
          ['NIST Key Wrap', cryptoParams(BCM.NISTKeyWrap), `id-aes${n}-wrap`, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'), false, data.subarray(0, 24)],
          ['AES Key Wrap Padding', cryptoParams(BCM.AESKeyWrapPadding), `id-aes${n}-wrap-pad`, Buffer.from('a65959a6', 'hex'), false, data.subarray(0, 21)],
        ];
        for (const [label, params, cipher, iv, pad, plain] of modes) {
          it(`AES-${bits} ${label}: matches node:crypto and round-trips`, async () => {
            const uid = await activeKey(version, key, M.Encrypt | M.Decrypt);
            const givenIv = iv !== null && !cipher.startsWith('id-') ? iv : undefined;
            const res = await h.send(version, [encryptItem(uid, plain, { params, iv: givenIv })]);
            const p = okPayload(res);
            const ct = bytesOf(p, Tag.Data);
            expect(ct).toEqual(reference(cipher, key, iv, plain, pad));
            expect(child(p, Tag.IVCounterNonce)).toBeUndefined();
            const back = await h.send(version, [decryptItem(uid, ct, { params, iv: givenIv })]);
            expect(bytesOf(okPayload(back), Tag.Data)).toEqual(plain);
          });
        }

        it(`AES-${bits} GCM with AAD: matches node:crypto; a wrong tag is Cryptographic Failure`, async () => {
          const uid = await activeKey(version, key, M.Encrypt | M.Decrypt);
          const params = cryptoParams(BCM.GCM, [int(Tag.TagLength, 16)]);
          const iv = Buffer.alloc(12, 9);
          const aad = Buffer.from('associated');
          const res = await h.send(version, [encryptItem(uid, data, { params, iv, aad })]);
          const p = okPayload(res);
          const c = createCipheriv(`aes-${n}-gcm` as 'aes-128-gcm', key, iv, { authTagLength: 16 });
          c.setAAD(aad);
          const expected = Buffer.concat([c.update(data), c.final()]);
          expect(bytesOf(p, Tag.Data)).toEqual(expected);
          const tag = bytesOf(p, Tag.AuthenticatedEncryptionTag);
          expect(tag).toEqual(c.getAuthTag());
          const ok = await h.send(version, [decryptItem(uid, expected, { params, iv, aad, tag })]);
          expect(bytesOf(okPayload(ok), Tag.Data)).toEqual(data);
          const badTag = Buffer.from(tag);
          badTag[0]! ^= 0x80;
          expectFailure(await h.send(version, [decryptItem(uid, expected, { params, iv, aad, tag: badTag })]), 'CryptographicFailure');
          expectFailure(await h.send(version, [decryptItem(uid, expected, { params, iv, aad: Buffer.from('other'), tag })]), 'CryptographicFailure');
        });
      }

      it('Triple DES CBC with PKCS5 matches node:crypto', async () => {
        const key = Buffer.from('0123456789abcdef23456789abcdef01456789abcdef0123', 'hex');
        const uid = await activeKey(version, key, M.Encrypt | M.Decrypt, CA.DES3);
        const params = cryptoParams(BCM.CBC, [enumeration(Tag.PaddingMethod, PM.PKCS5)]);
        const iv = Buffer.alloc(8, 1);
        const ct = bytesOf(okPayload(await h.send(version, [encryptItem(uid, data, { params, iv })])), Tag.Data);
        expect(ct).toEqual(reference('des-ede3-cbc', key, iv, data, true));
        expect(bytesOf(okPayload(await h.send(version, [decryptItem(uid, ct, { params, iv })])), Tag.Data)).toEqual(data);
      });

      it('AES-XTS under a created 256-bit key (AX-M-1): the server picks the tweak; node:crypto agrees', async () => {
        const xts = cryptoParams(BCM.XTS);
        const created = await h.send(version, [
          ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt, [xts]),
          ops.activate(),
          ops.get(undefined),
        ]);
        const uid = uidOf(okPayload(created, 0));
        const key = Buffer.from(materialOf(okPayload(created, 2)));
        const p = okPayload(await h.send(version, [encryptItem(uid, data)]));
        const tweak = bytesOf(p, Tag.IVCounterNonce);
        expect(tweak.length).toBe(16);
        const ct = bytesOf(p, Tag.Data);
        expect(ct).toEqual(reference('aes-128-xts', key, tweak, data, false));
        expect(bytesOf(okPayload(await h.send(version, [decryptItem(uid, ct, { iv: tweak })])), Tag.Data)).toEqual(data);
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(15))]), 'InvalidField');
      });

      for (const [label, params, ivLength] of [
        ['CBC', cryptoParams(BCM.CBC, [enumeration(Tag.PaddingMethod, PM.PKCS5)]), 16],
        ['CTR', cryptoParams(BCM.CTR), 16],
        ['GCM', cryptoParams(BCM.GCM), 12],
      ] as const) {
        it(`${label}: a server-generated IV is returned and decrypts`, async () => {
          const key = Buffer.alloc(16, 0x42);
          const uid = await activeKey(version, key, M.Encrypt | M.Decrypt);
          const p = okPayload(await h.send(version, [encryptItem(uid, data, { params })]));
          const iv = bytesOf(p, Tag.IVCounterNonce);
          expect(iv.length).toBe(ivLength);
          const ct = bytesOf(p, Tag.Data);
          const tag = label === 'GCM' ? bytesOf(p, Tag.AuthenticatedEncryptionTag) : undefined;
          const back = await h.send(version, [decryptItem(uid, ct, { params, iv, tag })]);
          expect(bytesOf(okPayload(back), Tag.Data)).toEqual(data);
          // Two encryptions get different IVs.
          const again = okPayload(await h.send(version, [encryptItem(uid, data, { params })]));
          expect(bytesOf(again, Tag.IVCounterNonce).equals(iv)).toBe(false);
        });
      }

      it('uses the key’s Cryptographic Parameters when the request has none; the ID Placeholder names the key', async () => {
        const key = Buffer.alloc(16, 0x11);
        const stored = struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, BCM.ECB)]);
        const res = await h.send(version, [ops.registerKey(version, key, M.Encrypt | M.Decrypt, [stored]), ops.activate(), encryptItem(undefined, data.subarray(0, 16))]);
        expect(bytesOf(okPayload(res, 2), Tag.Data)).toEqual(reference('aes-128-ecb', key, null, data.subarray(0, 16), false));
      });

      it('refuses a CBC decrypt without IV, misaligned data, AAD outside GCM, unsupported modes and orphaned stream pieces', async () => {
        const uid = await activeKey(version, Buffer.alloc(16, 0x22), M.Encrypt | M.Decrypt);
        const cbc = cryptoParams(BCM.CBC);
        expectFailure(await h.send(version, [decryptItem(uid, Buffer.alloc(32), { params: cbc })]), 'InvalidMessage');
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(15), { params: cryptoParams(BCM.ECB) })]), 'InvalidField');
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.ECB), aad: Buffer.alloc(4) })]), 'InvalidField');
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.OFB) })]), 'FeatureNotSupported');
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(16))]), 'InvalidField');
        // Streamed operations: crypto-streams.test.ts. A piece without its Correlation Value:
        const orphan = encryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.ECB), extra: [bool(Tag.InitIndicator, false)] });
        expectFailure(await h.send(version, [orphan]), 'InvalidField');
      });

      it('refuses keys that are not Active or whose usage mask does not allow the operation', async () => {
        const v2 = version.major >= 2;
        const key = Buffer.alloc(16, 0x33);
        const params = cryptoParams(BCM.ECB);
        // Pre-Active.
        const pre = uidOf(okPayload(await h.send(version, [ops.registerKey(version, key, M.Encrypt | M.Decrypt)])));
        expectFailure(await h.send(version, [encryptItem(pre, Buffer.alloc(16), { params })]), v2 ? 'WrongKeyLifecycleState' : 'PermissionDenied');
        // Encrypt only.
        const encOnly = await activeKey(version, key, M.Encrypt);
        okPayload(await h.send(version, [encryptItem(encOnly, Buffer.alloc(16), { params })]));
        expectFailure(await h.send(version, [decryptItem(encOnly, Buffer.alloc(16), { params })]), v2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied');
        // Decrypt only.
        const decOnly = await activeKey(version, key, M.Decrypt);
        expectFailure(await h.send(version, [encryptItem(decOnly, Buffer.alloc(16), { params })]), v2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied');
        // Deactivated (revoked): no longer protects.
        const revoked = await activeKey(version, key, M.Encrypt | M.Decrypt);
        okPayload(await h.send(version, [ops.revoke(revoked, Enum.RevocationReasonCode.CessationOfOperation)]));
        expectFailure(await h.send(version, [encryptItem(revoked, Buffer.alloc(16), { params })]), v2 ? 'WrongKeyLifecycleState' : 'PermissionDenied');
      });

      it('another tenant’s key is not found', async () => {
        const uid = await activeKey(version, Buffer.alloc(16, 0x44), M.Encrypt | M.Decrypt | M.MACGenerate, CA.AES, [], 'tenant-a');
        const notFound = version.major >= 2 ? 'ObjectNotFound' : 'ItemNotFound';
        expectFailure(await h.send(version, [encryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.ECB) })], undefined, 'tenant-b'), notFound);
        expectFailure(await h.send(version, [decryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.ECB) })], undefined, 'tenant-b'), notFound);
        expectFailure(await h.send(version, [cryptoItem(OP.MAC, uid, Buffer.alloc(16))], undefined, 'tenant-b'), notFound);
        okPayload(await h.send(version, [encryptItem(uid, Buffer.alloc(16), { params: cryptoParams(BCM.ECB) })], undefined, 'tenant-a'));
      });

      const hmacs: [string, number, string, number][] = [
        ['HMAC-SHA1', CA.HMAC_SHA1, 'sha1', 20],
        ['HMAC-SHA224', CA.HMAC_SHA224, 'sha224', 28],
        ['HMAC-SHA256', CA.HMAC_SHA256, 'sha256', 32],
        ['HMAC-SHA384', CA.HMAC_SHA384, 'sha384', 48],
        ['HMAC-SHA512', CA.HMAC_SHA512, 'sha512', 64],
      ];
      for (const [label, alg, hash, size] of hmacs) {
        it(`${label}: MAC matches node:crypto; MAC Verify says Valid, then Invalid for a changed MAC`, async () => {
          const key = Buffer.from(Buffer.alloc(size).map((_, i) => i + 1));
          const uid = await activeKey(version, key, M.MACGenerate | M.MACVerify, alg);
          const p = okPayload(await h.send(version, [cryptoItem(OP.MAC, uid, data)]));
          const macData = bytesOf(p, Tag.MACData);
          expect(macData).toEqual(createHmac(hash, key).update(data).digest());
          expect(uidOf(p)).toBe(uid);
          const verify = (mac: Buffer) => cryptoItem(OP.MACVerify, uid, data, { extra: [bytes(Tag.MACData, mac)] });
          const valid = okPayload(await h.send(version, [verify(macData)]));
          expect(child(valid, Tag.ValidityIndicator)).toMatchObject({ value: Enum.ValidityIndicator.Valid });
          const changed = Buffer.from(macData);
          changed[changed.length - 1]! ^= 1;
          const invalid = okPayload(await h.send(version, [verify(changed)]));
          expect(child(invalid, Tag.ValidityIndicator)).toMatchObject({ value: Enum.ValidityIndicator.Invalid });
          const truncated = okPayload(await h.send(version, [verify(macData.subarray(0, 10))]));
          expect(child(truncated, Tag.ValidityIndicator)).toMatchObject({ value: Enum.ValidityIndicator.Invalid });
        });
      }

      it('MAC needs MAC Generate, MAC Verify needs MAC Verify; an AES key cannot MAC', async () => {
        const v2 = version.major >= 2;
        const key = Buffer.alloc(32, 5);
        const genOnly = await activeKey(version, key, M.MACGenerate, CA.HMAC_SHA256);
        const macData = bytesOf(okPayload(await h.send(version, [cryptoItem(OP.MAC, genOnly, data)])), Tag.MACData);
        const verify = cryptoItem(OP.MACVerify, genOnly, data, { extra: [bytes(Tag.MACData, macData)] });
        expectFailure(await h.send(version, [verify]), v2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied');
        const verOnly = await activeKey(version, key, M.MACVerify, CA.HMAC_SHA256);
        expectFailure(await h.send(version, [cryptoItem(OP.MAC, verOnly, data)]), v2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied');
        const aes = await activeKey(version, Buffer.alloc(16, 6), M.MACGenerate);
        expectFailure(await h.send(version, [cryptoItem(OP.MAC, aes, data)]), 'FeatureNotSupported');
        // The Cryptographic Parameters may name the HMAC for a key without one.
        const named = cryptoItem(OP.MAC, aes, data, { params: struct(Tag.CryptographicParameters, [enumeration(Tag.CryptographicAlgorithm, CA.HMAC_SHA256)]) });
        expect(bytesOf(okPayload(await h.send(version, [named])), Tag.MACData)).toEqual(createHmac('sha256', Buffer.alloc(16, 6)).update(data).digest());
      });

      it('RNG Retrieve returns Data Length bytes and refuses lengths out of range', async () => {
        const rng = (n: number): BatchItemRequest => ({ operation: OP.RNGRetrieve, payload: [int(Tag.DataLength, n)] });
        const res = await h.send(version, [rng(1), rng(32), rng(65536)]);
        expect(bytesOf(okPayload(res, 0), Tag.Data).length).toBe(1);
        const a = bytesOf(okPayload(res, 1), Tag.Data);
        expect(a.length).toBe(32);
        expect(bytesOf(okPayload(res, 2), Tag.Data).length).toBe(65536);
        const b = bytesOf(okPayload(await h.send(version, [rng(32)])), Tag.Data);
        expect(a.equals(b)).toBe(false);
        expectFailure(await h.send(version, [rng(0)]), 'InvalidField');
        expectFailure(await h.send(version, [rng(-1)]), 'InvalidField');
        expectFailure(await h.send(version, [rng(65537)]), 'InvalidField');
        expectFailure(await h.send(version, [{ operation: OP.RNGRetrieve, payload: [] }]), 'MissingData');
      });
    });
  }
});
