// K10: `kmipd init --store postgres://...`, `kmipd migrate` and the CLI against a PostgreSQL
// deployment, as child processes of the built CLI on a real database: the password in the URL is
// moved out of kmipd.json into store-password (0600) and never printed; the schema is created and
// migrate finds it current; a second init against the same database is refused; the password may
// come from the environment instead of a file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { describeHsm } from '../../support/softhsm.js';
import { postgresSchemaVersion } from '../../../src/store/postgres/migrations.js';

const kmipdBin = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

function kmipd(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [kmipdBin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describeHsm('kmipd init --store, migrate', () => {
  describePostgres('against PostgreSQL', () => {
    let root: string;
    let url: string;
    let password: string;

    beforeAll(async () => {
      root = mkdtempSync(path.join(os.tmpdir(), 'kmipd-init-pg-'));
      url = await createTestDatabase('kmipd_init');
      password = decodeURIComponent(new URL(url).password);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('init puts the store in the database and the password in store-password, not in kmipd.json or the output', () => {
      const dir = path.join(root, 'one');
      const r = kmipd(['init', '--dir', dir, '--no-admin', '--store', url]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).not.toContain(password);
      expect(r.out).toMatch(/PostgreSQL postgres:\/\/.*password in store-password/);
      const config = readFileSync(path.join(dir, 'kmipd.json'), 'utf8');
      expect(config).not.toContain(password);
      const store = (JSON.parse(config) as { store: { kind: string; url: string; passwordFile: string } }).store;
      expect(store).toMatchObject({ kind: 'postgres', passwordFile: 'store-password' });
      expect(new URL(store.url).password).toBe('');
      expect(readFileSync(path.join(dir, 'store-password'), 'utf8')).toBe(`${password}\n`);
      expect(statSync(path.join(dir, 'store-password')).mode & 0o777).toBe(0o600);
      expect(existsSync(path.join(dir, 'data'))).toBe(false);

      const m = kmipd(['migrate', '--dir', dir]);
      expect(m.status, m.out).toBe(0);
      expect(m.out).toMatch(new RegExp(`^postgres store postgres://[^ ]*: schema already at version ${postgresSchemaVersion}$`, 'm'));
      expect(m.out).not.toContain(password);

      const roles = kmipd(['role', 'list', '--dir', dir]);
      expect(roles.status, roles.out).toBe(0);
      expect(roles.out).toMatch(/fingerprint=[0-9a-f]{64} .*Admin/);
    });

    it('refuses a second deployment in the same database', () => {
      const r = kmipd(['init', '--dir', path.join(root, 'two'), '--no-admin', '--store', url]);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/already holds a deployment/);
      expect(r.out).not.toContain(password);
      expect(existsSync(path.join(root, 'two', 'kmipd.json'))).toBe(false);
    });

    it('takes the password from the environment variable when the file is not configured', () => {
      const dir = path.join(root, 'one');
      const configPath = path.join(dir, 'kmipd.json');
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { store: Record<string, unknown> };
      config.store['passwordFile'] = null;
      writeFileSync(configPath, JSON.stringify(config));
      const without = kmipd(['role', 'list', '--dir', dir], { KMIPD_STORE_PASSWORD: '' });
      expect(without.status).toBe(1);
      expect(without.out).not.toContain(password);
      const withEnv = kmipd(['role', 'list', '--dir', dir], { KMIPD_STORE_PASSWORD: password });
      expect(withEnv.status, withEnv.out).toBe(0);
    });
  });
});
