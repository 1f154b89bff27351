// The rotation store (K8) on SQLite: policies per key, group and tenant; claims with a lease taken
// once across two connections to one file; completeInUnit() commits with the unit, all or nothing.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openSqliteStore, StoreConflict, type SqliteObjectStore } from '../../../src/store/index.js';
import { sqliteRotationStore } from '../../../src/store/sqlite/rotation.js';
import type { RotationStore } from '../../../src/rotation/types.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;
const open: SqliteObjectStore[] = [];

async function openBoth(): Promise<{ store: SqliteObjectStore; rotation: RotationStore }> {
  const store = await openSqliteStore({ path: tmp.file('rot.sqlite') });
  open.push(store);
  return { store, rotation: sqliteRotationStore(store) };
}

beforeEach(() => {
  tmp = tempDir();
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  tmp.remove();
});

it('sets, replaces, lists and clears policies for a key, a group and a tenant', async () => {
  const { rotation } = await openBoth();
  await rotation.setPolicy({ target: { kind: 'tenant', tenant: 't' }, intervalSeconds: 30 * 86400, offsetSeconds: null, automatic: true, graceSeconds: 7 * 86400 }, 1000);
  await rotation.setPolicy({ target: { kind: 'group', tenant: 't', group: 'backup' }, intervalSeconds: 3600, offsetSeconds: 60, automatic: false, graceSeconds: null }, 1000);
  await rotation.setPolicy({ target: { kind: 'key', tenant: 't', uid: 'k1' }, intervalSeconds: 10, offsetSeconds: null, automatic: true, graceSeconds: 5 }, 1000);
  await rotation.setPolicy({ target: { kind: 'key', tenant: 't', uid: 'k1' }, intervalSeconds: 20, offsetSeconds: null, automatic: true, graceSeconds: 5 }, 2000);

  const all = await rotation.listPolicies();
  expect(all.map((p) => p.target.kind)).toEqual(['key', 'group', 'tenant']);
  expect(all[0]).toMatchObject({ intervalSeconds: 20, updatedAt: 2000 });
  expect(await rotation.getPolicy({ kind: 'group', tenant: 't', group: 'backup' })).toMatchObject({ offsetSeconds: 60, automatic: false, graceSeconds: null });
  expect(await rotation.listPolicies('other')).toEqual([]);
  expect(await rotation.clearPolicy({ kind: 'key', tenant: 't', uid: 'k1' })).toBe(true);
  expect(await rotation.clearPolicy({ kind: 'key', tenant: 't', uid: 'k1' })).toBe(false);
  expect(await rotation.listPolicies('t')).toHaveLength(2);
  await expect(
    rotation.setPolicy({ target: { kind: 'tenant', tenant: 't' }, intervalSeconds: 0, offsetSeconds: null, automatic: true, graceSeconds: null }, 1),
  ).rejects.toThrow(/positive/);
});

it('a claim is taken once across two connections; an expired lease or a finished backoff makes it claimable again', async () => {
  const a = await openBoth();
  const b = await openBoth();
  const key = { uid: 'k1', tenant: 't' };
  const [ca, cb] = await Promise.all([a.rotation.claim(key, 'A', 1000, 500), b.rotation.claim(key, 'B', 1000, 500)]);
  expect([ca, cb].filter((c) => c !== undefined)).toHaveLength(1);
  const winner = (ca ?? cb)!;
  const loser = winner.owner === 'A' ? b : a;
  const loserName = winner.owner === 'A' ? 'B' : 'A';
  expect(await loser.rotation.claim(key, loserName, 1499, 500)).toBeUndefined();
  // The winner "crashed": its lease runs out at 1500.
  const retaken = await loser.rotation.claim(key, loserName, 1500, 500);
  expect(retaken).toMatchObject({ owner: loserName, leaseUntil: 2000, attempts: 0 });

  await loser.rotation.releaseFailed(retaken!, 5000, 'HSM unavailable');
  expect(await a.rotation.retries()).toEqual([{ uid: 'k1', tenant: 't', attempts: 1, nextAttemptAt: 5000, lastError: 'HSM unavailable' }]);
  expect(await a.rotation.claim(key, 'A', 4999, 500)).toBeUndefined();
  expect(await a.rotation.claim(key, 'A', 5000, 500)).toMatchObject({ owner: 'A', attempts: 1 });
});

it('completeInUnit commits with the unit: claim gone, history written, key policy moved to the new key', async () => {
  const { store, rotation } = await openBoth();
  const setup = store.begin({ tenant: 't' });
  setup.insert(symmetricKey('old', 't', 'n'));
  await setup.commit();
  await rotation.setPolicy({ target: { kind: 'key', tenant: 't', uid: 'old' }, intervalSeconds: 10, offsetSeconds: null, automatic: true, graceSeconds: null }, 1);
  const claim = (await rotation.claim({ uid: 'old', tenant: 't' }, 'A', 1000, 60_000))!;

  const unit = store.begin({ tenant: 't' });
  unit.insert(symmetricKey('new', 't', 'n2'));
  rotation.completeInUnit(unit, claim, { oldUid: 'old', newUid: 'new', tenant: 't', generation: 1, policy: 'key old every 10s', at: 1000 });
  await unit.commit();

  expect(await rotation.history()).toEqual([{ oldUid: 'old', newUid: 'new', tenant: 't', generation: 1, policy: 'key old every 10s', at: 1000 }]);
  expect(await rotation.getPolicy({ kind: 'key', tenant: 't', uid: 'new' })).toMatchObject({ intervalSeconds: 10 });
  expect(await rotation.getPolicy({ kind: 'key', tenant: 't', uid: 'old' })).toBeUndefined();

  // A second rotation of the same old key cannot commit, and takes its object writes down with it.
  const again = (await rotation.claim({ uid: 'old', tenant: 't' }, 'B', 2000, 60_000))!;
  const unit2 = store.begin({ tenant: 't' });
  unit2.insert(symmetricKey('second', 't', 'n3'));
  rotation.completeInUnit(unit2, again, { oldUid: 'old', newUid: 'second', tenant: 't', generation: 1, policy: 'p', at: 2000 });
  const err = await unit2.commit().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreConflict);
  const check = store.begin({ tenant: 't' });
  expect(await check.get('second')).toBeUndefined();
  check.rollback();
});

it('a claim lost to another owner fails the unit with StoreConflict and nothing is written', async () => {
  const a = await openBoth();
  const b = await openBoth();
  const claimA = (await a.rotation.claim({ uid: 'k', tenant: 't' }, 'A', 1000, 100))!;
  expect(await b.rotation.claim({ uid: 'k', tenant: 't' }, 'B', 1100, 100)).toBeDefined();
  const unit = a.store.begin({ tenant: 't' });
  unit.insert(symmetricKey('k-new', 't', 'x'));
  a.rotation.completeInUnit(unit, claimA, { oldUid: 'k', newUid: 'k-new', tenant: 't', generation: 1, policy: 'p', at: 1100 });
  await expect(unit.commit()).rejects.toBeInstanceOf(StoreConflict);
  expect(await a.rotation.history()).toEqual([]);
  const check = a.store.begin({ tenant: 't' });
  expect(await check.get('k-new')).toBeUndefined();
  check.rollback();
});

it('a unit refuses a write of another backend', async () => {
  const { store } = await openBoth();
  const unit = store.begin({ tenant: 't' });
  expect(() => unit.attach({ backend: 'postgres' })).toThrow(/postgres/);
  unit.rollback();
});
