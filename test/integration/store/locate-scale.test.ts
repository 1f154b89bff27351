// Locate at scale (KMIP 1.4 §4.9): among 100,000 objects a lookup by Name takes a few ms, and the
// query plans of every supported filter search an index instead of scanning a table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type LocateQuery, type Scope, type SqliteObjectStore } from '../../../src/store/index.js';
import { timeLocateByName, locateShapes as shapes, scaleObject } from '../../support/locate-shapes.js';
import { nameValue, tempDir } from '../../support/store-objects.js';

const N = 100_000;
let tmp: ReturnType<typeof tempDir>;
let store: SqliteObjectStore;

beforeAll(async () => {
  tmp = tempDir();
  store = await openSqliteStore({ path: tmp.file('scale.sqlite') });
  const started = performance.now();
  const perUnit = 5_000;
  for (let u = 0; u < N / perUnit; u++) {
    const unit = store.begin({ tenant: null });
    for (let i = u * perUnit; i < (u + 1) * perUnit; i++) {
      unit.insert(scaleObject(store.newUid(), i));
    }
    await unit.commit();
  }
  store.db.exec('ANALYZE');
  console.log(`inserted ${N} objects (5 attributes each) in ${Math.round(performance.now() - started)} ms`);
}, 300_000);

afterAll(async () => {
  await store.close();
  tmp.remove();
});

function plan(scope: Scope, q: LocateQuery): string[] {
  const built = store.explainLocate(scope, q);
  if (built === 'empty') throw new Error('query compiled to nothing');
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${built.sql}`).all(...built.params) as { detail: string }[]).map((r) => r.detail);
}

/** A full scan of a table (without an index) is what must never happen. */
function fullScans(steps: string[]): string[] {
  return steps.filter((s) => /^SCAN /.test(s) && !/USING (COVERING )?INDEX/.test(s));
}

describe(`Locate among ${N} objects`, () => {
  it('by Name takes a few ms (< 20 ms) and searches the attribute index', async () => {
    const unit = store.begin({ tenant: 't2' });
    expect(await unit.locate({ attributes: [{ name: 'Name', value: nameValue('key-50002') }] })).toHaveLength(1);
    const { median, max, counts } = await timeLocateByName(unit, N);
    console.log(`Locate by Name among ${N}: median ${median.toFixed(3)} ms, max ${max.toFixed(3)} ms`);
    expect(counts.every((c) => c === 1)).toBe(true);
    expect(median).toBeLessThan(20);

    const steps = plan({ tenant: 't2' }, { attributes: [{ name: 'Name', value: nameValue('key-1') }] });
    console.log(`plan: ${steps.join(' | ')}`);
    expect(steps).toContain('SEARCH d USING INDEX attributes_key_text (name=? AND key_text=?)');
    expect(steps.some((s) => s.startsWith('SEARCH o USING INDEX sqlite_autoindex_objects_1 (uid=?)'))).toBe(true);
    expect(fullScans(steps)).toEqual([]);
  });

  it("another tenant's name is not found at scale", async () => {
    expect(await store.begin({ tenant: 't1' }).locate({ attributes: [{ name: 'Name', value: nameValue('key-50002') }] })).toEqual([]);
  });

  it.each(shapes)('%s: the plan uses indexes only', async (_label, scope, q) => {
    const steps = plan(scope, q);
    expect(fullScans(steps), steps.join(' | ')).toEqual([]);
    const t = performance.now();
    await store.begin(scope).locate(q);
    const ms = performance.now() - t;
    console.log(`${_label}: ${ms.toFixed(2)} ms | ${steps.join(' | ')}`);
  });

  it('by date range returns exactly the objects in range, newest first', async () => {
    const found = await store.begin({ tenant: null }).locate({ dateRanges: [{ name: 'ActivationDate', from: 1_700_000_100n, to: 1_700_000_103n }] });
    const names = await Promise.all(
      found.map(async (uid) => {
        const o = await store.begin({ tenant: null }).get(uid);
        const n = o?.attributes.find((a) => a.name === 'Name')?.value;
        return n?.type === 'Structure' && n.value[0]?.type === 'TextString' ? n.value[0].value : '';
      }),
    );
    expect(names).toEqual(['key-103', 'key-102', 'key-101', 'key-100']);
  });
});
