// Automatic key rotation in real time (K8): a real kmipd over mutual TLS with the production wiring
// (scheduler polling every 200 ms), a 2-second policy set with the real `kmipd policy set` CLI, and
// the PyKMIP client (KMIP 1.2, which has no Rotate attributes) as the appliance. It looks its key
// up by Name and must see two rotations; every identifier it saw must still answer Get.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/config.js';
import { openStoreBackend } from '../../src/store/backend.js';
import type { RotationRecord } from '../../src/rotation/types.js';
import type { KmipdUnderTest } from '../support/kmipd-under-test.js';
import { describeWithPykmip, interopScript, kmipdTarget, runChecks, useKmipdUnderTest, type CheckLine } from '../support/pykmip-run.js';

const SCRIPT = interopScript('pykmip_rotation.py');

/** One command of the appliance script (`create` or `watch`): its one result line. */
async function runScript(kmipd: KmipdUnderTest, args: string[]): Promise<{ result: CheckLine | undefined; stderr: string }> {
  const run = await runChecks(SCRIPT, kmipdTarget(kmipd), { args });
  return { result: run.lines[0], stderr: run.stderr };
}

async function cli(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'kmipd', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describeWithPykmip('automatic rotation with the PyKMIP client (real time, mTLS)', () => {
  const kmipd = useKmipdUnderTest({ config: { rotation: { enabled: true, pollMs: 200, leaseMs: 10_000, batchSize: 16 } } });

  it('a 2-second policy rotates a key PyKMIP finds by Name; pinned identifiers keep working within the grace', async () => {
    const k = kmipd();
    const name = `rotating-${process.pid}-${Date.now()}`;
    const created = await runScript(k, ['create', '--name', name]);
    expect(created.result, created.stderr).toMatchObject({ ok: true });
    const first = created.result!.detail!['uid'] as string;

    const set = await cli(['policy', 'set', first, '--dir', k.dir, '--interval', '2s', '--grace', '60s']);
    expect(set).toMatch(new RegExp(`set: key ${first} \\(tenant default\\): every 2s, automatic, grace 1m`));
    expect(await cli(['policy', 'show', first, '--dir', k.dir])).toMatch(/effective \(key\): .*every 2s/);

    const started = Date.now();
    const watched = await runScript(k, ['watch', '--name', name, '--rotations', '2', '--timeout', '30']);
    const elapsed = Date.now() - started;
    expect(watched.result?.error ?? 'ok', watched.stderr).toBe('ok');
    const seen = watched.result!.detail!['seen'] as string[];
    expect(seen).toHaveLength(3);
    expect(watched.result!.detail!['distinct_material']).toBe(true);
    // Within the 60-second grace every replaced key is still Active for pinned clients.
    expect(watched.result!.detail!['states']).toEqual(Object.fromEntries(seen.map((u) => [u, 'ACTIVE'])));
    // Two rotations at 2-second intervals cannot have taken much less than 2 s.
    expect(elapsed).toBeGreaterThan(1500);

    // The store's record: a chain, each key replaced exactly once, by the scheduler's policy.
    const backend = await openStoreBackend(loadConfig(k.dir).store, k.dir);
    let history: RotationRecord[];
    try {
      history = await backend.rotation.history({ tenant: 'default' });
    } finally {
      await backend.close();
    }
    // Follow the chain from the key PyKMIP created: generations 1, 2, … one replacement per key.
    expect(new Set(history.map((r) => r.oldUid)).size).toBe(history.length);
    const chain = [first];
    for (let next = history.find((r) => r.oldUid === first); next !== undefined; next = history.find((r) => r.oldUid === next!.newUid)) {
      expect(next.generation).toBe(chain.length);
      chain.push(next.newUid);
    }
    expect(chain.length).toBe(history.length + 1);
    // What the appliance saw by Name is a run of consecutive keys of that chain (it may have
    // started watching after the first rotation).
    const start = chain.indexOf(seen[0]!);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(chain.slice(start, start + 3)).toEqual(seen);

    const metrics = k.running.metrics.render();
    const rotated = Number(/kmipd_rotations_total\{result="rotated"\} (\d+)/.exec(metrics)?.[1] ?? 'NaN');
    expect(rotated).toBe(history.length);
    expect(metrics).toMatch(/kmipd_rotations_total\{result="failed"\} 0/);

    // Each rotation is in the audit trail as the scheduler's ReKey naming its policy, and the
    // chain still verifies with those records in it.
    const audited = (await cli(['audit', 'show', '--dir', k.dir, '--principal', 'scheduler', '--op', 'ReKey', '--json']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { uids: string[]; status: string; rule: string; tenant: string });
    expect(audited.length).toBeGreaterThanOrEqual(history.length);
    for (const r of history) {
      expect(audited).toContainEqual(expect.objectContaining({ uids: [r.oldUid, r.newUid], status: 'Success', tenant: 'default', rule: expect.stringMatching(/every 2s/) }));
    }
    expect(await cli(['audit', 'verify', '--dir', k.dir])).toMatch(/^audit trail intact: \d+ records/);

    const due = await cli(['keys', 'due', '--dir', k.dir, '--within', '1h']);
    expect(due).toMatch(/every 2s/);
    expect(await cli(['policy', 'clear', history[history.length - 1]!.newUid, '--dir', k.dir])).toMatch(/cleared/);
  }, 90_000);
});
