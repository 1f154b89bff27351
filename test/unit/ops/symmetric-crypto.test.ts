// Symmetric crypto for Encrypt / Decrypt / MAC (KMIP 1.4 §4.29–4.34, §3.6): parameter
// resolution, cipher plans and known answers. Vectors are typed by hand from the published
// documents: NIST SP 800-38A F.1.1 / F.2.1 / F.5.1 (AES-128 ECB, CBC, CTR, first block), the GCM
// specification (McGrew–Viega) test case 2, RFC 3394 §4.1, RFC 5649 §6, RFC 4231 §4.2 and RFC 2202
// §3 (HMAC test case 1). Triple DES is cross-checked against node:crypto with a fixed key.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { KmipError } from '../../../src/kmip/errors.js';
import type { CryptographicParameters } from '../../../src/kmip/payloads/encrypt.js';
import type { StoredObject } from '../../../src/store/types.js';
import {
  decryptWith,
  decryptionIv,
  encryptWith,
  encryptionIv,
  hmac,
  hmacHash,
  ivToGenerate,
  macMatches,
  planCipher,
  resolveParameters,
} from '../../../src/ops/symmetric-crypto.js';

const BCM = Enum.BlockCipherMode;
const PM = Enum.PaddingMethod;
const CA = Enum.CryptographicAlgorithm;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const params = (p: Partial<CryptographicParameters>): CryptographicParameters => p as CryptographicParameters;

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof KmipError) return err.reason;
    throw err;
  }
  return undefined;
}

const K128 = hex('2b7e151628aed2a6abf7158809cf4f3c');
const P1 = hex('6bc1bee22e409f96e93d7e117393172a');

describe('AES known answers (NIST SP 800-38A, first block)', () => {
  it('ECB-AES128 (F.1.1)', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.ECB }));
    const out = encryptWith(plan, K128, null, P1, undefined);
    expect(out.data.toString('hex')).toBe('3ad77bb40d7a3660a89ecaf32466ef97');
    expect(decryptWith(plan, K128, null, out.data, undefined, undefined)).toEqual(P1);
  });
  it('CBC-AES128 (F.2.1)', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CBC, paddingMethod: PM.None }));
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const out = encryptWith(plan, K128, iv, P1, undefined);
    expect(out.data.toString('hex')).toBe('7649abac8119b246cee98e9b12e9197d');
    expect(decryptWith(plan, K128, iv, out.data, undefined, undefined)).toEqual(P1);
  });
  it('CBC-AES128 with PKCS5 adds a full block of padding to an aligned input', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CBC, paddingMethod: PM.PKCS5 }));
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const out = encryptWith(plan, K128, iv, P1, undefined);
    expect(out.data.length).toBe(32);
    expect(out.data.subarray(0, 16).toString('hex')).toBe('7649abac8119b246cee98e9b12e9197d');
    expect(decryptWith(plan, K128, iv, out.data, undefined, undefined)).toEqual(P1);
  });
  it('CTR-AES128 (F.5.1)', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CTR }));
    const ctr = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
    const out = encryptWith(plan, K128, ctr, P1, undefined);
    expect(out.data.toString('hex')).toBe('874d6191b620e3261bef6864990db6ce');
    // A stream mode takes any length.
    expect(encryptWith(plan, K128, ctr, P1.subarray(0, 5), undefined).data.toString('hex')).toBe('874d6191b6');
  });
});

describe('AES-GCM (GCM specification test case 2)', () => {
  const key = Buffer.alloc(16);
  const iv = Buffer.alloc(12);
  const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.GCM, tagLength: 16 }));
  it('encrypts and tags', () => {
    const out = encryptWith(plan, key, iv, Buffer.alloc(16), undefined);
    expect(out.data.toString('hex')).toBe('0388dace60b6a392f328c2b971b2fe78');
    expect(out.tag?.toString('hex')).toBe('ab6e47d42cec13bdf53a67b21257bddf');
  });
  it('decrypts with the right tag; a wrong tag is Cryptographic Failure', () => {
    const c = hex('0388dace60b6a392f328c2b971b2fe78');
    expect(decryptWith(plan, key, iv, c, undefined, hex('ab6e47d42cec13bdf53a67b21257bddf'))).toEqual(Buffer.alloc(16));
    expect(reasonOf(() => decryptWith(plan, key, iv, c, undefined, hex('006e47d42cec13bdf53a67b21257bddf')))).toBe('CryptographicFailure');
    expect(reasonOf(() => decryptWith(plan, key, iv, c, undefined, undefined))).toBe('MissingData');
  });
  it('binds the additional data and honours a shorter Tag Length', () => {
    const p12 = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.GCM, tagLength: 12 }));
    const aad = Buffer.from('header');
    const out = encryptWith(p12, key, iv, Buffer.from('secret'), aad);
    expect(out.tag?.length).toBe(12);
    expect(decryptWith(p12, key, iv, out.data, aad, out.tag)).toEqual(Buffer.from('secret'));
    expect(reasonOf(() => decryptWith(p12, key, iv, out.data, Buffer.from('other'), out.tag))).toBe('CryptographicFailure');
  });
  it('refuses Tag Lengths GCM does not define', () => {
    for (const tagLength of [0, 1, 11, 17, 32]) expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.GCM, tagLength })))).toBe('InvalidField');
  });
});

describe('AES key wrap', () => {
  it('NIST Key Wrap (RFC 3394 §4.1)', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.NISTKeyWrap }));
    const kek = hex('000102030405060708090a0b0c0d0e0f');
    const data = hex('00112233445566778899aabbccddeeff');
    const { iv, returned } = encryptionIv(plan, undefined, undefined);
    expect(returned).toBe(false);
    const out = encryptWith(plan, kek, iv, data, undefined);
    expect(out.data.toString('hex')).toBe('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
    expect(decryptWith(plan, kek, decryptionIv(plan, undefined), out.data, undefined, undefined)).toEqual(data);
    // Tampered ciphertext fails the integrity check.
    const bad = Buffer.from(out.data);
    bad[0]! ^= 1;
    expect(reasonOf(() => decryptWith(plan, kek, decryptionIv(plan, undefined), bad, undefined, undefined))).toBe('CryptographicFailure');
    expect(reasonOf(() => encryptWith(plan, kek, iv, hex('0011223344556677'), undefined))).toBe('InvalidField');
  });
  it('AES Key Wrap with Padding (RFC 5649 §6)', () => {
    const plan = planCipher(CA.AES, 24, params({ blockCipherMode: BCM.AESKeyWrapPadding }));
    const kek = hex('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8');
    const iv = decryptionIv(plan, undefined);
    expect(encryptWith(plan, kek, iv, hex('c37b7e6492584340bed12207808941155068f738'), undefined).data.toString('hex')).toBe(
      '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a',
    );
    expect(encryptWith(plan, kek, iv, hex('466f7250617369'), undefined).data.toString('hex')).toBe('afbeb0f07dfbf5419200f2ccb50bb24f');
    expect(decryptWith(plan, kek, iv, hex('afbeb0f07dfbf5419200f2ccb50bb24f'), undefined, undefined)).toEqual(hex('466f7250617369'));
  });
});

describe('AES-XTS (IEEE 1619-2007 Annex B, vector 4, first two blocks)', () => {
  // Key1 ‖ Key2, data unit sequence number 0 as the tweak; each block's ciphertext depends only on
  // its own position, so the first 32 bytes of the 512-byte vector are a known answer on their own.
  const key = hex('27182818284590452353602874713526 31415926535897932384626433832795');
  const tweak = Buffer.alloc(16);
  const plain = Buffer.from([...Array(32).keys()]);
  const cipher = hex('27a7479befa1d476489f308cd4cfa6e2 a96e4bbe3208ff25287dd3819616e89c');

  it('encrypts and decrypts with the tweak as IV/Counter/Nonce', () => {
    const plan = planCipher(CA.AES, 32, params({ blockCipherMode: BCM.XTS }));
    expect(plan.cipher).toBe('aes-128-xts');
    expect(encryptWith(plan, key, tweak, plain, undefined).data).toEqual(cipher);
    expect(decryptWith(plan, key, tweak, cipher, undefined, undefined)).toEqual(plain);
    expect(ivToGenerate(plan, undefined)).toBe(16);
  });

  it('ciphertext stealing: 20 bytes in, 20 bytes out, round trip', () => {
    const plan = planCipher(CA.AES, 32, params({ blockCipherMode: BCM.XTS }));
    const data = plain.subarray(0, 20);
    const out = encryptWith(plan, key, tweak, data, undefined).data;
    expect(out.length).toBe(20);
    expect(decryptWith(plan, key, tweak, out, undefined, undefined)).toEqual(data);
  });

  it('refuses keys that are not two AES-128 keys, short data, padding, and equal key halves', () => {
    expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.XTS })))).toBe('InvalidField');
    expect(reasonOf(() => planCipher(CA.AES, 32, params({ blockCipherMode: BCM.XTS, paddingMethod: PM.PKCS5 })))).toBe('InvalidField');
    const plan = planCipher(CA.AES, 32, params({ blockCipherMode: BCM.XTS }));
    expect(reasonOf(() => encryptWith(plan, key, tweak, plain.subarray(0, 15), undefined))).toBe('InvalidField');
    expect(reasonOf(() => encryptWith(plan, Buffer.alloc(32, 7), tweak, plain, undefined))).toBe('CryptographicFailure');
  });
});

describe('Triple DES (cross-checked against node:crypto, fixed key)', () => {
  const key = hex('0123456789abcdef23456789abcdef01456789abcdef0123');
  it('CBC with PKCS5', () => {
    const iv = hex('1234567890abcdef');
    const plan = planCipher(CA.DES3, 24, params({ blockCipherMode: BCM.CBC, paddingMethod: PM.PKCS5 }));
    const data = Buffer.from('The quick brown fox');
    const c = createCipheriv('des-ede3-cbc', key, iv);
    const expected = Buffer.concat([c.update(data), c.final()]);
    const out = encryptWith(plan, key, iv, data, undefined);
    expect(out.data).toEqual(expected);
    expect(decryptWith(plan, key, iv, out.data, undefined, undefined)).toEqual(data);
  });
  it('refuses stream and authenticated modes', () => {
    expect(reasonOf(() => planCipher(CA.DES3, 24, params({ blockCipherMode: BCM.GCM })))).toBe('FeatureNotSupported');
  });
});

describe('plans and parameters', () => {
  it('refuses what the key or mode cannot do', () => {
    expect(reasonOf(() => planCipher(CA.AES, 16, params({})))).toBe('InvalidField');
    expect(reasonOf(() => planCipher(CA.AES, 20, params({ blockCipherMode: BCM.ECB })))).toBe('InvalidField');
    expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.OFB })))).toBe('FeatureNotSupported');
    expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CBC, paddingMethod: PM.OAEP })))).toBe('FeatureNotSupported');
    expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CTR, paddingMethod: PM.PKCS5 })))).toBe('InvalidField');
    expect(reasonOf(() => planCipher(CA.AES, 16, params({ blockCipherMode: BCM.ECB, cryptographicAlgorithm: CA.DES3 })))).toBe('InvalidField');
    expect(reasonOf(() => planCipher(CA.HMAC_SHA256, 32, params({ blockCipherMode: BCM.ECB })))).toBe('FeatureNotSupported');
  });
  it('needs aligned input without padding', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.ECB }));
    expect(reasonOf(() => encryptWith(plan, K128, null, P1.subarray(0, 15), undefined))).toBe('InvalidField');
  });
  it('AAD only with GCM', () => {
    const plan = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.ECB }));
    expect(reasonOf(() => encryptWith(plan, K128, null, P1, Buffer.from('x')))).toBe('InvalidField');
  });
  it('generates IVs of the mode’s size, takes the client’s, and refuses a missing one on decrypt', () => {
    const cbc = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.CBC }));
    expect(ivToGenerate(cbc, undefined)).toBe(16);
    expect(ivToGenerate(cbc, Buffer.alloc(16))).toBe(0);
    expect(encryptionIv(cbc, undefined, Buffer.alloc(16, 1))).toEqual({ iv: Buffer.alloc(16, 1), returned: true });
    expect(encryptionIv(cbc, Buffer.alloc(16, 2), undefined)).toEqual({ iv: Buffer.alloc(16, 2), returned: false });
    expect(reasonOf(() => encryptionIv(cbc, Buffer.alloc(8), undefined))).toBe('InvalidField');
    expect(reasonOf(() => decryptionIv(cbc, undefined))).toBe('InvalidMessage');
    const gcm = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.GCM }));
    expect(ivToGenerate(gcm, undefined)).toBe(12);
    expect(ivToGenerate(planCipher(CA.AES, 16, params({ blockCipherMode: BCM.GCM, ivLength: 128 })), undefined)).toBe(16);
    const ecb = planCipher(CA.AES, 16, params({ blockCipherMode: BCM.ECB }));
    expect(ivToGenerate(ecb, undefined)).toBe(0);
    expect(reasonOf(() => encryptionIv(ecb, Buffer.alloc(16), undefined))).toBe('InvalidField');
  });
  it('uses the request’s parameters, else the key’s stored ones', () => {
    const obj = {
      attributes: [
        {
          name: 'CryptographicParameters',
          index: 0,
          value: { tag: Tag.AttributeValue, type: 'Structure', value: [{ tag: Tag.BlockCipherMode, type: 'Enumeration', value: BCM.CBC }, { tag: Tag.PaddingMethod, type: 'Enumeration', value: PM.PKCS5 }] },
        },
      ],
    } as unknown as StoredObject;
    expect(resolveParameters(undefined, obj)).toMatchObject({ blockCipherMode: BCM.CBC, paddingMethod: PM.PKCS5 });
    expect(resolveParameters(params({ blockCipherMode: BCM.GCM }), obj)).toEqual({ blockCipherMode: BCM.GCM });
    expect(resolveParameters(undefined, { attributes: [] } as unknown as StoredObject)).toEqual({});
  });
});

describe('HMAC (RFC 2202 §3 and RFC 4231 §4.2, test case 1)', () => {
  const key = Buffer.alloc(20, 0x0b);
  const data = Buffer.from('Hi There');
  const cases: [number, string][] = [
    [CA.HMAC_SHA1, 'b617318655057264e28bc0b6fb378c8ef146be00'],
    [CA.HMAC_SHA224, '896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22'],
    [CA.HMAC_SHA256, 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [CA.HMAC_SHA384, 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6'],
    [CA.HMAC_SHA512, '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854'],
  ];
  for (const [alg, expected] of cases) {
    it(Enum.CryptographicAlgorithm[alg as never] ?? String(alg), () => {
      expect(hmac(hmacHash(alg, params({})), key, data).toString('hex')).toBe(expected);
    });
  }
  it('the Cryptographic Parameters algorithm wins; non-HMAC algorithms are refused', () => {
    expect(hmacHash(CA.HMAC_SHA256, params({ cryptographicAlgorithm: CA.HMAC_SHA512 }))).toBe('sha512');
    expect(reasonOf(() => hmacHash(CA.AES, params({})))).toBe('FeatureNotSupported');
    expect(reasonOf(() => hmacHash(undefined, params({})))).toBe('InvalidField');
  });
  it('compares MACs exactly', () => {
    expect(macMatches(hex('0102'), hex('0102'))).toBe(true);
    expect(macMatches(hex('0102'), hex('0103'))).toBe(false);
    expect(macMatches(hex('0102'), hex('01'))).toBe(false);
  });
});
