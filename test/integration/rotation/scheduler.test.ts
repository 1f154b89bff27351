// Key rotation policies (K8) with a fake clock, against the real executor, a real SQLite file and
// a real SoftHSM2 token: a 30-day policy rotates exactly once at day 30 and again at day 60;
// Locate by Name finds the newest key; Get by the old identifier works within the grace period
// and shows Deactivated after it; an HSM failure leaves the old key untouched and is retried; a
// restart during a due rotation yields exactly one new key; 2.x clients' Rotate attributes.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import { openSqliteStore, type SqliteObjectStore } from '../../../src/store/index.js';
import { sqliteRotationStore } from '../../../src/store/sqlite/rotation.js';
import { createRotationScheduler, type SchedulerClock, type RotationScheduler } from '../../../src/rotation/scheduler.js';
import { findDueKeys } from '../../../src/rotation/due.js';
import type { RotationStore } from '../../../src/rotation/types.js';
import type { ItemEvent } from '../../../src/dispatch/executor.js';
import type { KeyProtector } from '../../../src/hsm/key-protector.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, attributeValues, child, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';
import { bool, req, struct, text } from '../../support/attribute-requests.js';
import { controllableProtector } from '../../support/failing-key-protector.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2027, 0, 1);
const S = Enum.State;
const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;
const log = pino({ level: process.env.KMIPD_TEST_LOG ?? 'silent' });

let nowMs = T0;
const fakeClock: SchedulerClock = { now: () => nowMs, setTimeout: () => 0, clearTimeout: () => undefined };

let h: OpsHarness;
let rotation: RotationStore;
const extraStores: SqliteObjectStore[] = [];
const schedulers: RotationScheduler[] = [];

function scheduler(keys: KeyProtector = h.keys, more: Partial<Parameters<typeof createRotationScheduler>[0]> = {}, store: SqliteObjectStore = h.store): RotationScheduler {
  const s = createRotationScheduler({
    objects: store,
    rotation: store === h.store ? rotation : sqliteRotationStore(store),
    keys,
    log,
    clock: fakeClock,
    owner: `test-${schedulers.length}`,
    backoffBaseMs: 60_000,
    ...more,
  });
  schedulers.push(s);
  return s;
}

async function createNamedKey(name: string, version = v14, more: ReturnType<typeof attr.name>[] = []): Promise<string> {
  const res = await h.send(version, [ops.createKey(version, CA.AES, 256, M.Encrypt | M.Decrypt, [attr.name(name), attr.activationDate(BigInt(nowMs / 1000 - 60)), ...more])]);
  return uidOf(okPayload(res));
}

async function locateByName(name: string): Promise<string[]> {
  const res = await h.send(v14, [req.locate1([struct(Tag.Attribute, [text(Tag.AttributeName, 'Name'), { ...attr.name(name), tag: Tag.AttributeValue }])])]);
  return okPayload(res)
    .filter((n) => n.tag === Tag.UniqueIdentifier)
    .map((n) => n.value as string);
}

async function stateOf(uid: string, version = v14): Promise<number> {
  const res = await h.send(version, [ops.getAttributes(version, uid, ['State'])]);
  const v = attributeValues(okPayload(res), 'State')[0];
  return v?.type === 'Enumeration' ? v.value : -1;
}

async function getWorks(uid: string): Promise<boolean> {
  const res = await h.send(v14, [ops.get(uid)]);
  return res.batchItems[0]?.resultStatus === Enum.ResultStatus.Success;
}

async function countSymmetricKeys(): Promise<number> {
  const res = await h.send(v14, [req.locate1([struct(Tag.Attribute, [text(Tag.AttributeName, 'Object Type'), { tag: Tag.AttributeValue, type: 'Enumeration', value: Enum.ObjectType.SymmetricKey }])])]);
  return okPayload(res).filter((n) => n.tag === Tag.UniqueIdentifier).length;
}

describeHsm('key rotation policies (fake clock)', () => {
  beforeEach(async () => {
    nowMs = T0;
    h = await openOpsHarness({ clock: () => new Date(nowMs) });
    rotation = sqliteRotationStore(h.store);
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    for (const s of extraStores.splice(0)) await s.close();
    await h.close();
  });

  it('a 30-day policy rotates exactly once at day 30 and again at day 60; Name follows the newest key; the old key works through its grace, then is Deactivated', async () => {
    const audit: ItemEvent[] = [];
    const results: string[] = [];
    const sched = scheduler(h.keys, { audit: async (evs) => void audit.push(...evs), onResult: (r) => void results.push(r) });
    const first = await createNamedKey('vol-1');
    await rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 30 * 86400, offsetSeconds: null, automatic: true, graceSeconds: 7 * 86400 }, nowMs);

    nowMs = T0 + 30 * DAY - 1000;
    expect((await sched.tick()).rotated).toHaveLength(0);
    expect(await locateByName('vol-1')).toEqual([first]);

    nowMs = T0 + 30 * DAY;
    const r30 = await sched.tick();
    expect(r30.rotated).toHaveLength(1);
    const second = r30.rotated[0]!.newUid;
    expect(second).not.toBe(first);
    expect(r30.rotated[0]).toMatchObject({ oldUid: first, generation: 1 });
    // Exactly once: further ticks that day and the next do nothing.
    expect((await sched.tick()).rotated).toHaveLength(0);
    nowMs = T0 + 31 * DAY;
    expect((await sched.tick()).rotated).toHaveLength(0);

    // 1.x appliance that looks keys up by Name: gets the new key.
    expect(await locateByName('vol-1')).toEqual([second]);
    // Pinned identifier: still served, still Active within the 7-day grace.
    expect(await getWorks(first)).toBe(true);
    expect(await stateOf(first)).toBe(S.Active);
    expect(await stateOf(second)).toBe(S.Active);

    nowMs = T0 + 37 * DAY;
    expect(await stateOf(first)).toBe(S.Deactivated);
    expect(await getWorks(first)).toBe(true); // Get still answers; the state says it is retired.

    nowMs = T0 + 60 * DAY - 1000;
    expect((await sched.tick()).rotated).toHaveLength(0);
    nowMs = T0 + 60 * DAY;
    const r60 = await sched.tick();
    expect(r60.rotated).toHaveLength(1);
    expect(r60.rotated[0]).toMatchObject({ oldUid: second, generation: 2 });
    const third = r60.rotated[0]!.newUid;
    expect(await locateByName('vol-1')).toEqual([third]);
    expect(await countSymmetricKeys()).toBe(3);

    // 2.x clients see the server-maintained Rotate attributes.
    const attrs = okPayload(await h.send(v21, [ops.getAttributes(v21, third, ['RotateGeneration', 'RotateLatest'])]));
    expect(attributeValues(attrs, 'RotateGeneration')[0]).toMatchObject({ value: 2 });
    expect(attributeValues(attrs, 'RotateLatest')[0]).toMatchObject({ value: true });
    const oldAttrs = okPayload(await h.send(v21, [ops.getAttributes(v21, second, ['RotateLatest', 'RotateDate'])]));
    expect(attributeValues(oldAttrs, 'RotateLatest')[0]).toMatchObject({ value: false });
    expect(attributeValues(oldAttrs, 'RotateDate')[0]).toMatchObject({ value: BigInt((T0 + 60 * DAY) / 1000) });

    expect(await rotation.history()).toEqual([
      expect.objectContaining({ oldUid: first, newUid: second, generation: 1 }),
      expect.objectContaining({ oldUid: second, newUid: third, generation: 2 }),
    ]);
    expect(results).toEqual(['rotated', 'rotated']);
    // Each rotation audited by the scheduler with its policy.
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ operation: Enum.Operation.ReKey, uids: [first, second], status: Enum.ResultStatus.Success });
    expect(audit[0]!.conn.principal.subject).toBe('scheduler');
    expect(audit[0]!.decision?.rule).toMatch(/tenant default: every 30d, automatic, grace 7d/);
  });

  it('an HSM failure leaves the old key untouched and the rotation is retried after a backoff', async () => {
    const keys = controllableProtector(h.keys);
    const results: string[] = [];
    const sched = scheduler(keys, { onResult: (r) => void results.push(r) });
    const uid = await createNamedKey('hsm-fail');
    await rotation.setPolicy({ target: { kind: 'key', tenant: 'default', uid }, intervalSeconds: 3600, offsetSeconds: null, automatic: true, graceSeconds: 0 }, nowMs);
    const before = (await h.stored(uid))!;

    nowMs = T0 + 3600_000;
    keys.failing = true;
    const r1 = await sched.tick();
    expect(r1.failed).toEqual([{ uid, error: 'Cryptographic failure' }]);
    expect(keys.generateCalls).toBe(1);
    const after = (await h.stored(uid))!;
    expect(after).toEqual(before);
    expect(await countSymmetricKeys()).toBe(1);
    expect(await rotation.history()).toEqual([]);
    expect(await rotation.retries()).toEqual([expect.objectContaining({ uid, attempts: 1, nextAttemptAt: nowMs + 60_000 })]);

    // Backing off: not tried again before the retry time, even though the HSM is back.
    keys.failing = false;
    nowMs += 30_000;
    const r2 = await sched.tick();
    expect(r2.skipped).toEqual([uid]);
    expect(keys.generateCalls).toBe(1);

    nowMs += 30_000;
    const r3 = await sched.tick();
    expect(r3.rotated).toHaveLength(1);
    expect(await countSymmetricKeys()).toBe(2);
    expect(await locateByName('hsm-fail')).toEqual([r3.rotated[0]!.newUid]);
    // Grace 0: the old key is Deactivated at once; the key policy moved to the new key.
    expect(await stateOf(uid)).toBe(S.Deactivated);
    expect(await rotation.getPolicy({ kind: 'key', tenant: 'default', uid: r3.rotated[0]!.newUid })).toBeDefined();
    expect(results).toEqual(['failed', 'rotated']);
  });

  it('a restart during a due rotation yields exactly one new key', async () => {
    const uid = await createNamedKey('restart');
    await rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 86400, offsetSeconds: null, automatic: true, graceSeconds: 3600 }, nowMs);
    nowMs = T0 + DAY;

    // Process A claims the key and is stuck inside the HSM call (then "crashes": never heard of again).
    const stuck = controllableProtector(h.keys);
    stuck.hold();
    const a = scheduler(stuck, { leaseMs: 300_000 });
    const aPass = a.tick();
    await stuck.waitingForRelease();

    // The restarted process: its own connection to the same file.
    const store2 = await openSqliteStore({ path: h.dbPath });
    extraStores.push(store2);
    const b = scheduler(h.keys, { leaseMs: 300_000 }, store2);
    expect((await b.tick()).skipped).toEqual([uid]); // A's lease still holds
    nowMs += 300_000;
    const rb = await b.tick();
    expect(rb.rotated).toHaveLength(1);

    // A comes back to life and finishes its HSM call: its commit must lose.
    stuck.release();
    const ra = await aPass;
    expect(ra.rotated).toHaveLength(0);
    expect(ra.conflicts).toEqual([uid]);

    expect(await countSymmetricKeys()).toBe(2);
    expect(await rotation.history()).toHaveLength(1);
    expect(await locateByName('restart')).toEqual([rb.rotated[0]!.newUid]);
  });

  it('2.x clients set Rotate Interval and Rotate Automatic with Add/Set Attribute; 1.x clients cannot name them', async () => {
    const sched = scheduler();
    const uid = await createNamedKey('v2-attrs', v21);
    const interval = (s: number) => ({ tag: Tag.RotateInterval, type: 'Interval' as const, value: s });
    okPayload(await h.send(v21, [req.add2(uid, interval(7200))]));
    okPayload(await h.send(v21, [req.set2(uid, bool(Tag.RotateAutomatic, true))]));
    // Server-maintained ones are read-only for clients.
    const denied = await h.send(v21, [req.set2(uid, { tag: Tag.RotateGeneration, type: 'Integer', value: 5 })]);
    expect(denied.batchItems[0]?.resultStatus).toBe(Enum.ResultStatus.OperationFailed);
    const v1 = await h.send(v14, [req.add1(uid, struct(Tag.Attribute, [text(Tag.AttributeName, 'Rotate Interval'), { tag: Tag.AttributeValue, type: 'Interval', value: 60 }]))]);
    expect(v1.batchItems[0]?.resultStatus).toBe(Enum.ResultStatus.OperationFailed);

    expect(await findDueKeys(h.store, rotation, nowMs, { withinMs: 7200_000 })).toEqual([
      expect.objectContaining({ uid, dueAt: Math.floor(nowMs / 1000) * 1000 + 7200_000, policy: expect.objectContaining({ source: 'attributes' }) }),
    ]);
    nowMs = T0 + 7199_000;
    expect((await sched.tick()).rotated).toHaveLength(0);
    nowMs = T0 + 7200_000;
    const r = await sched.tick();
    expect(r.rotated).toHaveLength(1);
    const next = r.rotated[0]!.newUid;
    // The replacement carries the client's Rotate attributes (ReKey copies them): it rotates in turn.
    const got = okPayload(await h.send(v21, [ops.getAttributes(v21, next, ['RotateInterval', 'RotateAutomatic', 'RotateGeneration'])]));
    expect(attributeValues(got, 'RotateInterval')[0]).toMatchObject({ value: 7200 });
    expect(attributeValues(got, 'RotateAutomatic')[0]).toMatchObject({ value: true });
    expect(attributeValues(got, 'RotateGeneration')[0]).toMatchObject({ value: 1 });
    nowMs = T0 + 2 * 7200_000;
    expect((await sched.tick()).rotated).toEqual([expect.objectContaining({ oldUid: next, generation: 2 })]);
    // Without a grace policy the replaced key keeps its state, as after a client ReKey.
    expect(await stateOf(uid)).toBe(S.Active);
  });

  it('a manual policy lists due keys but does not rotate them; a group policy beats the tenant default', async () => {
    const sched = scheduler();
    const plain = await createNamedKey('plain');
    const grouped = await createNamedKey('grouped', v14, [{ tag: Tag.ObjectGroup, type: 'TextString', value: 'backup' }]);
    await rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 10 * 86400, offsetSeconds: null, automatic: false, graceSeconds: null }, nowMs);
    await rotation.setPolicy({ target: { kind: 'group', tenant: 'default', group: 'backup' }, intervalSeconds: 86400, offsetSeconds: null, automatic: true, graceSeconds: null }, nowMs);
    const due = await findDueKeys(h.store, rotation, nowMs, { withinMs: 10 * DAY });
    expect(due.map((d) => [d.uid, d.policy.source, d.policy.automatic])).toEqual([
      [grouped, 'group', true],
      [plain, 'tenant', false],
    ]);
    nowMs = T0 + 10 * DAY;
    const r = await sched.tick();
    expect(r.rotated.map((x) => x.oldUid)).toEqual([grouped]);
    expect(await locateByName('plain')).toEqual([plain]);
    expect(child(okPayload(await h.send(v14, [ops.get(plain)])), Tag.UniqueIdentifier)).toMatchObject({ value: plain });
  });

  it('archived, date-deactivated and already replaced keys are never due', async () => {
    const archived = await createNamedKey('archived');
    const retired = await createNamedKey('retired', v14, [attr.deactivationDate(BigInt(T0 / 1000 + 3600))]);
    const replaced = await createNamedKey('replaced');
    const live = await createNamedKey('live');
    okPayload(await h.send(v14, [ops.archive(archived)]));
    const rekeyed = uidOf(okPayload(await h.send(v14, [ops.rekey(v14, replaced)])));
    await rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 86400, offsetSeconds: null, automatic: true, graceSeconds: null }, nowMs);
    nowMs = T0 + 86_400_000;
    // The client's ReKey made `rekeyed` at T0: it is due with the others, its predecessor is not.
    expect((await findDueKeys(h.store, rotation, nowMs)).map((d) => d.uid).sort()).toEqual([live, rekeyed].sort());
    okPayload(await h.send(v14, [ops.recover(archived)]));
    expect((await findDueKeys(h.store, rotation, nowMs)).map((d) => d.uid).sort()).toEqual([archived, live, rekeyed].sort());
    expect(retired).toBeDefined();
  });
});

describeHsm('key rotation with an offset (fake clock)', () => {
  beforeEach(async () => {
    nowMs = T0;
    h = await openOpsHarness({ clock: () => new Date(nowMs) });
    rotation = sqliteRotationStore(h.store);
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    await h.close();
  });

  it('the replacement activates after the offset; the grace counts from then, so a key is always Active', async () => {
    const sched = scheduler();
    const uid = await createNamedKey('offset');
    await rotation.setPolicy({ target: { kind: 'key', tenant: 'default', uid }, intervalSeconds: 3600, offsetSeconds: 86400, automatic: true, graceSeconds: 3600 }, nowMs);
    nowMs = T0 + 3600_000;
    const r = await sched.tick();
    const next = r.rotated[0]!.newUid;
    const at = BigInt(nowMs / 1000);
    const newDates = okPayload(await h.send(v21, [ops.getAttributes(v21, next, ['ActivationDate', 'State'])]));
    expect(attributeValues(newDates, 'ActivationDate')[0]).toMatchObject({ value: at + 86400n });
    expect(attributeValues(newDates, 'State')[0]).toMatchObject({ value: S.PreActive });
    const oldDates = okPayload(await h.send(v21, [ops.getAttributes(v21, uid, ['DeactivationDate'])]));
    expect(attributeValues(oldDates, 'DeactivationDate')[0]).toMatchObject({ value: at + 86400n + 3600n });
    nowMs += 86_400_000 + 1000;
    expect(await stateOf(next)).toBe(S.Active);
    expect(await stateOf(uid)).toBe(S.Active);
    nowMs += 3600_000;
    expect(await stateOf(uid)).toBe(S.Deactivated);
  });
});

describe('rotation scheduler timers', () => {
  it('polls on the injected timers and stops cleanly', async () => {
    const timers: { fn: () => void; ms: number }[] = [];
    const clock: SchedulerClock = { now: () => 0, setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined };
    let ticks = 0;
    const store = {
      listPolicies: async () => {
        ticks++;
        return [];
      },
    } as unknown as RotationStore;
    const objects = { begin: () => ({ locate: async () => [], rollback: () => undefined }) } as unknown as SqliteObjectStore;
    const s = createRotationScheduler({ objects, rotation: store, keys: {} as KeyProtector, log, clock, pollMs: 2000 });
    s.start();
    expect(timers.map((t) => t.ms)).toEqual([2000]);
    timers[0]!.fn();
    await new Promise((r) => setImmediate(r));
    expect(ticks).toBe(1);
    expect(timers).toHaveLength(2);
    await s.stop();
    timers[1]!.fn(); // a timer that fires after stop() does not tick
    await new Promise((r) => setImmediate(r));
    expect(ticks).toBe(1);
    expect(timers).toHaveLength(2);
  });
});
