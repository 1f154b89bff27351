// The test PostgreSQL server itself (test/support/postgres.ts): durable settings, loopback and
// socket only, password authentication over TCP, one fresh schema per caller.
import { expect, it } from 'vitest';
import pg from 'pg';
import { adminQuery, createTestDatabase, describePostgres, testPostgresServer } from '../../support/postgres.js';

describePostgres('test PostgreSQL server', () => {
  it('runs with fsync and synchronous_commit on, listening on 127.0.0.1 and a private socket only', async () => {
    const settings = await adminQuery<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'listen_addresses', 'unix_socket_directories', 'full_page_writes')",
    );
    const s = Object.fromEntries(settings.map((r) => [r.name, r.setting]));
    const server = await testPostgresServer();
    expect(s).toEqual({
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      listen_addresses: '127.0.0.1',
      unix_socket_directories: server.socketDir,
    });
  });

  it('gives each caller its own empty schema, and refuses a wrong password', async () => {
    const [a, b] = [await createTestDatabase(), await createTestDatabase()];
    expect(a).not.toBe(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    await client.query('CREATE TABLE only_in_a (x int)');
    await client.end();
    const other = new pg.Client({ connectionString: b });
    await other.connect();
    // Unqualified names resolve in the caller's own schema only.
    expect((await other.query("SELECT to_regclass('only_in_a') AS t")).rows[0].t).toBeNull();
    await other.query('CREATE TABLE only_in_a (y int)');
    await other.end();

    const wrong = new URL(a);
    wrong.password = 'not-the-password';
    const bad = new pg.Client({ connectionString: wrong.toString() });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
  });
});
