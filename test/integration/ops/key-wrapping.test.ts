// Get with a Key Wrapping Specification and Get of a key registered wrapped (KMIP 1.4 §2.1.5–2.1.6,
// §4.11; 2.1 §3.3, §6.1.19) through the real executor, SQLite store and SoftHSM2 token. Every
// wrapped output is unwrapped here with node:crypto (RFC 3394 / RFC 5649 / CBC), never with kmipd.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import {
  at,
  attr,
  bytes,
  child,
  children,
  enumeration,
  expectFailure,
  keyBlock,
  materialOf,
  okPayload,
  ops,
  struct,
  text,
  uidOf,
  v14,
  v21,
} from '../../support/lifecycle-requests.js';

const BCM = Enum.BlockCipherMode;
const PM = Enum.PaddingMethod;
const EO = Enum.EncodingOption;
const M = Mask.CryptographicUsageMask;
const OT = Enum.ObjectType;

const params = (mode: number, more: TtlvNode[] = []): TtlvNode => struct(Tag.CryptographicParameters, [enumeration(Tag.BlockCipherMode, mode), ...more]);

interface SpecOptions {
  params?: TtlvNode;
  encoding?: number;
  names?: string[];
  method?: number;
  mac?: string;
}

function wrappingSpec(kek: string, o: SpecOptions = {}): TtlvNode {
  const info: TtlvNode[] = [text(Tag.UniqueIdentifier, kek)];
  if (o.params !== undefined) info.push(o.params);
  const c: TtlvNode[] = [enumeration(Tag.WrappingMethod, o.method ?? Enum.WrappingMethod.Encrypt), struct(Tag.EncryptionKeyInformation, info)];
  if (o.mac !== undefined) c.push(struct(Tag.MACSignatureKeyInformation, [text(Tag.UniqueIdentifier, o.mac)]));
  for (const n of o.names ?? []) c.push(text(Tag.AttributeName, n));
  if (o.encoding !== undefined) c.push(enumeration(Tag.EncodingOption, o.encoding));
  return struct(Tag.KeyWrappingSpecification, c);
}

/** node:crypto's unwrap / decrypt, independent of kmipd. */
function unwrapNode(cipher: string, kek: Buffer, iv: Buffer | null, wrapped: Uint8Array): Buffer {
  const d = createDecipheriv(cipher, kek, iv);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

/** TTLV Encoding: the Key Value is the wrapped Byte String. */
function wrappedValue(payload: readonly TtlvNode[]): Buffer {
  const kv = at(payload, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue);
  if (kv?.type !== 'ByteString') throw new Error(`Key Value is ${kv?.type}, not a Byte String`);
  return Buffer.from(kv.value);
}

/** No Encoding: the Key Value structure keeps the wrapped bytes as its Key Material (TC-WRAP-3-14, PyKMIP). */
function wrappedMaterial(payload: readonly TtlvNode[]): Buffer {
  expect(at(payload, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue)?.type).toBe('Structure');
  return Buffer.from(materialOf(payload));
}

// RFC 3394 §4.1: 128-bit key data wrapped with a 128-bit KEK.
const RFC3394_KEK = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const RFC3394_KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const RFC3394_WRAPPED = Buffer.from('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5', 'hex');

describeHsm('Get with Key Wrapping Specification; keys registered wrapped', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function activeKey(version: KmipVersion, key: Buffer, mask: number, more: TtlvNode[] = []): Promise<string> {
    const res = await h.send(version, [ops.registerKey(version, key, mask, more), ops.activate()]);
    okPayload(res, 1);
    return uidOf(okPayload(res, 0));
  }

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      it('NIST Key Wrap, No Encoding: the RFC 3394 §4.1 answer, with the Key Wrapping Data naming the KEK', async () => {
        const kek = await activeKey(version, RFC3394_KEK, M.WrapKey, [params(BCM.NISTKeyWrap)]);
        const key = await activeKey(version, RFC3394_KEY, M.Encrypt | M.Decrypt);
        const res = await h.send(version, [ops.get(key, [wrappingSpec(kek, { params: params(BCM.NISTKeyWrap), encoding: EO.NoEncoding })])]);
        const p = okPayload(res);
        expect(wrappedMaterial(p)).toEqual(RFC3394_WRAPPED);
        const kwd = at(p, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyWrappingData)!;
        expect(child(kwd, Tag.WrappingMethod)).toMatchObject({ value: Enum.WrappingMethod.Encrypt });
        expect(at([kwd], Tag.KeyWrappingData, Tag.EncryptionKeyInformation, Tag.UniqueIdentifier)).toMatchObject({ value: kek });
        expect(at([kwd], Tag.KeyWrappingData, Tag.EncryptionKeyInformation, Tag.CryptographicParameters, Tag.BlockCipherMode)).toMatchObject({ value: BCM.NISTKeyWrap });
        expect(child(kwd, Tag.EncodingOption)).toMatchObject({ value: EO.NoEncoding });
      });

      it('AES Key Wrap with Padding, TTLV Encoding with a named attribute: the Key Value structure, unwrapped by node:crypto', async () => {
        const kekBytes = Buffer.alloc(32, 0x41);
        const kek = await activeKey(version, kekBytes, M.WrapKey | M.UnwrapKey, [params(BCM.AESKeyWrapPadding)]);
        const keyBytes = Buffer.alloc(16, 0x17);
        const key = await activeKey(version, keyBytes, M.Encrypt, [attr.name(`wrapped-${version.major}`)]);
        // Parameters left out: the KEK's first Cryptographic Parameters apply.
        const res = await h.send(version, [ops.get(key, [wrappingSpec(kek, { names: ['Name', 'Cryptographic Usage Mask'] })])]);
        const p = okPayload(res);
        const plain = unwrapNode('id-aes256-wrap-pad', kekBytes, Buffer.from('a65959a6', 'hex'), wrappedValue(p));
        const kv = decodeTtlv(plain);
        expect(kv.tag).toBe(Tag.KeyValue);
        expect(child(kv, Tag.KeyMaterial)).toMatchObject({ type: 'ByteString', value: new Uint8Array(keyBytes) });
        if (version.major >= 2) {
          const attrs = child(kv, Tag.Attributes)!;
          expect(child(attrs, Tag.Name)).toBeDefined();
          expect(child(attrs, Tag.CryptographicUsageMask)).toMatchObject({ value: M.Encrypt });
        } else {
          const names = children(kv, Tag.Attribute).map((a) => (child(a, Tag.AttributeName) as { value: string }).value);
          expect(names.sort()).toEqual(['Cryptographic Usage Mask', 'Name']);
        }
        const kwd = at(p, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyWrappingData)!;
        expect(at([kwd], Tag.KeyWrappingData, Tag.EncryptionKeyInformation, Tag.CryptographicParameters, Tag.BlockCipherMode)).toMatchObject({ value: BCM.AESKeyWrapPadding });
      });

      it('CBC: the server chooses the IV and returns it in the Key Wrapping Data', async () => {
        const kekBytes = Buffer.alloc(16, 0x05);
        const cbc = params(BCM.CBC, [enumeration(Tag.PaddingMethod, PM.PKCS5)]);
        const kek = await activeKey(version, kekBytes, M.WrapKey, [cbc]);
        const keyBytes = Buffer.alloc(32, 0x66);
        const key = await activeKey(version, keyBytes, M.Encrypt);
        const p = okPayload(await h.send(version, [ops.get(key, [wrappingSpec(kek, { params: cbc, encoding: EO.NoEncoding })])]));
        const iv = at(p, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyWrappingData, Tag.IVCounterNonce);
        expect(iv?.type).toBe('ByteString');
        expect(unwrapNode('aes-128-cbc', kekBytes, Buffer.from(iv!.value as Uint8Array), wrappedMaterial(p))).toEqual(keyBytes);
      });

      it('a Sensitive key leaves only wrapped', async () => {
        const kekBytes = Buffer.alloc(16, 0x31);
        const kek = await activeKey(version, kekBytes, M.WrapKey, [params(BCM.NISTKeyWrap)]);
        const keyBytes = Buffer.alloc(16, 0x32);
        const key = await activeKey(version, keyBytes, M.Encrypt, [attr.sensitive(true)]);
        expectFailure(await h.send(version, [ops.get(key)]), 'Sensitive');
        const p = okPayload(await h.send(version, [ops.get(key, [wrappingSpec(kek, { encoding: EO.NoEncoding })])]));
        expect(unwrapNode('id-aes128-wrap', kekBytes, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'), wrappedMaterial(p))).toEqual(keyBytes);
      });

      it('refuses (1.4 §11.12) a KEK without Wrap Key or not Active, parameters the KEK lacks, unknown KEKs, non-keys, MAC keys, attributes with No Encoding', async () => {
        const key = await activeKey(version, Buffer.alloc(16, 1), M.Encrypt);
        const noWrap = await activeKey(version, Buffer.alloc(16, 2), M.Encrypt, [params(BCM.NISTKeyWrap)]);
        // The version's reasons (src/ops/refusals.ts): 1.4 says Permission Denied for both.
        const v2 = version.major >= 2;
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(noWrap)])]), v2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied');

        const preActive = okPayload(await h.send(version, [ops.registerKey(version, Buffer.alloc(16, 3), M.WrapKey, [params(BCM.NISTKeyWrap)])]));
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(uidOf(preActive))])]), v2 ? 'WrongKeyLifecycleState' : 'PermissionDenied');

        const kek = await activeKey(version, Buffer.alloc(16, 4), M.WrapKey, [params(BCM.NISTKeyWrap)]);
        // 1.4 §11.12: parameters that do not exist or do not match are Item Not Found.
        const notFound = v2 ? 'ObjectNotFound' : 'ItemNotFound';
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(kek, { params: params(BCM.AESKeyWrapPadding) })])]), notFound);
        const bare = await activeKey(version, Buffer.alloc(16, 5), M.WrapKey);
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(bare)])]), notFound);
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec('no-such-key')])]), notFound);
        const secret = uidOf(okPayload(await h.send(version, [ops.registerSecret(version, Buffer.from('not a key'))])));
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(secret)])]), v2 ? 'InvalidObjectType' : 'IllegalOperation');
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(kek, { mac: kek })])]), 'FeatureNotSupported');
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(kek, { method: Enum.WrappingMethod.MACSign })])]), 'FeatureNotSupported');
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(kek, { encoding: EO.NoEncoding, names: ['Name'] })])]), 'EncodingOptionError');
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(key)])]), 'InvalidField');
      });

      it('a key registered wrapped (TTLV Encoding) comes back as registered, or unwrapped for Not Wrapped; a tampered one fails', async () => {
        const kekBytes = Buffer.alloc(16, 0x77);
        const kek = await activeKey(version, kekBytes, M.WrapKey | M.UnwrapKey, [params(BCM.AESKeyWrapPadding)]);
        const keyBytes = Buffer.alloc(24, 0x12);
        const plainKv = encodeTtlv(struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, keyBytes)]));
        const c = createCipheriv('id-aes128-wrap-pad', kekBytes, Buffer.from('a65959a6', 'hex'));
        const wrapped = Buffer.concat([c.update(plainKv), c.final()]);
        const kwd = struct(Tag.KeyWrappingData, [
          enumeration(Tag.WrappingMethod, Enum.WrappingMethod.Encrypt),
          struct(Tag.EncryptionKeyInformation, [text(Tag.UniqueIdentifier, kek), params(BCM.AESKeyWrapPadding)]),
          enumeration(Tag.EncodingOption, EO.TTLVEncoding),
        ]);
        const register = (value: Buffer) =>
          ops.register(version, OT.SymmetricKey, struct(Tag.SymmetricKey, [
            struct(Tag.KeyBlock, [
              enumeration(Tag.KeyFormatType, Enum.KeyFormatType.Raw),
              bytes(Tag.KeyValue, value),
              enumeration(Tag.CryptographicAlgorithm, Enum.CryptographicAlgorithm.AES),
              { tag: Tag.CryptographicLength, type: 'Integer', value: 192 },
              kwd,
            ]),
          ]), [attr.mask(M.Encrypt)]);
        const uid = uidOf(okPayload(await h.send(version, [register(wrapped)])));
        expect(wrappedValue(okPayload(await h.send(version, [ops.get(uid)])))).toEqual(wrapped);
        const notWrapped = enumeration(Tag.KeyWrapType, Enum.KeyWrapType.NotWrapped);
        const p = okPayload(await h.send(version, [ops.get(uid, [notWrapped])]));
        expect(Buffer.from(materialOf(p))).toEqual(keyBytes);
        expect(at(p, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyWrappingData)).toBeUndefined();

        // Asked for wrapped under another key: unwrapped with the first KEK, wrapped with the second.
        const kek2Bytes = Buffer.alloc(16, 0x78);
        const kek2 = await activeKey(version, kek2Bytes, M.WrapKey, [params(BCM.NISTKeyWrap)]);
        const rewrapped = okPayload(await h.send(version, [ops.get(uid, [wrappingSpec(kek2, { encoding: EO.NoEncoding })])]));
        expect(unwrapNode('id-aes128-wrap', kek2Bytes, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'), wrappedMaterial(rewrapped))).toEqual(keyBytes);

        const tampered = Buffer.from(wrapped);
        tampered[3]! ^= 1;
        const bad = uidOf(okPayload(await h.send(version, [register(tampered)])));
        expectFailure(await h.send(version, [ops.get(bad, [notWrapped])]), 'CryptographicFailure');
      });
    });
  }

  it('TC-WRAP-2-14 shape: registered with No Encoding as Key Material, unwrapped on Get Not Wrapped (RFC 3394 §4.1)', async () => {
    const kek = await activeKey(v14, RFC3394_KEK, M.WrapKey, [params(BCM.NISTKeyWrap)]);
    const kb = keyBlock(Enum.KeyFormatType.Raw, bytes(Tag.KeyMaterial, RFC3394_WRAPPED), Enum.CryptographicAlgorithm.AES, 128);
    const kwd = struct(Tag.KeyWrappingData, [
      enumeration(Tag.WrappingMethod, Enum.WrappingMethod.Encrypt),
      struct(Tag.EncryptionKeyInformation, [text(Tag.UniqueIdentifier, kek), params(BCM.NISTKeyWrap)]),
      enumeration(Tag.EncodingOption, EO.NoEncoding),
    ]);
    const block = { ...kb, value: [...(kb.value as TtlvNode[]), kwd] } as TtlvNode;
    const uid = uidOf(okPayload(await h.send(v14, [ops.register(v14, OT.SymmetricKey, struct(Tag.SymmetricKey, [block]), [attr.mask(M.Encrypt | M.Decrypt)])])));
    const p = okPayload(await h.send(v14, [ops.get(uid, [enumeration(Tag.KeyWrapType, Enum.KeyWrapType.NotWrapped)])]));
    expect(Buffer.from(materialOf(p))).toEqual(RFC3394_KEY);
  });
});
