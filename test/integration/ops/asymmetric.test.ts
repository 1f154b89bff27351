// Known-answer tests of the asymmetric operations against node:crypto, over a real SoftHSM2 token
// and SQLite store (KMIP 1.4 §4.29–4.32, §4.11; 2.1 §6.1.17, §6.1.11, §6.1.51–6.1.52, §6.1.19):
// what kmipd signs, node verifies and vice versa; node encrypts with RSA-OAEP and kmipd decrypts
// (and the reverse); Get in every format parses in node to the same key. Usage mask, state and
// object type are enforced.
import { constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, sign, verify, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag, enumValueName } from '../../../src/kmip/registry.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, at, bytes, expectFailure, materialOf, okPayload, ops, uidNode, v14, v21 } from '../../support/lifecycle-requests.js';
import { asym, bytesOf, cryptoParams, curveParams, textOf } from '../../support/asymmetric-requests.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import type { BatchItemRequest } from '../../../src/client/request.js';

const CA = Enum.CryptographicAlgorithm;
const HA = Enum.HashingAlgorithm;
const PM = Enum.PaddingMethod;
const KF = Enum.KeyFormatType;
const VI = Enum.ValidityIndicator;
const M = Mask.CryptographicUsageMask;
const nowS = () => BigInt(Math.floor(Date.now() / 1000));
const data = Buffer.from('kmipd signs what node verifies');

const hashName: Record<number, string> = { [HA.SHA_1]: 'sha1', [HA.SHA_256]: 'sha256', [HA.SHA_384]: 'sha384', [HA.SHA_512]: 'sha512' };

interface Pair {
  priv: string;
  pub: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

describeHsm('asymmetric cryptography, known answers against node:crypto', () => {
  let h: OpsHarness;
  const pairs: Record<string, Pair> = {};

  async function makePair(version: KmipVersion, common: ReturnType<typeof attr.algorithm>[], privMask: number, pubMask: number): Promise<Pair> {
    const res = await h.send(version, [
      asym.createKeyPair(version, { common: [...common, attr.activationDate(nowS() - 60n)], privateKey: [attr.mask(privMask)], publicKey: [attr.mask(pubMask)] }),
    ]);
    const p = okPayload(res, 0);
    const priv = textOf(p, Tag.PrivateKeyUniqueIdentifier);
    const pub = textOf(p, Tag.PublicKeyUniqueIdentifier);
    const got = await h.send(version, [ops.get(priv), ops.get(pub)]);
    const privateKey = createPrivateKey({ key: Buffer.from(materialOf(okPayload(got, 0), Tag.PrivateKey)), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: Buffer.from(materialOf(okPayload(got, 1), Tag.PublicKey)), format: 'der', type: 'spki' });
    return { priv, pub, privateKey, publicKey };
  }

  beforeAll(async () => {
    h = await openOpsHarness();
    pairs['rsa'] = await makePair(v14, [attr.algorithm(CA.RSA), attr.length(2048)], M.Sign | M.Decrypt, M.Verify | M.Encrypt);
    pairs['p256'] = await makePair(v21, [attr.algorithm(CA.EC), curveParams(Enum.RecommendedCurve.P_256)], M.Sign, M.Verify);
    pairs['p384'] = await makePair(v21, [attr.algorithm(CA.ECDSA), attr.length(384)], M.Sign, M.Verify);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  const signBy = async (version: KmipVersion, uid: string, params: ReturnType<typeof cryptoParams> | undefined, input: { data?: Uint8Array; digested?: Uint8Array }) =>
    Buffer.from(bytesOf(okPayload(await h.send(version, [asym.sign(uid, params, input)]), 0), Tag.SignatureData));
  const verifyBy = async (version: KmipVersion, uid: string, params: ReturnType<typeof cryptoParams> | undefined, input: { data?: Uint8Array; digested?: Uint8Array }, sig: Uint8Array) => {
    const p = okPayload(await h.send(version, [asym.verify(uid, params, input, sig)]), 0);
    const v = p.find((n) => n.tag === Tag.ValidityIndicator);
    return v?.type === 'Enumeration' ? v.value : undefined;
  };

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      for (const hash of [HA.SHA_1, HA.SHA_256, HA.SHA_384, HA.SHA_512]) {
        const hn = hashName[hash]!;
        it(`RSA PKCS#1 v1.5 with ${hn}: deterministic, equal to node's, and both verify`, async () => {
          const { priv, pub, privateKey, publicKey } = pairs['rsa']!;
          const params = cryptoParams({ algorithm: CA.RSA, padding: PM.PKCS1V1_5, hashing: hash });
          const ours = await signBy(version, priv, params, { data });
          // PKCS#1 v1.5 signatures are deterministic: the known answer is node's own.
          expect(ours.equals(sign(hn, data, privateKey))).toBe(true);
          expect(verify(hn, data, publicKey, ours)).toBe(true);
          expect(await verifyBy(version, pub, params, { data }, sign(hn, data, privateKey))).toBe(VI.Valid);
          const digest = createHash(hn).update(data).digest();
          const fromDigest = await signBy(version, priv, params, { digested: digest });
          expect(fromDigest.equals(ours)).toBe(true);
          expect(await verifyBy(version, pub, params, { digested: digest }, ours)).toBe(VI.Valid);
          const bad = Buffer.from(ours);
          bad[bad.length - 1]! ^= 1;
          expect(await verifyBy(version, pub, params, { data }, bad)).toBe(VI.Invalid);
        });

        it(`RSA-PSS with ${hn}: node verifies ours, kmipd verifies node's, over data and over a digest`, async () => {
          const { priv, pub, privateKey, publicKey } = pairs['rsa']!;
          const params = cryptoParams({ algorithm: CA.RSA, padding: PM.PSS, hashing: hash });
          const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
          const ours = await signBy(version, priv, params, { data });
          expect(verify(hn, data, { key: publicKey, ...pss }, ours)).toBe(true);
          const digest = createHash(hn).update(data).digest();
          const fromDigest = await signBy(version, priv, params, { digested: digest });
          expect(verify(hn, data, { key: publicKey, ...pss }, fromDigest)).toBe(true);
          const theirs = sign(hn, data, { key: privateKey, ...pss });
          expect(await verifyBy(version, pub, params, { data }, theirs)).toBe(VI.Valid);
          expect(await verifyBy(version, pub, params, { digested: digest }, theirs)).toBe(VI.Valid);
          expect(await verifyBy(version, pub, params, { data: Buffer.from('other') }, theirs)).toBe(VI.Invalid);
          // A PKCS#1 v1.5 signature is not a PSS one.
          expect(await verifyBy(version, pub, params, { data }, sign(hn, data, privateKey))).toBe(VI.Invalid);
        });
      }

      for (const [name, hash] of [['p256', HA.SHA_256], ['p384', HA.SHA_384]] as const) {
        it(`ECDSA on ${name} with ${hashName[hash]}: node verifies ours and kmipd verifies node's (DER signatures)`, async () => {
          const { priv, pub, privateKey, publicKey } = pairs[name]!;
          const hn = hashName[hash]!;
          const params = cryptoParams({ algorithm: CA.ECDSA, hashing: hash });
          const ours = await signBy(version, priv, params, { data });
          expect(verify(hn, data, publicKey, ours)).toBe(true);
          const digest = createHash(hn).update(data).digest();
          expect(verify(hn, data, publicKey, await signBy(version, priv, params, { digested: digest }))).toBe(true);
          const theirs = sign(hn, data, privateKey);
          expect(await verifyBy(version, pub, params, { data }, theirs)).toBe(VI.Valid);
          expect(await verifyBy(version, pub, params, { digested: digest }, theirs)).toBe(VI.Valid);
          expect(await verifyBy(version, pub, params, { data: Buffer.from('x') }, theirs)).toBe(VI.Invalid);
          // RSA parameters cannot describe a signature by an EC key: Invalid, not a failure.
          expect(await verifyBy(version, pub, cryptoParams({ algorithm: CA.RSA, padding: PM.PSS, hashing: HA.SHA_1 }), { data }, theirs)).toBe(VI.Invalid);
          // Default parameters: ECDSA with SHA-256.
          if (hash === HA.SHA_256) expect(verify('sha256', data, publicKey, await signBy(version, priv, undefined, { data }))).toBe(true);
        });
      }

      for (const hash of [HA.SHA_1, HA.SHA_256]) {
        it(`RSA-OAEP with ${hashName[hash]}: node encrypts, kmipd decrypts; kmipd encrypts, node decrypts`, async () => {
          const { priv, pub, privateKey, publicKey } = pairs['rsa']!;
          const params = cryptoParams({ algorithm: CA.RSA, padding: PM.OAEP, hashing: hash });
          const secret = Buffer.from('a 256-bit data key, say.........');
          const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashName[hash] }, secret);
          const back = okPayload(await h.send(version, [asym.decrypt(priv, params, ct)]), 0);
          expect(Buffer.from(bytesOf(back, Tag.Data)).equals(secret)).toBe(true);
          const ours = bytesOf(okPayload(await h.send(version, [asym.encrypt(pub, params, secret)]), 0), Tag.Data);
          expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hashName[hash] }, ours).equals(secret)).toBe(true);
          const tampered = Buffer.from(ct);
          tampered[0]! ^= 1;
          expectFailure(await h.send(version, [asym.decrypt(priv, params, tampered)]), 'CryptographicFailure');
        });
      }

      it('Get returns each format, and each parses in node to the same key', async () => {
        for (const [pairName, privFormats, pubFormats] of [
          ['rsa', [KF.PKCS_1, KF.PKCS_8, KF.TransparentRSAPrivateKey], [KF.PKCS_1, KF.X_509, KF.TransparentRSAPublicKey]],
          ['p256', [KF.PKCS_8, KF.ECPrivateKey, KF.TransparentECPrivateKey], [KF.X_509, KF.TransparentECPublicKey]],
        ] as const) {
          const pair = pairs[pairName]!;
          const want = pair.privateKey.export({ format: 'jwk' });
          for (const kft of privFormats) {
            const p = okPayload(await h.send(version, [asym.getAs(pair.priv, kft)]), 0);
            expect(at(p, Tag.PrivateKey, Tag.KeyBlock, Tag.KeyFormatType)?.value, enumValueName('KeyFormatType', kft)).toBe(kft);
            const m = at(p, Tag.PrivateKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial)!;
            let parsed: KeyObject;
            if (m.type === 'ByteString') {
              const type = kft === KF.PKCS_1 ? 'pkcs1' : kft === KF.ECPrivateKey ? 'sec1' : 'pkcs8';
              parsed = createPrivateKey({ key: Buffer.from(m.value), format: 'der', type });
            } else {
              // Transparent: the private scalar / exponent must be the key's.
              const field = m.type === 'Structure' ? m.value.find((c) => c.tag === (pairName === 'rsa' ? Tag.PrivateExponent : Tag.D)) : undefined;
              const expected = BigInt(`0x${Buffer.from(pairName === 'rsa' ? want.d! : want.d!, 'base64url').toString('hex')}`);
              expect(field?.value).toBe(expected);
              continue;
            }
            expect(parsed.export({ format: 'jwk' })).toEqual(want);
          }
          const wantPub = pair.publicKey.export({ format: 'der', type: 'spki' });
          for (const kft of pubFormats) {
            const p = okPayload(await h.send(version, [asym.getAs(pair.pub, kft)]), 0);
            const m = at(p, Tag.PublicKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial)!;
            if (m.type === 'ByteString') {
              const parsed = createPublicKey({ key: Buffer.from(m.value), format: 'der', type: kft === KF.PKCS_1 ? 'pkcs1' : 'spki' });
              expect(parsed.export({ format: 'der', type: 'spki' }).equals(wantPub)).toBe(true);
            } else if (pairName === 'p256') {
              const q = m.type === 'Structure' ? m.value.find((c) => c.tag === Tag.QString) : undefined;
              const jwk = pair.publicKey.export({ format: 'jwk' });
              const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
              expect(Buffer.from(q!.value as Uint8Array).equals(point)).toBe(true);
            } else {
              const n = m.type === 'Structure' ? m.value.find((c) => c.tag === Tag.Modulus) : undefined;
              expect(n?.value).toBe(BigInt(`0x${Buffer.from(pair.publicKey.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`));
            }
          }
          expectFailure(await h.send(version, [asym.getAs(pair.pub, KF.PKCS_8)]), 'KeyFormatTypeNotSupported');
        }
        expectFailure(await h.send(version, [asym.getAs(pairs['p256']!.priv, KF.PKCS_1)]), 'KeyFormatTypeNotSupported');
      });

      it('enforces the usage mask, the state and the object type', async () => {
        const { priv, pub } = pairs['p256']!;
        const denied = version.major >= 2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied';
        // p256 may Sign and Verify only.
        expectFailure(await h.send(version, [asym.encrypt(pub, undefined, Buffer.from('x'))]), denied);
        // Sign with the public key, verify with the private key: wrong object type.
        const wrongType = version.major >= 2 ? 'InvalidObjectType' : 'IllegalOperation';
        expectFailure(await h.send(version, [asym.sign(pub, undefined, { data })]), wrongType);
        expectFailure(await h.send(version, [asym.verify(priv, undefined, { data }, Buffer.alloc(8))]), wrongType);
        // A Pre-Active key does not sign.
        const res = await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.EC), attr.length(256)], privateKey: [attr.mask(M.Sign)], publicKey: [attr.mask(M.Verify)] })]);
        const preActive = textOf(okPayload(res, 0), Tag.PrivateKeyUniqueIdentifier);
        expectFailure(await h.send(version, [asym.sign(preActive, undefined, { data })]), version.major >= 2 ? 'WrongKeyLifecycleState' : 'PermissionDenied');
        // Data and Digested Data together, or neither.
        expectFailure(await h.send(version, [asym.sign(priv, undefined, { data, digested: data })]), 'InvalidField');
        expectFailure(await h.send(version, [asym.sign(priv, undefined, {})]), 'MissingData');
      });
    });
  }

  describe('streamed Sign and Signature Verify (Init/Final Indicator, Correlation Value)', () => {
    const piece = (operation: number, payload: TtlvNode[]): BatchItemRequest => ({ operation, payload });
    const correlationOf = (p: TtlvNode[]) => bytesOf(p, Tag.CorrelationValue);
    const flag = (tag: number): TtlvNode => ({ tag, type: 'Boolean', value: true });

    for (const [name, params, nodeOpts] of [
      ['RSA-PSS SHA-256', cryptoParams({ algorithm: CA.RSA, padding: PM.PSS, hashing: HA.SHA_256 }), { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }],
      ['ECDSA SHA-256', cryptoParams({ algorithm: CA.ECDSA, hashing: HA.SHA_256 }), {}],
    ] as const) {
      it(`${name}: three pieces signed by kmipd verify in node; node's signature verifies in a kmipd stream`, async () => {
        const pair = name.startsWith('RSA') ? pairs['rsa']! : pairs['p256']!;
        const parts = [Buffer.from('first piece, '), Buffer.from('second, '), Buffer.from('and the last')];
        const whole = Buffer.concat(parts);
        const OP = Enum.Operation;
        const first = okPayload(await h.send(v14, [piece(OP.Sign, [uidNode(pair.priv), params, bytes(Tag.Data, parts[0]!), flag(Tag.InitIndicator)])]), 0);
        const corr = correlationOf(first);
        expect(first.some((n) => n.tag === Tag.SignatureData)).toBe(false);
        okPayload(await h.send(v14, [piece(OP.Sign, [bytes(Tag.Data, parts[1]!), bytes(Tag.CorrelationValue, corr)])]), 0);
        const last = okPayload(await h.send(v14, [piece(OP.Sign, [bytes(Tag.Data, parts[2]!), bytes(Tag.CorrelationValue, corr), flag(Tag.FinalIndicator)])]), 0);
        expect(last.some((n) => n.tag === Tag.CorrelationValue)).toBe(false);
        const sig = bytesOf(last, Tag.SignatureData);
        expect(verify('sha256', whole, { key: pair.publicKey, ...nodeOpts }, sig)).toBe(true);
        // The stream is finished: its Correlation Value is no longer known.
        expectFailure(await h.send(v14, [piece(OP.Sign, [bytes(Tag.Data, parts[0]!), bytes(Tag.CorrelationValue, corr)])]), 'InvalidField');

        const theirs = sign('sha256', whole, { key: pair.privateKey, ...nodeOpts });
        for (const [signature, expected] of [[theirs, VI.Valid], [Buffer.from(theirs).fill(1, 10, 11), VI.Invalid]] as const) {
          const v1 = okPayload(await h.send(v14, [piece(OP.SignatureVerify, [uidNode(pair.pub), params, bytes(Tag.Data, parts[0]!), bytes(Tag.SignatureData, signature), flag(Tag.InitIndicator)])]), 0);
          const c = correlationOf(v1);
          okPayload(await h.send(v14, [piece(OP.SignatureVerify, [bytes(Tag.Data, parts[1]!), bytes(Tag.CorrelationValue, c)])]), 0);
          const done = okPayload(await h.send(v14, [piece(OP.SignatureVerify, [bytes(Tag.Data, parts[2]!), bytes(Tag.CorrelationValue, c), flag(Tag.FinalIndicator)])]), 0);
          expect(done.find((n) => n.tag === Tag.ValidityIndicator)?.value).toBe(expected);
        }
      });
    }
  });
});

