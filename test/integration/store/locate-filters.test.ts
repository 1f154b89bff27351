// The Locate filters added for the attribute operations (KMIP 2.1 §6.1.28 / 1.4 §4.9): structure
// values with fields left out, usage-mask bits, attribute presence, and the state predicate
// (stored state × date conditions) — on a real SQLite file and a real PostgreSQL database (the
// same assertions), with SQLite's query plans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { openSqliteStore, type LocateQuery, type ObjectStore, type SqliteObjectStore } from '../../../src/store/index.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { asiValue, dateValue, intValue, linkValue, symmetricKey, tempDir, textValue } from '../../support/store-objects.js';
import { describeEachStore, openStoreFixture, type StoreFixture } from '../../support/store-kinds.js';

const AV = Tag.AttributeValue;

const partial = (children: TtlvNode[]): TtlvNode => ({ tag: AV, type: 'Structure', value: children });

/** Six keys, five of tenant acme, with the attributes every filter below looks at. */
async function fill(store: ObjectStore): Promise<void> {
  const unit = store.begin({ tenant: null });
  for (let i = 0; i < 6; i++) {
    const uid = `k${i}`;
    unit.insert(
      symmetricKey(uid, i === 5 ? 'other' : 'acme', `key-${i}`, {
        createdAt: 1000 + i,
        state: i < 3 ? Enum.State.PreActive : Enum.State.Active,
        extra: [
          { name: 'ApplicationSpecificInformation', index: 0, value: asiValue(i % 2 === 0 ? 'LIBRARY-LTO' : 'LIBRARY-LTO2', `vol-${i}`) },
          { name: 'Link', index: 0, value: linkValue(i % 2 === 0 ? Enum.LinkType.ParentLink : Enum.LinkType.ChildLink, 'parent') },
          { name: 'CryptographicUsageMask', index: 0, value: intValue(i % 2 === 0 ? 12 : 4) },
          ...(i === 1 ? [{ name: 'ArchiveDate', index: 0, value: dateValue(10n) }] : []),
          ...(i === 2 ? [{ name: 'ActivationDate', index: 0, value: dateValue(50n) }] : []),
        ],
      }),
    );
  }
  await unit.commit();
}

describeEachStore('Locate filters', (kind) => {
  let fx: StoreFixture;
  let store: ObjectStore;

  beforeAll(async () => {
    fx = await openStoreFixture(kind);
    store = fx.store;
    await fill(store);
  });

  afterAll(async () => {
    await fx.cleanup();
  });

  const find = (q: LocateQuery) => store.begin({ tenant: 'acme' }).locate(q);

  describe('structure values with fields left out', () => {
    it('Link by Linked Object Identifier alone matches any Link Type', async () => {
      const q = { partialAttributes: [{ name: 'Link', value: partial([{ tag: Tag.LinkedObjectIdentifier, type: 'TextString', value: 'parent' }]) }] };
      expect(await find(q)).toEqual(['k4', 'k3', 'k2', 'k1', 'k0']);
    });

    it('Link by Link Type alone (no text key: presence narrows, values decide)', async () => {
      const q = { partialAttributes: [{ name: 'Link', value: partial([{ tag: Tag.LinkType, type: 'Enumeration', value: Enum.LinkType.ChildLink }]) }] };
      expect(await find(q)).toEqual(['k3', 'k1']);
    });

    it('Application Specific Information by namespace alone: a key prefix that does not spill into longer namespaces', async () => {
      const ns = partial([{ tag: Tag.ApplicationNamespace, type: 'TextString', value: 'LIBRARY-LTO' }]);
      expect(await find({ partialAttributes: [{ name: 'ApplicationSpecificInformation', value: ns }] })).toEqual(['k4', 'k2', 'k0']);
    });

    it('pages after the value check (offset and limit count matching objects only)', async () => {
      const ns = partial([{ tag: Tag.ApplicationNamespace, type: 'TextString', value: 'LIBRARY-LTO' }]);
      expect(await find({ partialAttributes: [{ name: 'ApplicationSpecificInformation', value: ns }], offset: 1, maxItems: 1 })).toEqual(['k2']);
    });

    it("a Link Type alone cannot be keyed: every candidate's value is checked, then paged", async () => {
      const q = { partialAttributes: [{ name: 'Link', value: partial([{ tag: Tag.LinkType, type: 'Enumeration', value: Enum.LinkType.ParentLink }]) }], offset: 1, maxItems: 1 };
      expect(await find(q)).toEqual(['k2']);
    });
  });

  describe('bits, presence, state predicate', () => {
    it('usage mask: objects having every requested bit', async () => {
      expect(await find({ masks: [{ name: 'CryptographicUsageMask', bits: 4 }] })).toEqual(['k4', 'k3', 'k2', 'k1', 'k0']);
      expect(await find({ masks: [{ name: 'CryptographicUsageMask', bits: 8 }] })).toEqual(['k4', 'k2', 'k0']);
      expect(await find({ masks: [{ name: 'CryptographicUsageMask', bits: 12 | 1 }] })).toEqual([]);
    });

    it('present / absent', async () => {
      expect(await find({ present: ['ArchiveDate'] })).toEqual(['k1']);
      expect(await find({ absent: ['ArchiveDate', 'ActivationDate'] })).toEqual(['k4', 'k3', 'k0']);
    });

    it('state predicate: stored state and date conditions, any term', async () => {
      const conditions = [
        { name: 'ActivationDate', atOrBefore: 100n },
        { name: 'ArchiveDate', atOrBefore: (1n << 63n) - 1n },
      ];
      // "Active now": stored Active, or Pre-Active with a reached Activation Date; not archived.
      const activeNow = {
        conditions,
        anyOf: [
          { states: [Enum.State.Active], holds: [undefined, false] },
          { states: [Enum.State.PreActive], holds: [true, false] },
        ],
      };
      expect(await find({ state: activeNow })).toEqual(['k4', 'k3', 'k2']);
      expect(await find({ state: { conditions, anyOf: [{ states: [Enum.State.PreActive], holds: [false, undefined] }] } })).toEqual(['k1', 'k0']);
      expect(await find({ state: { conditions, anyOf: [] } })).toEqual([]);
      expect(await find({ state: { ...activeNow, conditions: [{ name: 'ActivationDate', atOrBefore: 10n }, conditions[1]!] } })).toEqual(['k4', 'k3']);
    });

    it('another tenant never shows up, whatever the filter', async () => {
      expect(await store.begin({ tenant: 'other' }).locate({ masks: [{ name: 'CryptographicUsageMask', bits: 4 }] })).toEqual(['k5']);
      expect(await find({ attributes: [{ name: 'ObjectGroup', value: textValue('none') }] })).toEqual([]);
    });
  });
});

describe('Locate filter query plans [sqlite]', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteObjectStore;

  beforeAll(async () => {
    tmp = tempDir();
    store = await openSqliteStore({ path: tmp.file('filters.sqlite') });
    await fill(store);
  });

  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

    it("a namespace prefix probes while the tenant's objects are walked newest first (it would match most of them)", () => {
      const ns = partial([{ tag: Tag.ApplicationNamespace, type: 'TextString', value: 'LIBRARY-LTO' }]);
      const built = store.explainLocate({ tenant: 'acme' }, { partialAttributes: [{ name: 'ApplicationSpecificInformation', value: ns }], maxItems: 1 });
      if (built === 'empty') throw new Error('empty');
      const steps = (store.db.prepare(`EXPLAIN QUERY PLAN ${built.sql}`).all(...built.params) as { detail: string }[]).map((r) => r.detail);
      expect(steps[0]).toMatch(/^SEARCH o USING (COVERING )?INDEX objects_tenant/);
      expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/);
      // The key alone decides a namespace match: paging stays in SQL.
      expect(built.params.slice(-2)).toEqual([1, 0]);
    });

    it('a Name Value alone drives from the attribute index and needs no value check', () => {
      const byValue = partial([{ tag: Tag.NameValue, type: 'TextString', value: 'key-3' }]);
      const built = store.explainLocate({ tenant: 'acme' }, { partialAttributes: [{ name: 'Name', value: byValue }], maxItems: 1 });
      if (built === 'empty') throw new Error('empty');
      const steps = (store.db.prepare(`EXPLAIN QUERY PLAN ${built.sql}`).all(...built.params) as { detail: string }[]).map((r) => r.detail);
      expect(steps[0]).toMatch(/SEARCH d USING (COVERING )?INDEX attributes_key_text \(name=\? AND key_text=\?\)/);
      expect(built.params.slice(-2)).toEqual([1, 0]);
    });
});
