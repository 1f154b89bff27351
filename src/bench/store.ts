/**
 * The object store alone (issue K3 closing note): durable creates per second from 16 concurrent
 * units of work, with and without group commit, reads (get by Unique Identifier) per second, and
 * in the same run the raw SQLite ceiling of one row per durable commit (WAL, synchronous=FULL), so
 * that the store's numbers can be compared with what the disk allows on this machine right now.
 *
 *   node dist/bench/store.js [--seconds 3] [--concurrency 16] [--json OUT] [--store postgres://…]
 *
 * No HSM: objects carry fixed bytes in place of wrapped material (the store never sees more).
 * Each measurement uses a fresh database file in a temporary directory.
 *
 * --store postgres://user:pw@host/db also measures the PostgreSQL store (K10) on that server, in
 * the same run: creates from the same concurrent units, reads, and the raw ceiling of one row per
 * durable commit over one connection. It works in a scratch schema it creates and drops.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Enum, Tag } from '../kmip/registry.js';
import { singleCommitCeiling } from './sqlite-ceiling.js';
import { openPostgresStore, openSqliteStore, type NewObject, type ObjectStore } from '../store/index.js';
import { redactUrl } from '../config/config.js';

interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

interface Report {
  concurrency: number;
  rawSingleCommitCeiling: Rate;
  createsGroupCommit: Rate & { transactions: number; largestGroup: number };
  createsNoGroupCommit: Rate & { transactions: number };
  reads: Rate;
  postgres?: PostgresReport;
}

interface PostgresReport {
  where: string;
  rawSingleCommitCeiling: Rate;
  creates: Rate & { transactions: number; retries: number };
  reads: Rate;
  concurrentReads: Rate;
}

function rate(ops: number, ms: number): Rate {
  return { ops, seconds: ms / 1000, perSecond: Math.round((ops * 1000) / ms) };
}

function newKey(uid: string, n: number): NewObject {
  return {
    uid,
    tenant: 'bench',
    objectType: Enum.ObjectType.SymmetricKey,
    state: Enum.State.PreActive,
    createdAt: Date.now(),
    material: { kekVersion: 1, wrapped: Buffer.alloc(48, n & 0xff), mac: Buffer.alloc(32, 7), meta: Uint8Array.from([1, 2, 3]) },
    attributes: [
      {
        name: 'Name',
        index: 0,
        value: {
          tag: Tag.Name,
          type: 'Structure',
          value: [
            { tag: Tag.NameValue, type: 'TextString', value: `bench-${n}` },
            { tag: Tag.NameType, type: 'Enumeration', value: Enum.NameType.UninterpretedTextString },
          ],
        },
      },
      { name: 'CryptographicAlgorithm', index: 0, value: { tag: Tag.AttributeValue, type: 'Enumeration', value: Enum.CryptographicAlgorithm.AES } },
      { name: 'CryptographicLength', index: 0, value: { tag: Tag.AttributeValue, type: 'Integer', value: 256 } },
    ],
  };
}

function rawCeiling(file: string, seconds: number): Rate {
  const r = singleCommitCeiling(file, seconds);
  return rate(r.ops, r.seconds * 1000);
}

async function creates(store: ObjectStore, seconds: number, concurrency: number): Promise<{ rate: Rate; uids: string[] }> {
  const uids: string[] = [];
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const unit = store.begin({ tenant: 'bench' });
      const uid = store.newUid();
      unit.insert(newKey(uid, n++));
      await unit.commit();
      uids.push(uid);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rate: rate(uids.length, performance.now() - start), uids };
}

/** Gets by identifier, each in its own unit, from `concurrency` loops at once. */
async function reads(store: ObjectStore, uids: readonly string[], seconds: number, concurrency = 1): Promise<Rate> {
  const start = performance.now();
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - start < seconds * 1000) {
      for (let i = 0; i < 100; i++) {
        const unit = store.begin({ tenant: 'bench' });
        const obj = await unit.get(uids[(n++ * 7919) % uids.length]!);
        unit.rollback();
        if (obj === undefined) throw new Error('a created object was not found');
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return rate(n, performance.now() - start);
}

/** One row per transaction over one connection (autocommit), synchronous_commit=on. */
async function rawPostgresCeiling(url: string, seconds: number): Promise<Rate> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET synchronous_commit = on');
    await c.query('CREATE TABLE raw_ceiling (id text PRIMARY KEY, payload bytea NOT NULL)');
    const payload = Buffer.alloc(200, 1);
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      await c.query({ name: 'raw', text: 'INSERT INTO raw_ceiling VALUES ($1, $2)', values: [`${Date.now().toString(36)}-${n}`, payload] });
      n++;
    }
    return rate(n, performance.now() - start);
  } finally {
    await c.end();
  }
}

/** The PostgreSQL store on `url`, in a scratch schema that is dropped afterwards. */
async function runPostgres(url: string, seconds: number, concurrency: number): Promise<PostgresReport> {
  const schema = `kmipd_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const scoped = new URL(url);
    scoped.searchParams.set('options', `-c search_path=${schema}`);
    const rawSingleCommitCeiling = await rawPostgresCeiling(scoped.toString(), seconds);
    const store = await openPostgresStore({ url: scoped.toString(), pool: { max: concurrency } });
    try {
      const c = await creates(store, seconds, concurrency);
      const st = store.stats();
      const readRate = await reads(store, c.uids, seconds);
      const concurrentReads = await reads(store, c.uids, seconds, concurrency);
      return {
        where: redactUrl(url),
        rawSingleCommitCeiling,
        creates: { ...c.rate, transactions: st.transactions, retries: st.retries },
        reads: readRate,
        concurrentReads,
      };
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

export async function runStoreBench(seconds: number, concurrency: number, postgresUrl?: string): Promise<Report> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmipd-bench-store-'));
  try {
    const rawSingleCommitCeiling = rawCeiling(path.join(dir, 'raw.db'), seconds);

    const grouped = await openSqliteStore({ path: path.join(dir, 'grouped.db'), groupCommit: true });
    const g = await creates(grouped, seconds, concurrency);
    const gStats = grouped.stats();
    const readRate = await reads(grouped, g.uids, seconds);
    await grouped.close();

    const single = await openSqliteStore({ path: path.join(dir, 'single.db'), groupCommit: false });
    const s = await creates(single, seconds, concurrency);
    const sStats = single.stats();
    await single.close();

    return {
      concurrency,
      rawSingleCommitCeiling,
      createsGroupCommit: { ...g.rate, transactions: gStats.transactions, largestGroup: gStats.largestGroup },
      createsNoGroupCommit: { ...s.rate, transactions: sStats.transactions },
      reads: readRate,
      ...(postgresUrl === undefined ? {} : { postgres: await runPostgres(postgresUrl, seconds, concurrency) }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '16' },
      json: { type: 'string' },
      store: { type: 'string' },
    },
  });
  if (values.store !== undefined && !/^postgres(ql)?:\/\//.test(values.store)) throw new Error('--store takes a postgres:// URL');
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 1) throw new Error('--seconds > 0 and --concurrency ≥ 1 required');
  const r = await runStoreBench(seconds, concurrency, values.store);
  const line = (label: string, x: Rate, extra = ''): string =>
    `${label.padEnd(44)} ${String(x.perSecond).padStart(8)} /s  (${x.ops} in ${x.seconds.toFixed(2)} s)${extra}`;
  process.stdout.write(
    [
      `kmipd object store, SQLite WAL synchronous=FULL, ${concurrency} concurrent units, ${seconds} s each`,
      line('raw SQLite, one row per durable commit', r.rawSingleCommitCeiling),
      line(`creates, group commit`, r.createsGroupCommit, `  ${r.createsGroupCommit.transactions} commits, largest group ${r.createsGroupCommit.largestGroup}`),
      line(`creates, no group commit`, r.createsNoGroupCommit, `  ${r.createsNoGroupCommit.transactions} commits`),
      line('reads (get by Unique Identifier, one unit each)', r.reads),
      ...(r.postgres === undefined
        ? []
        : [
            `PostgreSQL ${r.postgres.where}, synchronous_commit=on, pool of ${concurrency}`,
            line('raw PostgreSQL, one row per durable commit', r.postgres.rawSingleCommitCeiling),
            line('creates (one transaction per unit)', r.postgres.creates, `  ${r.postgres.creates.retries} retries`),
            line('reads (get by Unique Identifier, one unit each)', r.postgres.reads),
            line(`reads, ${concurrency} at once`, r.postgres.concurrentReads),
          ]),
      '',
    ].join('\n'),
  );
  if (values.json) writeFileSync(values.json, JSON.stringify(r, null, 2));
}

await main();
