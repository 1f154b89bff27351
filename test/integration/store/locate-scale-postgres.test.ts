// Locate at scale on PostgreSQL (KMIP 1.4 §4.9): among 10,000 objects (fewer than SQLite's
// 100,000: every insert is a round trip to the server) a lookup by Name takes a few ms, and
// PostgreSQL's plan for every supported filter reads indexes, never a whole table.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore, type LocateQuery, type PostgresObjectStore, type Scope } from '../../../src/store/index.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { timeLocateByName, locateShapes, scaleObject } from '../../support/locate-shapes.js';
import { nameValue } from '../../support/store-objects.js';

const N = 10_000;

describePostgres(`Locate among ${N} objects [postgres]`, () => {
  let store: PostgresObjectStore;

  beforeAll(async () => {
    store = await openPostgresStore({ url: await createTestDatabase() });
    const started = performance.now();
    const perUnit = 2_000;
    for (let u = 0; u < N / perUnit; u++) {
      const unit = store.begin({ tenant: null });
      for (let i = u * perUnit; i < (u + 1) * perUnit; i++) unit.insert(scaleObject(store.newUid(), i));
      await unit.commit();
    }
    await store.transaction(async (c) => {
      await c.query('ANALYZE objects');
      await c.query('ANALYZE attributes');
    });
    console.log(`inserted ${N} objects (5 attributes each) in ${Math.round(performance.now() - started)} ms`);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  /** The plan's node types and relations, from EXPLAIN (FORMAT JSON). */
  async function plan(scope: Scope, q: LocateQuery): Promise<string[]> {
    const built = store.explainLocate(scope, q);
    if (built === 'empty') throw new Error('query compiled to nothing');
    const rows = await store.transaction(async (c) => (await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${built.sql}`, built.params)).rows);
    const nodes: string[] = [];
    const walk = (n: Record<string, unknown>) => {
      nodes.push(`${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
      for (const child of (n['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(((rows[0]?.['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0] as { Plan: Record<string, unknown> }).Plan);
    return nodes;
  }

  it('by Name takes a few ms (< 20 ms) and reads the attribute index', async () => {
    const unit = store.begin({ tenant: 't2' });
    const { median, max, counts } = await timeLocateByName(unit, N);
    console.log(`Locate by Name among ${N} on PostgreSQL: median ${median.toFixed(3)} ms, max ${max.toFixed(3)} ms`);
    expect(counts.every((c) => c === 1)).toBe(true);
    expect(median).toBeLessThan(20);
    const steps = await plan({ tenant: 't2' }, { attributes: [{ name: 'Name', value: nameValue('key-1') }] });
    expect(steps.some((s) => /Index.* on attributes using (attributes_key_text|attributes_pkey)/.test(s))).toBe(true);
    // key-5002 is a t2 object: t1 does not find it.
    expect(await store.begin({ tenant: 't1' }).locate({ attributes: [{ name: 'Name', value: nameValue('key-5002') }] })).toEqual([]);
    expect(await store.begin({ tenant: 't2' }).locate({ attributes: [{ name: 'Name', value: nameValue('key-5002') }] })).toHaveLength(1);
  });

  it.each(locateShapes)('%s: the plan reads indexes only', async (label, scope, q) => {
    const steps = await plan(scope, q);
    expect(steps.filter((s) => s.startsWith('Seq Scan')), steps.join(' | ')).toEqual([]);
    const t = performance.now();
    await store.begin(scope).locate(q);
    console.log(`${label}: ${(performance.now() - t).toFixed(2)} ms | ${steps.join(' | ')}`);
  });
});
