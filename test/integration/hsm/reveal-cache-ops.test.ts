// The reveal cache seen through the operations: Get serves the same key from the cache, and
// Destroy drops the object's cached key from the HSM (KMIP 1.4 §4.21: the key material is erased).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Enum, Mask } from '../../../src/kmip/registry.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { expectFailure, materialOf, okPayload, ops, uidOf, v21 } from '../../support/lifecycle-requests.js';

describeHsm('reveal cache through Get and Destroy', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('Get hits the cache with the same key; Destroy forgets it', async () => {
    const uid = uidOf(okPayload(await h.send(v21, [ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 256, Mask.CryptographicUsageMask.Encrypt)])));
    const first = materialOf(okPayload(await h.send(v21, [ops.get(uid)])));
    const s1 = h.keys.revealCacheStats();
    const second = materialOf(okPayload(await h.send(v21, [ops.get(uid)])));
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    const s2 = h.keys.revealCacheStats();
    expect(s2.hits).toBe(s1.hits + 1);
    expect(s2.entries).toBe(s1.entries);
    expect(s2.entries).toBeGreaterThan(0);
    expect(okPayload(await h.send(v21, [ops.destroy(uid)]))).toBeDefined();
    expect(h.keys.revealCacheStats().entries).toBe(s2.entries - 1);
    expectFailure(await h.send(v21, [ops.get(uid)]), 'KeyValueNotPresent'); // KMIP 2.1 answer (lifecycle.test.ts)
  });
});
