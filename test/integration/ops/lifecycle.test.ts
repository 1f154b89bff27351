// The key lifecycle through the operations (KMIP 1.4 §3.22 with §4.19–4.23, §11.20–11.24;
// 2.1 §4.57 with §6.1.1, §6.1.4, §6.1.15, §6.1.42, §6.1.44): every transition of Figure 1 that an
// operation causes, the forbidden ones with each version's reason, and what Destroy keeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import type { KmipVersion } from '../../../src/kmip/version.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, expectFailure, int, materialOf, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const S = Enum.State;
const RC = Enum.RevocationReasonCode;

describeHsm('Key lifecycle', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const stored = async (uid: string) => (await h.stored(uid))!;

  async function newKey(version: KmipVersion): Promise<string> {
    return uidOf(okPayload(await h.send(version, [ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt)])));
  }

  /** A key brought into `state` through the operations. */
  async function keyIn(version: KmipVersion, state: number): Promise<string> {
    const uid = await newKey(version);
    const steps: Record<number, ReturnType<typeof ops.activate>[]> = {
      [S.PreActive]: [],
      [S.Active]: [ops.activate(uid)],
      [S.Deactivated]: [ops.activate(uid), ops.revoke(uid, RC.CessationOfOperation)],
      [S.Compromised]: [ops.activate(uid), ops.revoke(uid, RC.KeyCompromise)],
      [S.Destroyed]: [ops.destroy(uid)],
      [S.DestroyedCompromised]: [ops.activate(uid), ops.revoke(uid, RC.KeyCompromise), ops.destroy(uid)],
    };
    for (const step of steps[state]!) okPayload(await h.send(version, [step]));
    expect((await stored(uid)).state).toBe(state);
    return uid;
  }

  const reasons = (version: KmipVersion) =>
    version.major >= 2
      ? { wrongState: 'WrongKeyLifecycleState', destroyed: 'ObjectDestroyed', noValue: 'KeyValueNotPresent', notFound: 'ObjectNotFound' }
      : { wrongState: 'PermissionDenied', destroyed: 'PermissionDenied', noValue: 'IllegalOperation', notFound: 'ItemNotFound' };

  /** [from, operation, to | failure] for every state and operation (1.4 §3.22 Figure 1). */
  const table: [number, string, number | 'wrongState' | 'destroyed'][] = [
    [S.PreActive, 'activate', S.Active], // 4
    [S.PreActive, 'revokeOther', 'wrongState'],
    [S.PreActive, 'revokeCompromise', S.Compromised], // 3
    [S.PreActive, 'destroy', S.Destroyed], // 2
    [S.Active, 'activate', 'wrongState'],
    [S.Active, 'revokeOther', S.Deactivated], // 6
    [S.Active, 'revokeCompromise', S.Compromised], // 5
    [S.Active, 'destroy', 'wrongState'], // SKLC-M-2-14
    [S.Deactivated, 'activate', 'wrongState'],
    [S.Deactivated, 'revokeOther', 'wrongState'],
    [S.Deactivated, 'revokeCompromise', S.Compromised], // 8
    [S.Deactivated, 'destroy', S.Destroyed], // 7
    [S.Compromised, 'activate', 'wrongState'],
    [S.Compromised, 'revokeOther', 'wrongState'],
    [S.Compromised, 'revokeCompromise', 'wrongState'],
    [S.Compromised, 'destroy', S.DestroyedCompromised], // 9
    [S.Destroyed, 'activate', 'wrongState'],
    [S.Destroyed, 'revokeOther', 'wrongState'],
    [S.Destroyed, 'revokeCompromise', S.DestroyedCompromised], // 10
    [S.Destroyed, 'destroy', 'destroyed'],
    [S.DestroyedCompromised, 'activate', 'wrongState'],
    [S.DestroyedCompromised, 'revokeCompromise', 'wrongState'],
    [S.DestroyedCompromised, 'destroy', 'destroyed'],
  ];
  const stateName = (s: number) => Object.entries(S).find(([, v]) => v === s)![0];

  for (const version of [v14, v21]) {
    describe(`KMIP ${version.major}.${version.minor}`, () => {
      for (const [from, op, to] of table) {
        const outcome = typeof to === 'number' ? stateName(to) : reasons(version)[to];
        it(`${stateName(from)} --${op}--> ${outcome}`, async () => {
          const uid = await keyIn(version, from);
          const req =
            op === 'activate'
              ? ops.activate(uid)
              : op === 'destroy'
                ? ops.destroy(uid)
                : ops.revoke(uid, op === 'revokeCompromise' ? RC.KeyCompromise : RC.Superseded);
          const res = await h.send(version, [req]);
          if (typeof to === 'number') {
            expect(uidOf(okPayload(res))).toBe(uid);
            expect((await stored(uid)).state).toBe(to);
          } else {
            expectFailure(res, reasons(version)[to]);
            expect((await stored(uid)).state).toBe(from);
          }
        });
      }

      it('Activate sets the Activation Date; Revoke (other) sets the Deactivation Date and the reason', async () => {
        const uid = await newKey(version);
        okPayload(await h.send(version, [ops.activate(uid), ops.revoke(uid, RC.CessationOfOperation)], { batchOrderOption: true }));
        const obj = await stored(uid);
        const names = obj.attributes.map((a) => a.name);
        expect(names).toEqual(expect.arrayContaining(['ActivationDate', 'DeactivationDate', 'RevocationReason']));
        const reason = obj.attributes.find((a) => a.name === 'RevocationReason')!.value;
        expect(reason.type === 'Structure' && reason.value[0]).toMatchObject({ tag: Tag.RevocationReasonCode, value: RC.CessationOfOperation });
      });

      it('Revoke for compromise records Compromise Date and the given Compromise Occurrence Date (SKLC-M-2-14)', async () => {
        const uid = await keyIn(version, S.Active);
        okPayload(await h.send(version, [ops.revoke(uid, RC.KeyCompromise, 6n)]));
        const obj = await stored(uid);
        expect(obj.state).toBe(S.Compromised);
        expect(obj.attributes.find((a) => a.name === 'CompromiseOccurrenceDate')?.value).toMatchObject({ value: 6n });
        expect(obj.attributes.some((a) => a.name === 'CompromiseDate')).toBe(true);
      });

      it('Revoke without compromise refuses a Compromise Occurrence Date', async () => {
        const uid = await keyIn(version, S.Active);
        expectFailure(await h.send(version, [ops.revoke(uid, RC.Superseded, 6n)]), 'InvalidField');
      });

      it('Get works on a Pre-Active key', async () => {
        const uid = await newKey(version);
        expect(materialOf(okPayload(await h.send(version, [ops.get(uid)]))).length).toBe(32);
      });

      it('destroys a key that was never activated, keeps its attributes, drops its material; Get then fails', async () => {
        const res = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.name(`never-${version.major}-${Math.random()}`)])]);
        const uid = uidOf(okPayload(res));
        const before = await stored(uid);
        okPayload(await h.send(version, [ops.destroy(uid)]));
        const after = await stored(uid);
        expect(after.state).toBe(S.Destroyed);
        expect(after.material).toBeNull();
        for (const a of before.attributes.filter((x) => x.name !== 'LastChangeDate')) {
          expect(after.attributes).toContainEqual(a);
        }
        expect(after.attributes.some((a) => a.name === 'DestroyDate')).toBe(true);
        expectFailure(await h.send(version, [ops.get(uid)]), reasons(version).noValue);
      });

      it('ID Placeholder: Create then Activate, Get, Revoke, Destroy without identifiers', async () => {
        const res = await h.send(
          version,
          [ops.createKey(version, CA.AES, 128, M.Encrypt), ops.activate(), ops.get(undefined), ops.revoke(undefined, RC.Superseded), ops.destroy()],
          { batchOrderOption: true },
        );
        const uid = uidOf(okPayload(res, 0));
        for (let i = 1; i < 5; i++) expect(uidOf(okPayload(res, i))).toBe(uid);
        expect((await stored(uid)).state).toBe(S.Destroyed);
      });

      it('Archive takes an object off-line until Recover', async () => {
        const uid = await newKey(version);
        okPayload(await h.send(version, [ops.archive(uid)]));
        expectFailure(await h.send(version, [ops.get(uid)]), 'ObjectArchived');
        expectFailure(await h.send(version, [ops.activate(uid)]), 'ObjectArchived');
        expectFailure(await h.send(version, [ops.archive(uid)]), 'ObjectArchived');
        okPayload(await h.send(version, [ops.recover(uid)]));
        expect((await stored(uid)).attributes.some((a) => a.name === 'ArchiveDate')).toBe(false);
        okPayload(await h.send(version, [ops.get(uid)]));
      });

      it('Check passes a usage within the mask and refuses one outside it (BL-M-3-21)', async () => {
        const uid = uidOf(okPayload(await h.send(version, [ops.createKey(version, CA.AES, 128, M.Decrypt)])));
        expect(uidOf(okPayload(await h.send(version, [ops.check(uid, [int(Tag.CryptographicUsageMask, M.Decrypt)])])))).toBe(uid);
        expectFailure(
          await h.send(version, [ops.check(uid, [int(Tag.CryptographicUsageMask, M.Encrypt)])]),
          version.major >= 2 ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied',
        );
      });

      it('Check refuses more usage than Usage Limits allow; a refusal empties the ID Placeholder', async () => {
        const res = await h.send(
          version,
          [
            ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.usageLimits(10n)]),
            ops.check(undefined, [{ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: 5n }]),
            ops.check(undefined, [{ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: 11n }]),
            ops.get(undefined),
          ],
          { batchOrderOption: true, batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Continue },
        );
        okPayload(res, 1);
        expectFailure(res, version.major >= 2 ? 'UsageLimitExceeded' : 'PermissionDenied', 2);
        expectFailure(res, 'MissingData', 3);
      });

      it('another tenant’s object is not found by any operation', async () => {
        const uid = await newKey(version);
        const nf = reasons(version).notFound;
        for (const req of [
          ops.get(uid),
          ops.activate(uid),
          ops.revoke(uid, RC.KeyCompromise),
          ops.destroy(uid),
          ops.rekey(version, uid),
          ops.check(uid, [int(Tag.CryptographicUsageMask, M.Encrypt)]),
          ops.archive(uid),
          ops.recover(uid),
        ]) {
          expectFailure(await h.send(version, [req], undefined, 'other-tenant'), nf);
        }
        expect((await stored(uid)).state).toBe(S.PreActive);
      });

      it('Undo rolls a Create back: the created key does not exist afterwards', async () => {
        const byName = async (name: string) => {
          const unit = h.store.begin({ tenant: 'default' });
          try {
            return await unit.locate({ attributes: [{ name: 'Name', value: { ...attr.name(name), tag: Tag.AttributeValue } }] });
          } finally {
            unit.rollback();
          }
        };
        const undone = `undo-${version.major}-${Math.random()}`;
        const res = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.name(undone)]), ops.activate('no-such-object')], {
          batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Undo,
        });
        expect(res.batchItems[0]!.resultStatus).toBe(Enum.ResultStatus.OperationUndone);
        expectFailure(res, reasons(version).notFound, 1);
        expect(await byName(undone)).toEqual([]);
        // The same batch with Continue keeps the key: the lookup above can find one.
        const kept = `kept-${version.major}-${Math.random()}`;
        const res2 = await h.send(version, [ops.createKey(version, CA.AES, 128, M.Encrypt, [attr.name(kept)]), ops.activate('no-such-object')], {
          batchErrorContinuationOption: Enum.BatchErrorContinuationOption.Continue,
        });
        expect(await byName(kept)).toEqual([uidOf(okPayload(res2, 0))]);
      });
    });
  }
});
