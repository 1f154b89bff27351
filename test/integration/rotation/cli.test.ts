// `kmipd policy set|show|clear` and `kmipd keys due` (K8), through the real command line in
// process, on a deployment directory whose store holds keys of known Initial Dates.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { dateValue, symmetricKey, tempDir } from '../../support/store-objects.js';

const DAY_S = 86_400;
let tmp: ReturnType<typeof tempDir>;
let dir: string;

async function cli(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'kmipd', ...args, '--dir', dir]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

beforeEach(async () => {
  tmp = tempDir('kmipd-policy-cli-');
  dir = tmp.dir;
  writeFileSync(path.join(dir, 'kmipd.json'), '{}');
  mkdirSync(path.join(dir, 'data'));
  const nowS = BigInt(Math.floor(Date.now() / 1000));
  const store = await openSqliteStore({ path: path.join(dir, 'data', 'kmipd.db') });
  const unit = store.begin({ tenant: null });
  const key = (uid: string, tenant: string, ageDays: number, group?: string) =>
    symmetricKey(uid, tenant, uid, {
      state: Enum.State.Active,
      extra: [
        { name: 'InitialDate', index: 0, value: dateValue(nowS - BigInt(ageDays * DAY_S)) },
        ...(group === undefined ? [] : [{ name: 'ObjectGroup', index: 0, value: { tag: Tag.AttributeValue, type: 'TextString' as const, value: group } }]),
      ],
    });
  unit.insert(key('old-key', 'acme', 35));
  unit.insert(key('soon-key', 'acme', 25));
  unit.insert(key('fresh-key', 'acme', 0));
  unit.insert(key('backup-key', 'acme', 2, 'backup'));
  unit.insert(key('other-tenant', 'zeta', 100));
  await unit.commit();
  await store.close();
});

afterEach(() => {
  tmp.remove();
});

it('sets a tenant default, a group policy and a key policy; keys due lists what is due, overdue first', async () => {
  expect(await cli(['keys', 'due'])).toBe('(no rotations due)\n');
  expect(await cli(['policy', 'set', '--tenant', 'acme', '--interval', '30d', '--grace', '7d'])).toMatch(/^set: tenant acme: every 30d, automatic, grace 7d/);
  expect(await cli(['policy', 'set', '--tenant', 'acme', '--group', 'backup', '--interval', '1d', '--no-automatic'])).toMatch(
    /^set: group backup of tenant acme: every 1d, manual, no grace/,
  );

  const due = (await cli(['keys', 'due'])).trim().split('\n');
  expect(due).toHaveLength(2);
  expect(due[0]).toMatch(/^OVERDUE since .* old-key {2}tenant acme {2}generation 0 {2}automatic {2}\(tenant: tenant acme: every 30d/);
  expect(due[1]).toMatch(/^OVERDUE since .* backup-key .*MANUAL/);
  const within = (await cli(['keys', 'due', '--within', '7d'])).trim().split('\n');
  expect(within.map((l) => /\s(\S+-key)\s/.exec(l)?.[1])).toEqual(['old-key', 'backup-key', 'soon-key']);
  expect(await cli(['keys', 'due', '--tenant', 'zeta'])).toBe('(no rotations due)\n');

  // A key policy: the tenant is read from the key; other options keep their value on update.
  expect(await cli(['policy', 'set', 'fresh-key', '--interval', '3600s'])).toMatch(/^set: key fresh-key \(tenant acme\): every 1h, automatic, no grace/);
  expect(await cli(['policy', 'set', 'fresh-key', '--grace', '0s'])).toMatch(/^updated: key fresh-key \(tenant acme\): every 1h, automatic, grace 0s/);
  expect(await cli(['policy', 'show', 'fresh-key'])).toMatch(/effective \(key\): key fresh-key \(tenant acme\): every 1h/);
  expect(await cli(['policy', 'show', 'soon-key'])).toMatch(/no policy of its own\neffective \(tenant\): tenant acme: every 30d/);
  expect((await cli(['policy', 'show'])).trim().split('\n').map((l) => l.split(':')[0])).toEqual(['key fresh-key (tenant acme)', 'group backup of tenant acme', 'tenant acme']);

  expect(await cli(['policy', 'clear', '--tenant', 'acme', '--group', 'backup'])).toMatch(/^cleared: group backup of tenant acme/);
  expect((await cli(['keys', 'due'])).trim().split('\n')).toHaveLength(1);
});

it('refuses what it cannot honour, with the reason', async () => {
  await expect(cli(['policy', 'set', '--tenant', 'acme'])).rejects.toThrow(/--interval is required/);
  await expect(cli(['policy', 'set', '--tenant', 'acme', '--interval', 'monthly'])).rejects.toThrow(/not a duration/);
  await expect(cli(['policy', 'set', 'no-such-key', '--interval', '1d'])).rejects.toThrow(/no object no-such-key/);
  await expect(cli(['policy', 'set', 'old-key', '--tenant', 'zeta', '--interval', '1d'])).rejects.toThrow(/belongs to tenant acme/);
  await expect(cli(['policy', 'clear', '--tenant', 'acme'])).rejects.toThrow(/has no policy/);
  await expect(cli(['keys', 'due', '--within', 'soon'])).rejects.toThrow(/not a duration/);
});
