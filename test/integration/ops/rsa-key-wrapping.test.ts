// Get with a Key Wrapping Specification naming a managed RSA Public Key (KMIP 1.4 §2.1.5–2.1.6,
// §4.11; 2.1 §6.1.19): the key comes back RSA-OAEP-encrypted, which node decrypts with the private
// half; a key registered wrapped under the Public Key (by node) comes back unwrapped on Key Wrap
// Type Not Wrapped through the linked Private Key. Real SoftHSM2 token and SQLite store.
import { constants, createPrivateKey, privateDecrypt, publicEncrypt, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTtlv } from '../../../src/ttlv/index.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { at, attr, bytes, enumeration, expectFailure, materialOf, okPayload, ops, struct, text, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';
import { asym, textOf } from '../../support/asymmetric-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const EO = Enum.EncodingOption;
const nowS = () => BigInt(Math.floor(Date.now() / 1000));
const oaep256 = (): TtlvNode =>
  struct(Tag.CryptographicParameters, [enumeration(Tag.PaddingMethod, Enum.PaddingMethod.OAEP), enumeration(Tag.HashingAlgorithm, Enum.HashingAlgorithm.SHA_256)]);

function wrappingSpec(kek: string, encoding?: number): TtlvNode {
  const c: TtlvNode[] = [enumeration(Tag.WrappingMethod, Enum.WrappingMethod.Encrypt), struct(Tag.EncryptionKeyInformation, [text(Tag.UniqueIdentifier, kek)])];
  if (encoding !== undefined) c.push(enumeration(Tag.EncodingOption, encoding));
  return struct(Tag.KeyWrappingSpecification, c);
}

describeHsm('RSA-OAEP key wrapping under a managed Public Key', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function wrappingPair(version: KmipVersion) {
    const res = await h.send(version, [
      asym.createKeyPair(version, {
        common: [attr.algorithm(CA.RSA), attr.length(2048), attr.activationDate(nowS() - 60n), oaep256()],
        privateKey: [attr.mask(M.UnwrapKey)],
        publicKey: [attr.mask(M.WrapKey)],
      }),
    ]);
    const p = okPayload(res, 0);
    const priv = textOf(p, Tag.PrivateKeyUniqueIdentifier);
    const pub = textOf(p, Tag.PublicKeyUniqueIdentifier);
    const der = materialOf(okPayload(await h.send(version, [ops.get(priv)]), 0), Tag.PrivateKey);
    return { priv, pub, privateKey: createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }) };
  }

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      it('wraps an AES key with RSA-OAEP (SHA-256): node unwraps it with the private key, No Encoding and TTLV Encoding', async () => {
        const { pub, privateKey } = await wrappingPair(version);
        const created = await h.send(version, [ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt), ops.get(undefined)]);
        const keyUid = uidOf(okPayload(created, 0));
        const aes = Buffer.from(materialOf(okPayload(created, 1)));
        const oaep = { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };

        const raw = okPayload(await h.send(version, [ops.get(keyUid, [wrappingSpec(pub, EO.NoEncoding)])]), 0);
        const kv = at(raw, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue);
        expect(kv?.type).toBe('ByteString');
        expect(privateDecrypt(oaep, Buffer.from(kv!.value as Uint8Array)).equals(aes)).toBe(true);
        expect(at(raw, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyWrappingData, Tag.EncryptionKeyInformation, Tag.UniqueIdentifier)?.value).toBe(pub);

        const ttlv = okPayload(await h.send(version, [ops.get(keyUid, [wrappingSpec(pub)])]), 0);
        const inner = decodeTtlv(privateDecrypt(oaep, Buffer.from(at(ttlv, Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue)!.value as Uint8Array)));
        expect(inner.tag).toBe(Tag.KeyValue);
        expect(Buffer.from(at([inner], Tag.KeyValue, Tag.KeyMaterial)!.value as Uint8Array).equals(aes)).toBe(true);
      });

      it('unwraps a key registered wrapped under the Public Key through its linked Private Key', async () => {
        const { pub, privateKey } = await wrappingPair(version);
        const keyBytes = Buffer.alloc(32, 0x5c);
        const wrapped = publicEncrypt({ key: createPublicKey(privateKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, keyBytes);
        const kwd = struct(Tag.KeyWrappingData, [
          enumeration(Tag.WrappingMethod, Enum.WrappingMethod.Encrypt),
          struct(Tag.EncryptionKeyInformation, [text(Tag.UniqueIdentifier, pub), oaep256()]),
          enumeration(Tag.EncodingOption, EO.NoEncoding),
        ]);
        const block = struct(Tag.KeyBlock, [
          enumeration(Tag.KeyFormatType, Enum.KeyFormatType.Raw),
          struct(Tag.KeyValue, [bytes(Tag.KeyMaterial, wrapped)]),
          enumeration(Tag.CryptographicAlgorithm, CA.AES),
          { tag: Tag.CryptographicLength, type: 'Integer', value: 256 },
          kwd,
        ]);
        const uid = uidOf(okPayload(await h.send(version, [ops.register(version, Enum.ObjectType.SymmetricKey, struct(Tag.SymmetricKey, [block]), [attr.mask(M.Encrypt)])]), 0));
        const p = okPayload(await h.send(version, [ops.get(uid, [enumeration(Tag.KeyWrapType, Enum.KeyWrapType.NotWrapped)])]), 0);
        expect(Buffer.from(materialOf(p)).equals(keyBytes)).toBe(true);
      });

      it('refuses a Public Key without Wrap Key in its usage mask, and a Private Key as the wrapping key', async () => {
        const res = await h.send(version, [
          asym.createKeyPair(version, {
            common: [attr.algorithm(CA.RSA), attr.length(2048), attr.activationDate(nowS() - 60n), oaep256()],
            privateKey: [attr.mask(M.Decrypt)],
            publicKey: [attr.mask(M.Encrypt)],
          }),
        ]);
        const p = okPayload(res, 0);
        const key = uidOf(okPayload(await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt)]), 0));
        expectFailure(
          await h.send(version, [ops.get(key, [wrappingSpec(textOf(p, Tag.PublicKeyUniqueIdentifier))])]),
          version.major >= 2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied',
        );
        expectFailure(await h.send(version, [ops.get(key, [wrappingSpec(textOf(p, Tag.PrivateKeyUniqueIdentifier))])]), version.major >= 2 ? 'InvalidObjectType' : 'IllegalOperation');
      });
    });
  }
});
