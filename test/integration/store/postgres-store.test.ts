// What only the PostgreSQL store has to prove (K10): two stores on one database (two kmipd nodes,
// two connection pools) conflicting on one object, serialization failures and deadlocks retried,
// a writer killed mid-stream losing nothing it acknowledged, its schema version table and
// migrations under concurrent start, a bounded pool, and backup() refusing clearly.
import { afterEach, beforeEach, expect, it } from 'vitest';
import pg from 'pg';
import { Enum } from '../../../src/kmip/registry.js';
import {
  StoreConflict,
  StoreError,
  StoreSchemaTooNew,
  openPostgresStore,
  postgresSchemaVersion,
  postgresUnitWrite,
  type PostgresObjectStore,
  type StoredObject,
} from '../../../src/store/index.js';
import { createTestDatabase, describePostgres } from '../../support/postgres.js';
import { notFoundWhole, runUntilKilled } from '../../support/store-crash-run.js';
import { nameValue, symmetricKey } from '../../support/store-objects.js';

/** One statement on a test URL, behind the stores' backs. */
async function queryAt<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** The schema a test URL points its search_path at (see createTestDatabase). */
const schemaOf = (url: string): string => (new URL(url).searchParams.get('options') ?? '').replace(/^-c search_path=/, '');

describePostgres('PostgreSQL object store', () => {
  let url: string;
  const opened: PostgresObjectStore[] = [];
  const open = async (extra: Partial<Parameters<typeof openPostgresStore>[0]> = {}) => {
    const s = await openPostgresStore({ url, ...extra });
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    url = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function create(store: PostgresObjectStore, tenant: string, name: string): Promise<string> {
    const unit = store.begin({ tenant });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, tenant, name));
    await unit.commit();
    return uid;
  }

  it('two nodes (two pools) writing one object at once: one winner per round, the other StoreConflict', async () => {
    const [a, b] = [await open(), await open()];
    const uid = await create(a, 'acme', 'shared');
    expect((await b.begin({ tenant: 'acme' }).get(uid))?.uid).toBe(uid);
    let version = 1;
    for (let round = 0; round < 10; round++) {
      const ua = a.begin({ tenant: 'acme' });
      const ub = b.begin({ tenant: 'acme' });
      const [oa, ob] = [(await ua.get(uid)) as StoredObject, (await ub.get(uid)) as StoredObject];
      expect([oa.version, ob.version]).toEqual([version, version]);
      oa.attributes = [{ name: 'Name', index: 0, value: nameValue(`a-${round}`) }];
      ob.attributes = [{ name: 'Name', index: 0, value: nameValue(`b-${round}`) }];
      ua.put(oa);
      ub.put(ob);
      const [ra, rb] = await Promise.allSettled([ua.commit(), ub.commit()]);
      expect([ra.status, rb.status].sort()).toEqual(['fulfilled', 'rejected']);
      const loser = (ra.status === 'rejected' ? ra : rb) as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(StoreConflict);
      expect((loser.reason as StoreConflict).reason).toBe('version');
      version++;
      // The winner's write is whole: its name, and only its name, is found from either node.
      const winner = ra.status === 'fulfilled' ? 'a' : 'b';
      const seen = (await b.begin({ tenant: 'acme' }).get(uid)) as StoredObject;
      expect(seen.version).toBe(version);
      expect(seen.attributes).toHaveLength(1);
      expect(await a.begin({ tenant: 'acme' }).locate({ attributes: [{ name: 'Name', value: nameValue(`${winner}-${round}`) }] })).toEqual([uid]);
    }
    const failed = a.stats().unitsFailed + b.stats().unitsFailed;
    expect(failed).toBe(10);
    // Row locks order the writers; nothing had to be retried.
    expect(a.stats().retries + b.stats().retries).toBe(0);
  });

  it('a create on one node is seen by the other; a destroy on the other is seen back', async () => {
    const [a, b] = [await open(), await open()];
    const uid = await create(a, 'acme', 'k');
    const ub = b.begin({ tenant: 'acme' });
    const obj = (await ub.get(uid)) as StoredObject;
    obj.state = Enum.State.Destroyed;
    obj.material = null;
    ub.put(obj);
    await ub.commit();
    const back = (await a.begin({ tenant: 'acme' }).get(uid)) as StoredObject;
    expect(back.state).toBe(Enum.State.Destroyed);
    expect(back.material).toBeNull();
    expect(await a.begin({ tenant: 'other' }).get(uid)).toBeUndefined();
  });

  it('serialization failures are retried: two SERIALIZABLE transactions in write skew both end up committed', async () => {
    const [a, b] = [await open(), await open()];
    await a.transaction(async (c) => {
      await c.query('CREATE TABLE on_call (doctor text PRIMARY KEY, on_duty boolean NOT NULL)');
      await c.query("INSERT INTO on_call VALUES ('alice', true), ('bob', true)");
    });
    // Each reads how many are on duty, then takes its own doctor off: the classic write skew
    // that SERIALIZABLE must refuse for one of them (40001). Both first attempts read before
    // either writes; the retry runs alone and sees the other's commit.
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((r) => (release = r));
    const attempts = { alice: 0, bob: 0 };
    const offDuty = (store: PostgresObjectStore, doctor: 'alice' | 'bob') =>
      store.transaction(
        async (c) => {
          attempts[doctor]++;
          const n = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM on_call WHERE on_duty')).rows[0]?.n ?? 0;
          if (attempts[doctor] === 1) {
            if (++arrived === 2) release();
            await bothRead;
          }
          if (n >= 2) await c.query('UPDATE on_call SET on_duty = false WHERE doctor = $1', [doctor]);
          return n;
        },
        { isolation: 'serializable' },
      );
    const [na, nb] = await Promise.all([offDuty(a, 'alice'), offDuty(b, 'bob')]);
    // The retried one saw the other's commit (one on duty left) and changed nothing.
    expect([na, nb].sort()).toEqual([1, 2]);
    expect(a.stats().retries + b.stats().retries).toBe(1);
    expect(attempts.alice + attempts.bob).toBe(3);
    const still = await queryAt<{ n: number }>(url, 'SELECT count(*)::int AS n FROM on_call WHERE on_duty');
    expect(still[0]?.n).toBe(1);
  });

  it('deadlocks are retried: two transactions locking two rows in opposite orders both commit', async () => {
    const [a, b] = [await open(), await open()];
    await a.transaction(async (c) => {
      await c.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)');
      await c.query('INSERT INTO counters VALUES (1, 0), (2, 0)');
    });
    let arrived = 0;
    let release!: () => void;
    const bothLocked = new Promise<void>((r) => (release = r));
    const bump = (store: PostgresObjectStore, first: number, second: number) => {
      let attempt = 0;
      return store.transaction(async (c) => {
        attempt++;
        await c.query('UPDATE counters SET n = n + 1 WHERE id = $1', [first]);
        if (attempt === 1) {
          if (++arrived === 2) release();
          await bothLocked;
        }
        await c.query('UPDATE counters SET n = n + 1 WHERE id = $1', [second]);
      });
    };
    await Promise.all([bump(a, 1, 2), bump(b, 2, 1)]);
    expect(a.stats().retries + b.stats().retries).toBe(1);
    const rows = await a.transaction(async (c) => (await c.query<{ n: number }>('SELECT n FROM counters ORDER BY id')).rows);
    expect(rows.map((r) => r.n)).toEqual([2, 2]);
  }, 30_000);

  it('a writer SIGKILLed mid-stream loses nothing it acknowledged, and leaves no half-written object', async () => {
    let total = 0;
    for (const killAfter of [400, 200]) {
      const { lines, signal } = await runUntilKilled(url, killAfter);
      expect(signal).toBe('SIGKILL');
      expect(lines.length).toBeGreaterThanOrEqual(killAfter - 1);
      total += lines.length;
      const store = await open();
      expect(await notFoundWhole(store, lines)).toEqual([]);
      const counts = await store.transaction(async (c) => {
        const objects = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM objects')).rows[0]?.n ?? -1;
        const partial = (await c.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM objects o WHERE (SELECT count(*) FROM attributes a WHERE a.uid = o.uid) <> 3',
        )).rows[0]?.n ?? -1;
        return { objects, partial };
      });
      // Commits may have become durable without being printed, never the other way round; and
      // the transactions the kill cut off left nothing behind.
      expect(counts.objects).toBeGreaterThanOrEqual(total);
      expect(counts.partial).toBe(0);
      console.log(`postgres crash round: ${lines.length} acknowledged, ${counts.objects} objects in total`);
    }
  }, 120_000);

  it('records its schema version, and refuses a database written by a newer kmipd', async () => {
    const [a, b] = await Promise.all([open(), open()]); // two nodes starting at once: one migrates
    const rows = await a.transaction(async (c) => (await c.query<{ version: number }>('SELECT version FROM kmipd_schema_version ORDER BY version')).rows);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: postgresSchemaVersion }, (_, i) => i + 1));
    await b.transaction(async (c) => {
      await c.query("INSERT INTO kmipd_schema_version (version, name) VALUES ($1, 'from the future')", [postgresSchemaVersion + 1]);
    });
    const err = await openPostgresStore({ url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSchemaTooNew);
    expect((err as StoreSchemaTooNew).found).toBe(postgresSchemaVersion + 1);
    expect(String((err as Error).message)).not.toContain(new URL(url).password);
  });

  it('migrate: false refuses an empty database instead of creating tables', async () => {
    await expect(openPostgresStore({ url, migrate: false })).rejects.toThrow(/kmipd migrate/);
    const tables = await queryAt<{ n: number }>(url, 'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [
      schemaOf(url),
    ]);
    expect(tables[0]?.n).toBe(0);
    // The same query does see tables once a store has created them.
    await open();
    const after = await queryAt<{ n: number }>(url, 'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [
      schemaOf(url),
    ]);
    expect(after[0]?.n).toBeGreaterThan(0);
  });

  it('never opens more connections than its pool allows', async () => {
    const store = await open({ pool: { max: 2 } });
    let most = 0;
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await create(store, 't', `k${i}`);
        most = Math.max(most, store.pool.totalCount);
      }),
    );
    expect(store.stats().unitsCommitted).toBe(40);
    expect(most).toBe(2);
  });

  it('commits durably even when the URL asks for synchronous_commit=off', async () => {
    const lax = new URL(url);
    lax.searchParams.set('options', `-c synchronous_commit=off -c search_path=${schemaOf(url)}`);
    const store = await open({ url: lax.toString() });
    // The URL's option reached the server (search_path works) and was overridden for durability.
    const [settings] = await store.transaction(async (c) =>
      (await c.query<{ sc: string; sp: string }>('SELECT current_setting($1) AS sc, current_setting($2) AS sp', ['synchronous_commit', 'search_path'])).rows,
    );
    expect(settings).toEqual({ sc: 'on', sp: schemaOf(url) });
    const uid = await create(store, 't', 'durable');
    expect(await store.begin({ tenant: 't' }).get(uid)).toBeDefined();
  });

  it('attached writes run in the unit\'s transaction: all or nothing with its objects; other backends refused', async () => {
    const store = await open();
    await store.transaction(async (c) => {
      await c.query('CREATE TABLE schedule (uid text PRIMARY KEY)');
    });
    const unit = store.begin({ tenant: 't' });
    const uid = store.newUid();
    unit.insert(symmetricKey(uid, 't', 'scheduled'));
    unit.attach(postgresUnitWrite(async (c) => void (await c.query('INSERT INTO schedule VALUES ($1)', [uid]))));
    await unit.commit();
    expect(await queryAt(url, 'SELECT uid FROM schedule')).toEqual([{ uid }]);

    const failing = store.begin({ tenant: 't' });
    const lost = store.newUid();
    failing.insert(symmetricKey(lost, 't', 'never'));
    failing.attach(postgresUnitWrite(async (c) => void (await c.query('INSERT INTO schedule VALUES ($1)', [uid])))); // duplicate key
    await expect(failing.commit()).rejects.toThrow(StoreError);
    expect(await store.begin({ tenant: 't' }).get(lost)).toBeUndefined();
    expect(() => store.begin({ tenant: 't' }).attach({ backend: 'sqlite' })).toThrow(/cannot join a PostgreSQL unit/);
  });

  it('backup() says a PostgreSQL deployment is backed up with the server tools', async () => {
    const store = await open();
    const err = await store.backup('/tmp/never-written').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('Unsupported');
    expect((err as Error).message).toMatch(/pg_basebackup/);
  });

  it('a wrong password fails to open with a store error that does not repeat it', async () => {
    const bad = new URL(url);
    bad.password = 'wrong-secret-123';
    const err = await openPostgresStore({ url: bad.toString() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).not.toContain('wrong-secret-123');
    expect((err as Error).message).toContain('***');
  });
});
