// Locate by Name among 100,000 keys through the executor (KMIP 1.4 §4.9, 2.1 §6.1.28): request
// bytes in, response bytes out, over a real SQLite file. The keys go straight into the store in
// large units (src/bench/locate-corpus.ts, the same corpus `node dist/bench/locate.js` measures).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Tag } from '../../../src/kmip/registry.js';
import { corpusName, seedKeys } from '../../../src/bench/locate-corpus.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr1, ok, req, uidsOf, v14, v21 } from '../../support/attribute-requests.js';

const N = 100_000;
const TENANTS = ['default', 'tenant-1', 'tenant-2', 'tenant-3'];

describeHsm(`Locate among ${N} keys`, () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
    const t = performance.now();
    await seedKeys(h.store, { objects: N, tenants: TENANTS });
    h.store.db.exec('ANALYZE');
    console.log(`seeded ${N} keys in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }, 600_000);
  afterAll(async () => {
    await h?.close();
  });

  /** Name of a random key of tenant 'default' (objects 0, 4, 8, …). */
  const mine = () => TENANTS.length * Math.floor(Math.random() * (N / TENANTS.length));

  async function median(version: typeof v14, runs: number): Promise<number> {
    const times: number[] = [];
    for (let k = 0; k < runs; k++) {
      const i = mine();
      const filter = version.major >= 2 ? { ...corpusName(i), tag: Tag.Name } : attr1('Name', corpusName(i));
      const request = version.major >= 2 ? req.locate2([filter]) : req.locate1([filter]);
      const t = performance.now();
      const res = await h.send(version, [request]);
      times.push(performance.now() - t);
      expect(uidsOf(ok(res))).toHaveLength(1);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  }

  it('by Name answers in a few ms (median < 20 ms), 1.4 and 2.1', async () => {
    await median(v14, 10); // warm-up: statement cache, page cache
    const m14 = await median(v14, 100);
    const m21 = await median(v21, 100);
    console.log(`Locate by Name among ${N} keys through the executor: median ${m14.toFixed(3)} ms (KMIP 1.4), ${m21.toFixed(3)} ms (KMIP 2.1)`);
    expect(m14).toBeLessThan(20);
    expect(m21).toBeLessThan(20);
  });

  it("another tenant's key is not found at scale", async () => {
    expect(uidsOf(ok(await h.send(v14, [req.locate1([attr1('Name', corpusName(1))])])))).toEqual([]);
    expect(uidsOf(ok(await h.send(v14, [req.locate1([attr1('Name', corpusName(1))])], undefined, 'tenant-1')))).toHaveLength(1);
  });

  it('a page of a whole tape library namespace comes back without sorting the namespace', async () => {
    const t = performance.now();
    const ns = attr1('Application Specific Information', { tag: Tag.AttributeValue, type: 'Structure', value: [{ tag: Tag.ApplicationNamespace, type: 'TextString', value: 'LIBRARY-LTO' }] });
    const found = uidsOf(ok(await h.send(v14, [req.locate1([ns], [{ tag: Tag.MaximumItems, type: 'Integer', value: 50 }])])));
    const ms = performance.now() - t;
    console.log(`Locate 50 of ${N / TENANTS.length} keys in one namespace: ${ms.toFixed(2)} ms`);
    expect(found).toHaveLength(50);
    expect(ms).toBeLessThan(200);
  });
});
