// The HSM reveal cache's counters on /metrics, from a real deployment (kmipd init, SoftHSM2 token,
// SQLite store) served with the production wiring: a Create and two Gets of the key.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectKmip, type KmipConnection } from '../../../src/client/connection.js';
import { createRequest, getRequest, readOutcome } from '../../../src/bench/load/requests.js';
import { startKmipdUnderTest, type KmipdUnderTest } from '../../support/kmipd-under-test.js';
import { describeHsm } from '../../support/softhsm.js';

describeHsm('reveal cache metrics', () => {
  let server: KmipdUnderTest;
  let client: KmipConnection;
  beforeAll(async () => {
    server = await startKmipdUnderTest();
    client = await connectKmip({ host: server.host, port: server.port, ca: server.ca, cert: server.cert, key: server.key });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  const value = (text: string, series: string): number => {
    const m = new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
    if (m === null) throw new Error(`${series} is not on /metrics`);
    return Number(m[1]);
  };

  it('counts a miss for the first reveal of a key, a hit for the next, and the entry it keeps', async () => {
    const created = readOutcome(await client.send(createRequest(`metrics-${Date.now()}`)));
    if (!created.ok) throw new Error(created.reason);
    const uid = created.uids[0]!;
    const before = server.running.metrics.render();
    const hits0 = value(before, 'kmipd_reveal_cache_lookups_total{result="hit"}');
    const misses0 = value(before, 'kmipd_reveal_cache_lookups_total{result="miss"}');
    expect(readOutcome(await client.send(getRequest(uid))).ok).toBe(true);
    expect(readOutcome(await client.send(getRequest(uid))).ok).toBe(true);
    const after = server.running.metrics.render();
    expect(value(after, 'kmipd_reveal_cache_lookups_total{result="miss"}')).toBe(misses0 + 1);
    expect(value(after, 'kmipd_reveal_cache_lookups_total{result="hit"}')).toBe(hits0 + 1);
    expect(value(after, 'kmipd_reveal_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^kmipd_reveal_cache_evictions_total \d+$/m);
  });
});
