// Group commit: concurrent commit() calls share one durable SQLite transaction, a conflicting
// unit fails alone, and every resolved commit is found after reopening the file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enum } from '../../../src/kmip/registry.js';
import { StoreConflict, openSqliteStore, type StoredObject } from '../../../src/store/index.js';
import { symmetricKey, tempDir } from '../../support/store-objects.js';

let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});

afterEach(() => {
  tmp.remove();
});

async function createMany(store: Awaited<ReturnType<typeof openSqliteStore>>, n: number): Promise<string[]> {
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

describe('group commit', () => {
  it('commits requested in one event-loop turn share one transaction; all are durable', async () => {
    const path = tmp.file('g.sqlite');
    const store = await openSqliteStore({ path });
    const uids = await createMany(store, 64);
    const stats = store.stats();
    console.log(`64 concurrent commits -> ${stats.transactions} transaction(s), largest group ${stats.largestGroup}`);
    expect(stats.transactions).toBe(1);
    expect(stats.largestGroup).toBe(64);
    expect(stats.unitsCommitted).toBe(64);
    await store.close();

    const reopened = await openSqliteStore({ path });
    const unit = reopened.begin({ tenant: 't' });
    for (const uid of uids) expect((await unit.get(uid))?.uid).toBe(uid);
    await reopened.close();
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

  it("one unit's conflict fails only that unit; the rest of the group commits", async () => {
    const path = tmp.file('c.sqlite');
    const store = await openSqliteStore({ path });
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
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', ...others.map(() => 'fulfilled')]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflict);
    expect(store.stats().transactions).toBe(before + 1);
    await store.close();

    const reopened = await openSqliteStore({ path });
    const u = reopened.begin({ tenant: 't' });
    expect((await u.get(target as string))?.state).toBe(Enum.State.Active);
    for (const o of others) expect(await u.get(o.uid)).toBeDefined();
    await reopened.close();
  });

  it('close() waits for queued commits', async () => {
    const path = tmp.file('q.sqlite');
    const store = await openSqliteStore({ path });
    const unit = store.begin({ tenant: 't' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 't', 'last'));
    const done = unit.commit();
    await store.close();
    await done;
    const reopened = await openSqliteStore({ path });
    expect(await reopened.begin({ tenant: 't' }).get(uid)).toBeDefined();
    await reopened.close();
    expect(() => store.begin({ tenant: 't' })).toThrow(/closed/);
  });
});
