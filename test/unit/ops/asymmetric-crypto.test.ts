// ECDSA signature encodings (RFC 3279 §2.2.3 DER ↔ PKCS#11 r || s), checked against node's own
// converter (dsaEncoding 'der' vs 'ieee-p1363' of one signature), and the signature-plan defaults.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Enum } from '../../../src/kmip/registry.js';
import type { CryptographicParameters } from '../../../src/kmip/payloads/encrypt.js';
import { ecdsaDer, ecdsaRaw, planSignature } from '../../../src/ops/asymmetric-crypto.js';
import { KmipError } from '../../../src/kmip/errors.js';

const HA = Enum.HashingAlgorithm;
const PM = Enum.PaddingMethod;
const params = (p: Partial<CryptographicParameters>) => p as CryptographicParameters;

describe('ECDSA signature encodings', () => {
  for (const [curve, size] of [['prime256v1', 32], ['secp384r1', 48], ['secp521r1', 66]] as const) {
    it(`${curve}: DER and r || s convert both ways as node does`, () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 20; i++) {
        const data = Buffer.from(`message ${i}`);
        // ECDSA is randomized: sign once in P1363 form and let node give the DER of that signature.
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaDer(raw);
        expect(ecdsaRaw(der, size)?.equals(raw)).toBe(true);
        expect(der[0]).toBe(0x30);
      }
    });
  }

  it('rejects what is not a minimal DER ECDSA-Sig-Value', () => {
    expect(ecdsaRaw(Buffer.from('3006020101020101', 'hex'), 32)?.toString('hex')).toBe('00'.repeat(31) + '01' + '00'.repeat(31) + '01');
    expect(ecdsaRaw(Buffer.from('300702010102010100', 'hex'), 32)).toBeUndefined(); // trailing byte
    expect(ecdsaRaw(Buffer.from('30070202000102010100', 'hex'), 32)).toBeUndefined();
    expect(ecdsaRaw(Buffer.from('3006020181020101', 'hex'), 32)).toBeUndefined(); // negative r
    expect(ecdsaRaw(Buffer.from('3106020101020101', 'hex'), 32)).toBeUndefined();
  });
});

describe('signature plans', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

  it('defaults: PKCS#1 v1.5 / ECDSA with SHA-256; raw PKCS#1 over an unnamed digest', () => {
    expect(planSignature(params({}), rsa, false)).toEqual({ scheme: 'pkcs1', hash: HA.SHA_256, saltLength: undefined });
    expect(planSignature(params({}), rsa, true)).toEqual({ scheme: 'pkcs1', hash: undefined, saltLength: undefined });
    expect(planSignature(params({}), ec, false)).toEqual({ scheme: 'ecdsa', hash: HA.SHA_256, saltLength: undefined });
    expect(planSignature(params({ digitalSignatureAlgorithm: Enum.DigitalSignatureAlgorithm.SHA_384WithRSAEncryption }), rsa, false).hash).toBe(HA.SHA_384);
    expect(planSignature(params({ paddingMethod: PM.PSS, hashingAlgorithm: HA.SHA_512 }), rsa, false)).toMatchObject({ scheme: 'pss', hash: HA.SHA_512 });
  });

  it('refuses RSA parameters for an EC key and unknown hashes', () => {
    expect(() => planSignature(params({ cryptographicAlgorithm: Enum.CryptographicAlgorithm.RSA }), ec, false)).toThrow(KmipError);
    expect(() => planSignature(params({ paddingMethod: PM.PSS }), ec, false)).toThrow(KmipError);
    expect(() => planSignature(params({ hashingAlgorithm: HA.MD5 }), rsa, false)).toThrow(KmipError);
  });
});
