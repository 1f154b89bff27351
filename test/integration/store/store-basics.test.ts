// Object store round trips on a real SQLite file and a real PostgreSQL database (the same assertions): insert/get/put/locate, tenant isolation,
// rollback (KMIP Undo), read-your-writes inside a unit, optimistic concurrency, KEK rotation
// support and UUIDv7 identifiers (KMIP 1.4 §3.1 Unique Identifier).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import {
  StoreConflict,
  StoreError,
  StoreScopeError,
  isUid,
  newUid,
  uidTime,
  type StoredObject,
} from '../../../src/store/index.js';
import { describeEachStore, openStoreFixture, type ContractStore, type StoreFixture } from '../../support/store-kinds.js';
import {
  asiValue,
  dateValue,
  enumValue,
  linkValue,
  material,
  nameValue,
  symmetricKey,
  textValue,
} from '../../support/store-objects.js';

describeEachStore('object store', (kind) => {
  let fx: StoreFixture;
  let store: ContractStore;

  beforeEach(async () => {
    fx = await openStoreFixture(kind);
    store = fx.store;
  });

  afterEach(async () => {
    await fx.cleanup();
  });

  async function create(tenant: string, name: string, opts: Parameters<typeof symmetricKey>[3] = {}): Promise<string> {
    const unit = store.begin({ tenant });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, tenant, name, opts));
    await unit.commit();
    return uid;
  }

  const byName = (name: string) => ({ attributes: [{ name: 'Name', value: nameValue(name) }] });

  describe('insert, get, put', () => {
    it('round-trips every field, attribute order, and material bytes', async () => {
      const unit = store.begin({ tenant: 'acme' });
      const uid = store.newUid();
      const obj = symmetricKey(uid, 'acme', 'k1', {
        createdAt: 1_700_000_000_123,
        extra: [
          { name: 'ObjectGroup', index: 0, value: textValue('g1') },
          { name: 'ApplicationSpecificInformation', index: 0, value: asiValue('ssl', 'www.example.com') },
          { name: 'ActivationDate', index: 0, value: dateValue(1_700_000_100n) },
          { name: 'x-owner', index: 0, value: textValue('ops') },
          { name: 'ObjectGroup', index: 1, value: textValue('g2') },
        ],
      });
      unit.insert(obj);
      await unit.commit();

      const got = await store.begin({ tenant: 'acme' }).get(uid);
      expect(got).toBeDefined();
      const g = got as StoredObject;
      expect(g.version).toBe(1);
      expect({ ...g, version: undefined }).toEqual({
        ...obj,
        version: undefined,
        material: { kekVersion: 1, wrapped: Buffer.alloc(40, 1), mac: Buffer.alloc(32, 2), meta: Buffer.from([1, 2, 3]) },
        // Values come back tagged AttributeValue: the tag of a stored value is irrelevant.
        attributes: obj.attributes.map((a) => ({ ...a, value: { ...a.value, tag: Tag.AttributeValue } })),
      });
      expect(Buffer.isBuffer(g.material?.wrapped)).toBe(true);
    });

    it('put replaces the object and bumps its version; material null removes the key', async () => {
      const uid = await create('acme', 'k1');
      const u1 = store.begin({ tenant: 'acme' });
      const obj = (await u1.get(uid)) as StoredObject;
      obj.state = Enum.State.Active;
      obj.attributes = [{ name: 'Name', index: 0, value: nameValue('renamed') }];
      obj.material = null;
      u1.put(obj);
      await u1.commit();

      const again = (await store.begin({ tenant: 'acme' }).get(uid)) as StoredObject;
      expect(again.version).toBe(2);
      expect(again.state).toBe(Enum.State.Active);
      expect(again.material).toBeNull();
      expect(again.attributes.map((a) => a.name)).toEqual(['Name']);
      expect(await store.begin({ tenant: 'acme' }).locate(byName('k1'))).toEqual([]);
      expect(await store.begin({ tenant: 'acme' }).locate(byName('renamed'))).toEqual([uid]);
    });

    it('rejects attributes that are object fields, and duplicate instances', () => {
      const unit = store.begin({ tenant: 'acme' });
      const bad = symmetricKey(store.newUid(), 'acme', 'k', {
        extra: [{ name: 'State', index: 0, value: enumValue(Enum.State.Active) }],
      });
      expect(() => unit.insert(bad)).toThrow(StoreError);
      const dup = symmetricKey(store.newUid(), 'acme', 'k', { extra: [{ name: 'Name', index: 0, value: nameValue('x') }] });
      expect(() => unit.insert(dup)).toThrow(/appears twice/);
    });

    it('a finished unit refuses further use; rollback after commit is a no-op', async () => {
      const unit = store.begin({ tenant: 'acme' });
      unit.insert(symmetricKey(store.newUid(), 'acme', 'k'));
      await unit.commit();
      expect(() => unit.insert(symmetricKey(store.newUid(), 'acme', 'k2'))).toThrow(/already committed/);
      await expect(unit.get('x')).rejects.toThrow(StoreError);
      expect(() => unit.rollback()).not.toThrow();
    });
  });

  describe('tenant isolation', () => {
    it("another tenant's uid is not found, locate never returns it, operator scope sees all", async () => {
      const a = await create('alpha', 'shared-name');
      const b = await create('beta', 'shared-name');

      expect(await store.begin({ tenant: 'alpha' }).get(b)).toBeUndefined();
      expect(await store.begin({ tenant: 'beta' }).get(a)).toBeUndefined();
      expect((await store.begin({ tenant: 'beta' }).get(b))?.uid).toBe(b);

      expect(await store.begin({ tenant: 'alpha' }).locate(byName('shared-name'))).toEqual([a]);
      expect(await store.begin({ tenant: 'beta' }).locate(byName('shared-name'))).toEqual([b]);
      expect(await store.begin({ tenant: 'alpha' }).locate({})).toEqual([a]);
      expect(await store.begin({ tenant: 'gamma' }).locate({})).toEqual([]);
      // By identifier too: the column filter still carries the tenant predicate.
      expect(
        await store.begin({ tenant: 'alpha' }).locate({ attributes: [{ name: 'UniqueIdentifier', value: textValue(b) }] }),
      ).toEqual([]);

      const op = store.begin({ tenant: null });
      expect((await op.get(a))?.tenant).toBe('alpha');
      expect((await op.get(b))?.tenant).toBe('beta');
      expect(new Set(await op.locate(byName('shared-name')))).toEqual(new Set([a, b]));
    });

    it('a unit cannot write an object of another tenant', async () => {
      const b = await create('beta', 'k');
      const unit = store.begin({ tenant: 'alpha' });
      expect(() => unit.insert(symmetricKey(store.newUid(), 'beta', 'k'))).toThrow(StoreScopeError);
      const theirs = (await store.begin({ tenant: null }).get(b)) as StoredObject;
      expect(() => unit.put(theirs)).toThrow(StoreScopeError);
      // Claiming the object is ours does not reach it either: the UPDATE is tenant-scoped.
      unit.put({ ...theirs, tenant: 'alpha', state: Enum.State.Active });
      await expect(unit.commit()).rejects.toMatchObject({ name: 'StoreConflict', reason: 'missing' });
      expect((await store.begin({ tenant: 'beta' }).get(b))?.state).toBe(Enum.State.PreActive);
    });
  });

  describe('rollback and read-your-writes', () => {
    it('rollback discards buffered writes (KMIP Undo)', async () => {
      const unit = store.begin({ tenant: 'acme' });
      const uid = store.newUid();
      unit.insert(symmetricKey(uid, 'acme', 'undone'));
      expect((await unit.get(uid))?.uid).toBe(uid);
      unit.rollback();
      expect(await store.begin({ tenant: 'acme' }).get(uid)).toBeUndefined();
      expect(store.stats().transactions).toBe(0);
    });

    it('a unit sees its own inserts and puts in get and locate; others do not until commit', async () => {
      const existing = await create('acme', 'old-name');
      const unit = store.begin({ tenant: 'acme' });
      const fresh = store.newUid();
      unit.insert(symmetricKey(fresh, 'acme', 'new-key', { extra: [{ name: 'ObjectGroup', index: 0, value: textValue('batch') }] }));
      const ex = (await unit.get(existing)) as StoredObject;
      ex.attributes = ex.attributes.map((a) => (a.name === 'Name' ? { ...a, value: nameValue('new-name') } : a));
      unit.put(ex);

      expect(await unit.locate(byName('new-key'))).toEqual([fresh]);
      expect(await unit.locate(byName('new-name'))).toEqual([existing]);
      expect(await unit.locate(byName('old-name'))).toEqual([]);
      expect(await unit.locate({ attributes: [{ name: 'ObjectGroup', value: textValue('batch') }] })).toEqual([fresh]);

      const other = store.begin({ tenant: 'acme' });
      expect(await other.get(fresh)).toBeUndefined();
      expect(await other.locate(byName('old-name'))).toEqual([existing]);
      expect(await other.locate(byName('new-key'))).toEqual([]);

      // The read view was rolled back: nothing leaked into the database.
      expect(await fx.countObjects()).toBe(1);

      await unit.commit();
      expect(await other.locate(byName('new-key'))).toEqual([fresh]);
    });

    it('an object created and changed in the same unit stays one insert', async () => {
      const unit = store.begin({ tenant: 'acme' });
      const uid = store.newUid();
      unit.insert(symmetricKey(uid, 'acme', 'k'));
      const pending = (await unit.get(uid)) as StoredObject;
      pending.state = Enum.State.Active;
      unit.put(pending);
      await unit.commit();
      const got = (await store.begin({ tenant: 'acme' }).get(uid)) as StoredObject;
      expect(got.state).toBe(Enum.State.Active);
      expect(got.version).toBe(1);
    });
  });

  describe('optimistic concurrency', () => {
    it('two units put the same object: one wins, the other gets StoreConflict', async () => {
      const uid = await create('acme', 'k');
      const u1 = store.begin({ tenant: 'acme' });
      const u2 = store.begin({ tenant: 'acme' });
      const o1 = (await u1.get(uid)) as StoredObject;
      const o2 = (await u2.get(uid)) as StoredObject;
      o1.state = Enum.State.Active;
      o2.state = Enum.State.Destroyed;
      u1.put(o1);
      u2.put(o2);
      const [r1, r2] = await Promise.allSettled([u1.commit(), u2.commit()]);
      expect(r1.status).toBe('fulfilled');
      expect(r2.status).toBe('rejected');
      const err = (r2 as PromiseRejectedResult).reason as unknown;
      expect(err).toBeInstanceOf(StoreConflict);
      expect((err as StoreConflict).reason).toBe('version');
      const final = (await store.begin({ tenant: 'acme' }).get(uid)) as StoredObject;
      expect(final.state).toBe(Enum.State.Active);
      expect(final.version).toBe(2);
    });

    it('a conflicting unit fails whole: none of its other writes land', async () => {
      const uid = await create('acme', 'k');
      const loser = store.begin({ tenant: 'acme' });
      const stale = (await loser.get(uid)) as StoredObject;
      const winner = store.begin({ tenant: 'acme' });
      winner.put((await winner.get(uid)) as StoredObject);
      await winner.commit();

      const sideEffect = store.newUid();
      loser.insert(symmetricKey(sideEffect, 'acme', 'side'));
      loser.put(stale);
      await expect(loser.commit()).rejects.toBeInstanceOf(StoreConflict);
      expect(await store.begin({ tenant: 'acme' }).get(sideEffect)).toBeUndefined();
    });

    it('inserting an existing identifier is a conflict', async () => {
      const uid = await create('acme', 'k');
      const unit = store.begin({ tenant: 'acme' });
      unit.insert(symmetricKey(uid, 'acme', 'again'));
      await expect(unit.commit()).rejects.toMatchObject({ reason: 'exists' });
    });
  });

  describe('locate', () => {
    it('matches exact values (AND), newest first, with offset and maxItems', async () => {
      const uids: string[] = [];
      for (let i = 0; i < 5; i++) {
        uids.push(
          await create('acme', `k${i}`, {
            createdAt: 1_000 + i,
            extra: [
              { name: 'ObjectGroup', index: 0, value: textValue(i % 2 === 0 ? 'even' : 'odd') },
              { name: 'ApplicationSpecificInformation', index: 0, value: asiValue('ns', `d${i}`) },
              { name: 'Link', index: 0, value: linkValue(Enum.LinkType.ReplacementObjectLink, `target-${i}`) },
              { name: 'ActivationDate', index: 0, value: dateValue(BigInt(100 + i)) },
            ],
          }),
        );
      }
      const u = store.begin({ tenant: 'acme' });
      const even = { attributes: [{ name: 'ObjectGroup', value: textValue('even') }] };
      expect(await u.locate(even)).toEqual([uids[4], uids[2], uids[0]]);
      expect(await u.locate({ ...even, order: 'created-asc' })).toEqual([uids[0], uids[2], uids[4]]);
      expect(await u.locate({ ...even, maxItems: 2 })).toEqual([uids[4], uids[2]]);
      expect(await u.locate({ ...even, offset: 1, maxItems: 1 })).toEqual([uids[2]]);
      expect(
        await u.locate({ attributes: [...even.attributes, { name: 'ApplicationSpecificInformation', value: asiValue('ns', 'd2') }] }),
      ).toEqual([uids[2]]);
      // Exact match: same namespace, other data does not match; neither does a missing field.
      expect(await u.locate({ attributes: [{ name: 'ApplicationSpecificInformation', value: asiValue('ns', 'd9') }] })).toEqual([]);
      expect(
        await u.locate({ attributes: [{ name: 'Link', value: linkValue(Enum.LinkType.ReplacementObjectLink, 'target-3') }] }),
      ).toEqual([uids[3]]);
      expect(
        await u.locate({ attributes: [{ name: 'Link', value: linkValue(Enum.LinkType.ParentLink, 'target-3') }] }),
      ).toEqual([]);
      expect(
        await u.locate({ attributes: [{ name: 'CryptographicAlgorithm', value: enumValue(Enum.CryptographicAlgorithm.AES) }] }),
      ).toHaveLength(5);
      expect(
        await u.locate({ attributes: [{ name: 'CryptographicAlgorithm', value: enumValue(Enum.CryptographicAlgorithm.RSA) }] }),
      ).toEqual([]);
      expect(await u.locate({ dateRanges: [{ name: 'ActivationDate', from: 101n, to: 103n }] })).toEqual([
        uids[3],
        uids[2],
        uids[1],
      ]);
      expect(await u.locate({ ...even, dateRanges: [{ name: 'ActivationDate', from: 101n }] })).toEqual([uids[4], uids[2]]);
      expect(await u.locate({ objectType: Enum.ObjectType.SymmetricKey, states: [Enum.State.PreActive], maxItems: 1 })).toEqual([
        uids[4],
      ]);
      expect(await u.locate({ objectType: Enum.ObjectType.PrivateKey })).toEqual([]);
      expect(await u.locate({ states: [] })).toEqual([]);
      expect(await u.locate({ attributes: [{ name: 'State', value: enumValue(Enum.State.Active) }] })).toEqual([]);
      expect(await u.locate({ attributes: [{ name: 'UniqueIdentifier', value: textValue(uids[1] as string) }] })).toEqual([uids[1]]);
    });

    it('custom attributes and multi-instance attributes match any instance', async () => {
      const uid = await create('acme', 'k', {
        extra: [
          { name: 'x-app', index: 0, value: textValue('billing') },
          { name: 'ObjectGroup', index: 0, value: textValue('a') },
          { name: 'ObjectGroup', index: 1, value: textValue('b') },
        ],
      });
      const u = store.begin({ tenant: 'acme' });
      expect(await u.locate({ attributes: [{ name: 'x-app', value: textValue('billing') }] })).toEqual([uid]);
      expect(await u.locate({ attributes: [{ name: 'ObjectGroup', value: textValue('b') }] })).toEqual([uid]);
      expect(
        await u.locate({
          attributes: [
            { name: 'ObjectGroup', value: textValue('a') },
            { name: 'ObjectGroup', value: textValue('b') },
          ],
        }),
      ).toEqual([uid]);
    });
  });

  describe('KEK rotation support', () => {
    it('lists objects by KEK version and replaces material of many objects in one commit', async () => {
      const old = [await create('a', 'k1', { kekVersion: 1 }), await create('b', 'k2', { kekVersion: 1 })];
      const current = await create('a', 'k3', { kekVersion: 2 });
      const rotation = store.begin({ tenant: null });
      const todo = await rotation.listByKekVersion(1, 100);
      expect(new Set(todo)).toEqual(new Set(old));
      expect(await store.begin({ tenant: 'a' }).listByKekVersion(1, 100)).toEqual([old[0]]);
      for (const uid of todo) {
        const obj = (await rotation.get(uid)) as StoredObject;
        rotation.putMaterial(uid, material(2, 9), obj.version);
      }
      // A request that read the object before rotation must not write the old material back.
      const racer = store.begin({ tenant: 'a' });
      const stale = (await racer.get(old[0] as string)) as StoredObject;
      const before = store.stats().transactions;
      await rotation.commit();
      expect(store.stats().transactions).toBe(before + 1);
      racer.put(stale);
      await expect(racer.commit()).rejects.toBeInstanceOf(StoreConflict);

      expect(await store.begin({ tenant: null }).listByKekVersion(1, 100)).toEqual([]);
      expect(new Set(await store.begin({ tenant: null }).listByKekVersion(2, 100))).toEqual(new Set([...old, current]));
      const rotated = (await store.begin({ tenant: 'b' }).get(old[1] as string)) as StoredObject;
      expect(rotated.material?.wrapped).toEqual(Buffer.alloc(40, 9));
      expect(rotated.version).toBe(2);
      expect(rotated.attributes).toHaveLength(3);
    });
  });

});

describe('unique identifiers', () => {
  it('are UUIDv7: time-ordered, versioned, a counter in rand_a and 62 random bits that differ', () => {
    const a = newUid(1_700_000_000_000);
    const b = newUid(1_700_000_000_001);
    expect(isUid(a)).toBe(true);
    expect(a[14]).toBe('7');
    expect('89ab').toContain(a[19]);
    expect(uidTime(a)).toBe(1_700_000_000_000);
    expect(a < b).toBe(true);
    const same = new Set(Array.from({ length: 10_000 }, () => newUid(5)));
    expect(same.size).toBe(10_000);
    // rand_b (after the variant bits) is random in every hex position; rand_a counts up.
    const samples = [...same].slice(0, 200);
    for (const pos of [20, 21, 22, 24, 30, 35]) {
      expect(new Set(samples.map((s) => s[pos])).size).toBeGreaterThan(4);
    }
    const counters = samples.map((s) => Number.parseInt(s.slice(15, 18), 16));
    for (let i = 1; i < counters.length; i++) expect(counters[i]).toBe(((counters[i - 1] as number) + 1) & 0xfff);
  });
});
