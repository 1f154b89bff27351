// Key Format Type conversions of private and public keys (KMIP 1.4 §2.1.3, §2.1.7; 2.1 §3.4–3.17):
// every supported pair of formats, for RSA and EC keys made by node, must give back the same key
// (compared as node's own SPKI/PKCS#8 export, which is independent of the converter).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Enum, Tag, enumValueName } from '../../../src/kmip/registry.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import type { ManagedObject } from '../../../src/kmip/objects.js';
import { convertAsymmetric, keyObjectOf } from '../../../src/ops/asymmetric-formats.js';
import { convertFormat } from '../../../src/ops/key-material.js';
import { KmipError } from '../../../src/kmip/errors.js';

const KF = Enum.KeyFormatType;
const OT = Enum.ObjectType;

function objectOf(objectType: number, kft: number, material: TtlvNode): ManagedObject {
  return {
    objectType,
    value: {
      keyBlock: {
        keyFormatType: kft,
        keyCompressionType: undefined,
        keyValue: { kind: 'plain', keyMaterial: material, attribute: [], attributes: undefined },
        cryptographicAlgorithm: undefined,
        cryptographicLength: undefined,
        keyWrappingData: undefined,
      },
    },
  } as ManagedObject;
}

const der = (b: Buffer) => ({ tag: Tag.KeyMaterial, type: 'ByteString' as const, value: new Uint8Array(b) });
const fingerprint = (k: KeyObject) =>
  k.type === 'private' ? k.export({ format: 'der', type: 'pkcs8' }).toString('hex') : k.export({ format: 'der', type: 'spki' }).toString('hex');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecs = (['prime256v1', 'secp384r1', 'secp256k1'] as const).map((c) => [c, generateKeyPairSync('ec', { namedCurve: c })] as const);

const rsaPrivateFormats = [KF.PKCS_1, KF.PKCS_8, KF.TransparentRSAPrivateKey];
const rsaPublicFormats = [KF.PKCS_1, KF.X_509, KF.TransparentRSAPublicKey];
const ecPrivateFormats = [KF.PKCS_8, KF.ECPrivateKey, KF.TransparentECPrivateKey, KF.TransparentECDSAPrivateKey];
const ecPublicFormats = [KF.X_509, KF.TransparentECPublicKey, KF.TransparentECDSAPublicKey];

function roundTrips(label: string, key: KeyObject, objectType: number, formats: number[]) {
  const start = objectOf(objectType, objectType === OT.PrivateKey ? KF.PKCS_8 : KF.X_509, der(key.type === 'private' ? key.export({ format: 'der', type: 'pkcs8' }) : key.export({ format: 'der', type: 'spki' })));
  for (const from of formats) {
    for (const to of formats) {
      it(`${label}: ${enumValueName('KeyFormatType', from)} → ${enumValueName('KeyFormatType', to)} gives the same key`, () => {
        const created: Uint8Array[] = [];
        const inFrom = convertAsymmetric(start, (start.value as any).keyBlock, from, created);
        expect(inFrom, `to ${from}`).toBeDefined();
        const inTo = convertAsymmetric(inFrom!, (inFrom!.value as any).keyBlock, to, created);
        expect(inTo, `to ${to}`).toBeDefined();
        expect((inTo!.value as any).keyBlock.keyFormatType).toBe(to);
        expect(fingerprint(keyObjectOf(inTo!))).toBe(fingerprint(key));
      });
    }
  }
}

describe('asymmetric Key Format Type conversion', () => {
  roundTrips('RSA private', rsa.privateKey, OT.PrivateKey, rsaPrivateFormats);
  roundTrips('RSA public', rsa.publicKey, OT.PublicKey, rsaPublicFormats);
  for (const [curve, pair] of ecs) {
    roundTrips(`EC ${curve} private`, pair.privateKey, OT.PrivateKey, ecPrivateFormats);
    roundTrips(`EC ${curve} public`, pair.publicKey, OT.PublicKey, ecPublicFormats);
  }

  it('writes PKCS#1 and Transparent RSA bytes node reads back independently', () => {
    const obj = objectOf(OT.PrivateKey, KF.PKCS_8, der(rsa.privateKey.export({ format: 'der', type: 'pkcs8' })));
    const out = convertFormat(obj, KF.PKCS_1, []);
    const m = (out.value as any).keyBlock.keyValue.keyMaterial.value as Uint8Array;
    expect(Buffer.from(m).equals(rsa.privateKey.export({ format: 'der', type: 'pkcs1' }))).toBe(true);
    const t = convertFormat(obj, KF.TransparentRSAPrivateKey, []);
    const fields = (t.value as any).keyBlock.keyValue.keyMaterial.value as { tag: number; value: bigint }[];
    const modulus = fields.find((f) => f.tag === Tag.Modulus)!.value;
    expect(modulus.toString(16)).toBe(Buffer.from(rsa.privateKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex').replace(/^0+/, ''));
  });

  it('answers Key Format Type Not Supported for impossible conversions', () => {
    const [, p256] = ecs[0]!;
    const ecPriv = objectOf(OT.PrivateKey, KF.PKCS_8, der(p256.privateKey.export({ format: 'der', type: 'pkcs8' })));
    const rsaPub = objectOf(OT.PublicKey, KF.X_509, der(rsa.publicKey.export({ format: 'der', type: 'spki' })));
    for (const [obj, kft] of [
      [ecPriv, KF.PKCS_1],
      [ecPriv, KF.TransparentRSAPrivateKey],
      [ecPriv, KF.X_509],
      [rsaPub, KF.PKCS_8],
      [rsaPub, KF.TransparentECPublicKey],
      [rsaPub, KF.Raw],
    ] as const) {
      expect(() => convertFormat(obj, kft, []), `${kft}`).toThrow(KmipError);
      try {
        convertFormat(obj, kft, []);
      } catch (e) {
        expect((e as KmipError).reason).toBe('KeyFormatTypeNotSupported');
      }
    }
    // An encrypted PKCS#8 cannot be converted without its passphrase.
    const encrypted = rsa.privateKey.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' });
    expect(() => convertFormat(objectOf(OT.PrivateKey, KF.PKCS_8, der(encrypted)), KF.PKCS_1, [])).toThrow(KmipError);
  });

  it('lists every DER buffer it creates for zeroing', () => {
    const created: Uint8Array[] = [];
    const obj = objectOf(OT.PrivateKey, KF.PKCS_8, der(rsa.privateKey.export({ format: 'der', type: 'pkcs8' })));
    const out = convertFormat(obj, KF.PKCS_1, created);
    expect(created).toContain((out.value as any).keyBlock.keyValue.keyMaterial.value);
  });
});
