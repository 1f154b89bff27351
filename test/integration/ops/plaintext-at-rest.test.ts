// "Key material never rests in plaintext": after creating 50 keys (and registering some), the
// SQLite database file, its -wal and -shm are searched byte by byte for every key's plaintext, as
// Get reveals it. Zero hits. A planted control proves the search finds what is there.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Enum, Mask } from '../../../src/kmip/registry.js';
import { openOpsHarness, type OpsHarness } from '../../support/ops-harness.js';
import { describeHsm } from '../../support/softhsm.js';
import { attr, materialOf, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const CA = Enum.CryptographicAlgorithm;
const M = Mask.CryptographicUsageMask;

describeHsm('Key material at rest (SQLite file, -wal, -shm)', () => {
  let h: OpsHarness;
  beforeAll(async () => {
    h = await openOpsHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  async function files(): Promise<[string, Buffer][]> {
    const out: [string, Buffer][] = [];
    for (const suffix of ['', '-wal', '-shm']) {
      const p = h.dbPath + suffix;
      if (existsSync(p)) out.push([p, await readFile(p)]);
    }
    return out;
  }

  it('holds none of 50 created keys, nor registered keys and passwords, in plaintext', async () => {
    const secrets: Buffer[] = [];
    const algorithms = [
      [CA.AES, 128],
      [CA.AES, 192],
      [CA.AES, 256],
      [CA.DES3, 168],
      [CA.HMAC_SHA256, 256],
    ] as const;
    for (let i = 0; i < 50; i++) {
      const version = i % 2 === 0 ? v14 : v21;
      const [alg, bits] = algorithms[i % algorithms.length]!;
      // Destroying some too: the material of a destroyed key must be gone, not merely hidden.
      const res = await h.send(version, [ops.createKey(version, alg, bits, M.Encrypt | M.Decrypt, [attr.name(`scan-${i}`)]), ops.get(undefined)], {
        batchOrderOption: true,
      });
      okPayload(res, 0);
      secrets.push(Buffer.from(materialOf(okPayload(res, 1))));
      if (i % 5 === 0) okPayload(await h.send(version, [ops.destroy(uidOf(okPayload(res, 0)))]));
    }
    for (let i = 0; i < 5; i++) {
      const key = Buffer.from(`registered-key-${i}-${Math.random()}`.padEnd(32, 'k').slice(0, 32));
      const pw = Buffer.from(`sed-array-password-${i}-${Math.random()}`);
      okPayload(await h.send(v21, [ops.registerKey(v21, key, M.Encrypt)]));
      okPayload(await h.send(v14, [ops.registerSecret(v14, pw)]));
      secrets.push(key, pw);
    }
    expect(secrets.every((s) => s.length >= 16)).toBe(true);

    const found = await files();
    expect(found.map(([p]) => p)).toContain(h.dbPath);
    expect(found.reduce((n, [, b]) => n + b.length, 0)).toBeGreaterThan(0);
    const hits: string[] = [];
    for (const [path, content] of found) {
      secrets.forEach((s, i) => {
        if (content.includes(s)) hits.push(`secret ${i} in ${path}`);
      });
    }
    expect(hits).toEqual([]);

    // Control: a value that is stored in clear (a Name) is found by the same search.
    const control = Buffer.from('scan-49');
    expect(found.some(([, content]) => content.includes(control))).toBe(true);
  });
});
