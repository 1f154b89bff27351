// Create Key Pair and Re-key Key Pair (KMIP 1.4 §4.2, §4.5, §11.3; 2.1 §6.1.9, §6.1.47) against a
// real SoftHSM2 token and SQLite store: the two halves, their links, usage masks, names, the ID
// Placeholder; the private key as stored parses in node and matches the public key.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { StoredAttribute } from '../../../src/store/types.js';
import type { ItemEvent } from '../../../src/dispatch/executor.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, child, expectFailure, materialOf, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';
import { asym, curveParams, textOf } from '../../support/asymmetric-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const LT = Enum.LinkType;
const KF = Enum.KeyFormatType;

function links(attrs: readonly StoredAttribute[]): [number, string][] {
  return attrs
    .filter((a) => a.name === 'Link')
    .map((a) => {
      const t = child(a.value, Tag.LinkType);
      const id = child(a.value, Tag.LinkedObjectIdentifier);
      return [t?.type === 'Enumeration' ? t.value : 0, id?.type === 'TextString' ? id.value : ''] as [number, string];
    });
}

const value = (attrs: readonly StoredAttribute[], name: string): unknown => attrs.find((a) => a.name === name)?.value.value;
const names = (attrs: readonly StoredAttribute[]) =>
  attrs.filter((a) => a.name === 'Name').map((a) => (child(a.value, Tag.NameValue)?.value as string | undefined) ?? '');
const nowS = () => BigInt(Math.floor(Date.now() / 1000));

describeHsm('Create Key Pair and Re-key Key Pair', () => {
  let h: OpsHarness;
  const events: ItemEvent[] = [];
  beforeAll(async () => {
    h = await openOpsHarness({ audit: async (e) => void events.push(...e) });
  });
  afterAll(async () => {
    await h.close();
  });

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      it('creates a linked RSA-2048 pair; the stored PKCS#8 and SPKI are one key; the ID Placeholder is the private key', async () => {
        const base = `ckp-${version.major}-${Math.random()}`;
        const res = await h.send(version, [
          asym.createKeyPair(version, {
            common: [attr.algorithm(CA.RSA), attr.length(2048)],
            privateKey: [attr.mask(M.Sign), attr.name(`${base}-priv`)],
            publicKey: [attr.mask(M.Verify), attr.name(`${base}-pub`)],
          }),
          ops.get(undefined),
        ]);
        const p = okPayload(res, 0);
        const privUid = textOf(p, Tag.PrivateKeyUniqueIdentifier);
        const pubUid = textOf(p, Tag.PublicKeyUniqueIdentifier);
        expect(privUid).not.toBe(pubUid);
        const got = okPayload(res, 1);
        expect(uidOf(got)).toBe(privUid);
        const der = materialOf(got, Tag.PrivateKey);

        const priv = (await h.stored(privUid))!;
        const pub = (await h.stored(pubUid))!;
        expect([priv.objectType, pub.objectType]).toEqual([Enum.ObjectType.PrivateKey, Enum.ObjectType.PublicKey]);
        expect(links(priv.attributes)).toEqual([[LT.PublicKeyLink, pubUid]]);
        expect(links(pub.attributes)).toEqual([[LT.PrivateKeyLink, privUid]]);
        expect([value(priv.attributes, 'CryptographicUsageMask'), value(pub.attributes, 'CryptographicUsageMask')]).toEqual([M.Sign, M.Verify]);
        expect([value(priv.attributes, 'CryptographicAlgorithm'), value(priv.attributes, 'CryptographicLength')]).toEqual([CA.RSA, 2048]);
        expect([value(pub.attributes, 'CryptographicAlgorithm'), value(pub.attributes, 'CryptographicLength')]).toEqual([CA.RSA, 2048]);
        expect([names(priv.attributes), names(pub.attributes)]).toEqual([[`${base}-priv`], [`${base}-pub`]]);
        expect([value(priv.attributes, 'KeyFormatType'), value(pub.attributes, 'KeyFormatType')]).toEqual([KF.PKCS_8, KF.X_509]);
        expect(priv.state).toBe(Enum.State.PreActive);
        // The audit trail names both keys of the pair.
        const audited = events.filter((e) => e.operation === Enum.Operation.CreateKeyPair).at(-1)!;
        expect(audited.uids.sort()).toEqual([privUid, pubUid].sort());

        const pubRes = await h.send(version, [ops.get(pubUid)]);
        const spki = materialOf(okPayload(pubRes, 0), Tag.PublicKey);
        const privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
        const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
        expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
      }, 60_000);

      it('creates EC pairs by Recommended Curve or by length, Active when the Activation Date has passed', async () => {
        for (const [items, curve, bits] of [
          [[attr.algorithm(CA.EC), curveParams(Enum.RecommendedCurve.P_384)], 'secp384r1', 384],
          [[attr.algorithm(CA.ECDSA), attr.length(256)], 'prime256v1', 256],
          [[attr.algorithm(CA.EC), curveParams(Enum.RecommendedCurve.SECP256K1)], 'secp256k1', 256],
        ] as const) {
          const res = await h.send(version, [
            asym.createKeyPair(version, { common: [...items, attr.activationDate(nowS() - 60n)], privateKey: [attr.mask(M.Sign)], publicKey: [attr.mask(M.Verify)] }),
          ]);
          const p = okPayload(res, 0);
          const priv = (await h.stored(textOf(p, Tag.PrivateKeyUniqueIdentifier)))!;
          const pub = (await h.stored(textOf(p, Tag.PublicKeyUniqueIdentifier)))!;
          expect([priv.state, pub.state]).toEqual([Enum.State.Active, Enum.State.Active]);
          expect(value(priv.attributes, 'CryptographicLength')).toBe(bits);
          const spki = materialOf(okPayload(await h.send(version, [ops.get(pub.uid)]), 0), Tag.PublicKey);
          expect(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe(curve);
        }
      });

      it('defaults the usage masks per half when none is given', async () => {
        const res = await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.EC), attr.length(256)] })]);
        const p = okPayload(res, 0);
        const priv = (await h.stored(textOf(p, Tag.PrivateKeyUniqueIdentifier)))!;
        const pub = (await h.stored(textOf(p, Tag.PublicKeyUniqueIdentifier)))!;
        expect([value(priv.attributes, 'CryptographicUsageMask'), value(pub.attributes, 'CryptographicUsageMask')]).toEqual([M.Sign, M.Verify]);
      });

      it('refuses what it cannot generate, and one Name on both halves', async () => {
        const bad = version.major >= 2 ? 'InvalidAttributeValue' : 'InvalidField';
        expectFailure(await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.RSA), attr.length(1024)] })]), bad);
        expectFailure(await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.AES), attr.length(256)] })]), bad);
        expectFailure(await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.EC), attr.length(200)] })]), bad);
        const same = `same-${Math.random()}`;
        expectFailure(
          await h.send(version, [asym.createKeyPair(version, { common: [attr.algorithm(CA.EC), attr.length(256), attr.name(same)] })]),
          version.major >= 2 ? 'NonUniqueNameAttribute' : 'InvalidField',
        );
        if (version.major < 2) expectFailure(await h.send(version, [asym.createKeyPair(version, { common: [attr.length(2048)] })]), 'InvalidField');
      });

      it('re-keys a pair: new halves linked to each other and to their predecessors, names moved', async () => {
        const base = `rkp-${version.major}-${Math.random()}`;
        const created = okPayload(
          await h.send(version, [
            asym.createKeyPair(version, {
              common: [attr.algorithm(CA.EC), attr.length(256), attr.activationDate(nowS() - 60n)],
              privateKey: [attr.mask(M.Sign), attr.name(`${base}-priv`)],
              publicKey: [attr.mask(M.Verify), attr.name(`${base}-pub`)],
            }),
          ]),
        );
        const oldPriv = textOf(created, Tag.PrivateKeyUniqueIdentifier);
        const oldPub = textOf(created, Tag.PublicKeyUniqueIdentifier);
        const res = await h.send(version, [asym.rekeyKeyPair(version, oldPriv), ops.get(undefined)]);
        const p = okPayload(res, 0);
        const newPriv = textOf(p, Tag.PrivateKeyUniqueIdentifier);
        const newPub = textOf(p, Tag.PublicKeyUniqueIdentifier);
        expect(uidOf(okPayload(res, 1))).toBe(newPriv);
        const audited = events.filter((e) => e.operation === Enum.Operation.ReKeyKeyPair).at(-1)!;
        expect(audited.uids.sort()).toEqual([oldPriv, newPriv, newPub].sort());
        const [op, opub, np, npub] = await Promise.all([oldPriv, oldPub, newPriv, newPub].map(async (u) => (await h.stored(u))!));
        expect(links(op!.attributes)).toEqual([[LT.PublicKeyLink, oldPub], [LT.ReplacementObjectLink, newPriv]]);
        expect(links(opub!.attributes)).toEqual([[LT.PrivateKeyLink, oldPriv], [LT.ReplacementObjectLink, newPub]]);
        expect(links(np!.attributes).sort()).toEqual([[LT.PublicKeyLink, newPub], [LT.ReplacedObjectLink, oldPriv]].sort());
        expect(links(npub!.attributes).sort()).toEqual([[LT.PrivateKeyLink, newPriv], [LT.ReplacedObjectLink, oldPub]].sort());
        expect([names(op!.attributes), names(np!.attributes), names(npub!.attributes)]).toEqual([[], [`${base}-priv`], [`${base}-pub`]]);
        expect([np!.state, npub!.state]).toEqual([Enum.State.Active, Enum.State.Active]);
        expect(value(np!.attributes, 'CryptographicUsageMask')).toBe(M.Sign);
        // A new key, not a copy.
        const oldDer = materialOf(okPayload(await h.send(version, [ops.get(oldPriv)]), 0), Tag.PrivateKey);
        const newDer = materialOf(okPayload(await h.send(version, [ops.get(newPriv)]), 0), Tag.PrivateKey);
        expect(Buffer.from(oldDer).equals(Buffer.from(newDer))).toBe(false);
        // Re-key Key Pair of a public key, or of a symmetric key, is refused.
        expectFailure(await h.send(version, [asym.rekeyKeyPair(version, oldPub)]), version.major >= 2 ? 'InvalidObjectType' : 'PermissionDenied');
      });
    });
  }
});
