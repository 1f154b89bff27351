// Concurrent commits: every resolved commit is durable (found after reopening), a conflicting unit
// fails alone, close() waits for commits in flight — on SQLite and PostgreSQL alike. SQLite's group
// commit (concurrent commit() calls share one durable transaction) is checked on SQLite only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enum } from '../../../src/kmip/registry.js';
import { StoreConflict, openSqliteStore, type ObjectStore, type StoredObject } from '../../../src/store/index.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';
import { describeEachStore, openStoreFixture, type StoreFixture } from '../../support/store-kinds.js';

async function createMany(store: ObjectStore, n: number): Promise<string[]> {
  const uids: string[] = [];
  const commits: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const unit = store.begin({ tenant: 't' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 't', `key-${i}`));
    uids.push(uid);
    commits.push(unit.commit());
  }
  await Promise.all(commits);
  return uids;
}

describeEachStore('concurrent commits', (kind) => {
  let fx: StoreFixture;

  beforeEach(async () => {
    fx = await openStoreFixture(kind);
  });

  afterEach(async () => {
    await fx.cleanup();
  });

  it('64 concurrent commits all resolve, and every one is found after reopening', async () => {
    const uids = await createMany(fx.store, 64);
    expect(fx.store.stats().unitsCommitted).toBe(64);
    expect(fx.store.stats().unitsFailed).toBe(0);
    await fx.store.close();

    const reopened = await fx.reopen();
    const unit = reopened.begin({ tenant: 't' });
    for (const uid of uids) expect((await unit.get(uid))?.uid).toBe(uid);
    expect(await fx.countObjects()).toBe(64);
    await reopened.close();
  });

  it("one unit's conflict fails only that unit; the others commit", async () => {
    const store = fx.store;
    const [target] = await createMany(store, 1);
    const before = store.stats().transactions;

    const stale = store.begin({ tenant: 't' });
    const staleObj = (await stale.get(target as string)) as StoredObject;
    const winner = store.begin({ tenant: 't' });
    const winObj = (await winner.get(target as string)) as StoredObject;
    winObj.state = Enum.State.Active;
    winner.put(winObj);

    const others = Array.from({ length: 5 }, () => {
      const u = store.begin({ tenant: 't' });
      const uid = store.newUid();
      u.insert(symmetricKey(uid, 't', uid));
      return { uid, done: u.commit() };
    });
    const winDone = winner.commit();
    staleObj.state = Enum.State.Destroyed;
    stale.put(staleObj);
    const staleDone = stale.commit();

    const results = await Promise.allSettled([winDone, staleDone, ...others.map((o) => o.done)]);
    const [w, s] = results as [PromiseSettledResult<void>, PromiseSettledResult<void>];
    // Exactly one of the two writers of `target` wins. SQLite applies a group in submission order;
    // on PostgreSQL the two transactions race for the row lock, so either may be first.
    expect([w.status, s.status].sort()).toEqual(['fulfilled', 'rejected']);
    if (kind === 'sqlite') expect(w.status).toBe('fulfilled');
    const loser = (w.status === 'rejected' ? w : s) as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(StoreConflict);
    expect((loser.reason as StoreConflict).reason).toBe('version');
    expect(results.slice(2).map((r) => r.status)).toEqual(others.map(() => 'fulfilled'));
    // SQLite: one group, one transaction. PostgreSQL: one transaction per committed unit.
    expect(store.stats().transactions).toBe(before + (kind === 'sqlite' ? 1 : 6));
    await store.close();

    const reopened = await fx.reopen();
    const u = reopened.begin({ tenant: 't' });
    expect((await u.get(target as string))?.state).toBe(w.status === 'fulfilled' ? Enum.State.Active : Enum.State.Destroyed);
    for (const o of others) expect(await u.get(o.uid)).toBeDefined();
    await reopened.close();
  });

  it('close() waits for commits in flight; a closed store refuses new units', async () => {
    const store = fx.store;
    const unit = store.begin({ tenant: 't' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 't', 'last'));
    const done = unit.commit();
    await store.close();
    await done;
    const reopened = await fx.reopen();
    expect(await reopened.begin({ tenant: 't' }).get(uid)).toBeDefined();
    await reopened.close();
    expect(() => store.begin({ tenant: 't' })).toThrow(/closed/);
  });
});

describe('group commit [sqlite]', () => {
  let tmp: ReturnType<typeof tempDir>;

  beforeEach(() => {
    tmp = tempDir();
  });

  afterEach(() => {
    tmp.remove();
  });

  it('commits requested in one event-loop turn share one transaction', async () => {
    const store = await openSqliteStore({ path: tmp.file('g.sqlite') });
    await createMany(store, 64);
    const stats = store.stats();
    console.log(`64 concurrent commits -> ${stats.transactions} transaction(s), largest group ${stats.largestGroup}`);
    expect(stats.transactions).toBe(1);
    expect(stats.largestGroup).toBe(64);
    expect(stats.unitsCommitted).toBe(64);
    await store.close();
  });

  it('groupCommit: false uses one transaction per commit', async () => {
    const store = await openSqliteStore({ path: tmp.file('n.sqlite'), groupCommit: false });
    await createMany(store, 16);
    expect(store.stats().transactions).toBe(16);
    expect(store.stats().largestGroup).toBe(1);
    await store.close();
  });

  it('commits arriving while a group is written form the next group', async () => {
    const store = await openSqliteStore({ path: tmp.file('w.sqlite') });
    const first = createMany(store, 10);
    // Requested after the first group was scheduled but in later turns: grouped among themselves.
    await new Promise((r) => setImmediate(r));
    const second = createMany(store, 10);
    await Promise.all([first, second]);
    expect(store.stats().transactions).toBe(2);
    expect(store.stats().unitsCommitted).toBe(20);
    await store.close();
  });
});
