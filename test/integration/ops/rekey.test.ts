// Re-key (KMIP 1.4 §4.4 Tables 172–173, §11.5; 2.1 §6.1.46): a new key from the HSM, the Name
// moved, links both ways, the Offset applied to the dates, the existing key left as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { StoredAttribute } from '../../../src/store/types.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, child, expectFailure, materialOf, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const S = Enum.State;
const LT = Enum.LinkType;

function nameTexts(attrs: readonly StoredAttribute[]): [number, string][] {
  return attrs
    .filter((a) => a.name === 'Name')
    .map((a) => {
      const v = child(a.value, Tag.NameValue);
      return [a.index, v?.type === 'TextString' ? v.value : ''] as [number, string];
    })
    .sort((x, y) => x[0] - y[0]);
}

function links(attrs: readonly StoredAttribute[]): [number, string][] {
  return attrs
    .filter((a) => a.name === 'Link')
    .map((a) => {
      const t = child(a.value, Tag.LinkType);
      const id = child(a.value, Tag.LinkedObjectIdentifier);
      return [t?.type === 'Enumeration' ? t.value : 0, id?.type === 'TextString' ? id.value : ''] as [number, string];
    });
}

const date = (attrs: readonly StoredAttribute[], name: string): bigint | undefined => {
  const v = attrs.find((a) => a.name === name)?.value;
  return v?.type === 'DateTime' ? v.value : undefined;
};

describeHsm('Re-key', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const stored = async (uid: string) => (await h.stored(uid))!;

  const nowS = () => BigInt(Math.floor(Date.now() / 1000));

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      it('moves the Name to a new HSM-generated key, links both ways, keeps the old key’s state (TC-REKEY-1-14)', async () => {
        const base = `rekey-${version.major}-${Math.random()}`;
        const created = await h.send(version, [
          ops.createKey(version, CA.AES, 128, M.Encrypt | M.Decrypt, [attr.activationDate(nowS() - 3600n), attr.name(`${base}-original`)]),
          ops.get(undefined),
        ]);
        const oldUid = uidOf(okPayload(created, 0));
        const oldKey = materialOf(okPayload(created, 1));
        const res = await h.send(version, [ops.rekey(version, oldUid, undefined, [attr.name(`${base}-first`)]), ops.get(undefined)], { batchOrderOption: true });
        const newUid = uidOf(okPayload(res, 0));
        expect(newUid).not.toBe(oldUid);
        const newKey = materialOf(okPayload(res, 1));
        expect(newKey.length).toBe(16);
        expect(Buffer.from(newKey).equals(Buffer.from(oldKey))).toBe(false);

        const oldObj = await stored(oldUid);
        const newObj = await stored(newUid);
        expect(nameTexts(oldObj.attributes)).toEqual([]);
        expect(nameTexts(newObj.attributes)).toEqual([
          [0, `${base}-original`],
          [1, `${base}-first`],
        ]);
        expect(links(oldObj.attributes)).toContainEqual([LT.ReplacementObjectLink, newUid]);
        expect(links(newObj.attributes)).toEqual([[LT.ReplacedObjectLink, oldUid]]);
        expect(oldObj.state).toBe(S.Active);
        expect(newObj.state).toBe(S.Active); // the Activation Date was copied and has passed
        expect(date(newObj.attributes, 'ActivationDate')).toBe(date(oldObj.attributes, 'ActivationDate'));
        expect(date(newObj.attributes, 'InitialDate')! >= date(oldObj.attributes, 'InitialDate')!).toBe(true);
        const digestOf = (attrs: readonly StoredAttribute[]) => child(attrs.find((a) => a.name === 'Digest')!.value, Tag.DigestValue);
        expect(digestOf(newObj.attributes)).not.toEqual(digestOf(oldObj.attributes));
        expect(newObj.attributes.find((a) => a.name === 'CryptographicUsageMask')?.value).toMatchObject({ value: M.Encrypt | M.Decrypt });
      });

      it('applies the Offset to the replacement’s dates (1.4 Table 172)', async () => {
        const at1 = nowS() - 7200n;
        const created = await h.send(version, [
          ops.createKey(version, CA.AES, 256, M.Encrypt, [
            attr.activationDate(at1),
            attr.processStartDate(at1 + 60n),
            attr.protectStopDate(at1 + 86_400n),
            attr.deactivationDate(at1 + 172_800n),
          ]),
        ]);
        const oldUid = uidOf(okPayload(created));
        const before = nowS();
        const res = await h.send(version, [ops.rekey(version, oldUid, 3600)]);
        const after = nowS();
        const n = (await stored(uidOf(okPayload(res)))).attributes;
        const it2 = date(n, 'InitialDate')!;
        expect(it2 >= before && it2 <= after).toBe(true);
        const at2 = date(n, 'ActivationDate')!;
        expect(at2).toBe(it2 + 3600n);
        const shift = at2 - at1;
        expect(date(n, 'ProcessStartDate')).toBe(at1 + 60n + shift);
        expect(date(n, 'ProtectStopDate')).toBe(at1 + 86_400n + shift);
        expect(date(n, 'DeactivationDate')).toBe(at1 + 172_800n + shift);
        expect((await stored(uidOf(okPayload(res)))).state).toBe(S.PreActive); // activates in an hour
      });

      it('refuses to re-key a key that already has a replacement (2.1 §4.48: one replacement object per key)', async () => {
        const uid = uidOf(okPayload(await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt)])));
        const first = uidOf(okPayload(await h.send(version, [ops.rekey(version, uid)])));
        const again = await h.send(version, [ops.rekey(version, uid)]);
        expectFailure(again, 'IllegalOperation');
        expect(again.batchItems[0]!.resultMessage).toContain(first);
        // The replacement itself can be re-keyed.
        okPayload(await h.send(version, [ops.rekey(version, first)]));
      });

      it('refuses an Offset together with an Activation Date (1.4 §11.5)', async () => {
        const uid = uidOf(okPayload(await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt)])));
        expectFailure(await h.send(version, [ops.rekey(version, uid, 60, [attr.activationDate(nowS())])]), 'InvalidMessage');
      });

      it('re-keys symmetric keys only', async () => {
        const uid = uidOf(okPayload(await h.send(version, [ops.registerSecret(version, Buffer.from('a password'))])));
        expectFailure(await h.send(version, [ops.rekey(version, uid)]), version.major >= 2 ? 'InvalidObjectType' : 'PermissionDenied');
      });

      it('refuses to re-key a destroyed key: Key Value Not Present', async () => {
        const res = await h.send(version, [ops.createKey(version, CA.HMAC_SHA256, 256, M.MACGenerate), ops.destroy()], { batchOrderOption: true });
        expectFailure(await h.send(version, [ops.rekey(version, uidOf(okPayload(res, 0)))]), 'KeyValueNotPresent');
      });
    });
  }
});
