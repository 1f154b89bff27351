/**
 * Locate by Name among many keys (KMIP 1.4 §4.9 / 2.1 §6.1.28), measured end to end through the
 * executor: request bytes in (decode, header checks, handler, SQLite query), response bytes out.
 *
 *   node dist/bench/locate.js [--objects 100000] [--queries 200] [--tenants 4] [--version 1.4] [--json OUT]
 *
 * The store is a fresh SQLite file in a temporary directory, filled straight through the store
 * (src/bench/locate-corpus.ts); no HSM is involved, since Locate never touches key material.
 * Each query looks up a random existing name of the measured tenant; the report gives the median,
 * p90, p99 and max wall-clock latency and the median CPU time per query, in milliseconds (on a
 * shared machine the wall-clock tail is mostly other processes' time slices).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { encodeRequest, parseResponse } from '../client/request.js';
import { createExecutor } from '../dispatch/executor.js';
import type { KeyProtector } from '../hsm/key-protector.js';
import { Enum, Tag, parseVersion } from '../kmip/registry.js';
import { createHandlerTable } from '../ops/index.js';
import { singleTenantAccess } from '../ops/types.js';
import { openSqliteStore } from '../store/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { corpusName, seedKeys } from './locate-corpus.js';

export interface LocateBenchResult {
  objects: number;
  queries: number;
  seedSeconds: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Median process CPU time per query: steadier than wall time on a loaded machine. */
  cpuMedianMs: number;
}

/** No key is ever used: any call is a bug in the benchmark. */
const noKeys = new Proxy({} as KeyProtector, {
  get() {
    throw new Error('the Locate benchmark uses no keys');
  },
});

export async function runLocateBench(opts: { objects: number; queries: number; tenants: number; version: string }): Promise<LocateBenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmipd-bench-locate-'));
  const store = await openSqliteStore({ path: path.join(dir, 'bench.db') });
  try {
    const tenants = Array.from({ length: opts.tenants }, (_, i) => `tenant-${i}`);
    const t0 = performance.now();
    await seedKeys(store, { objects: opts.objects, tenants });
    store.db.exec('ANALYZE');
    const seedSeconds = (performance.now() - t0) / 1000;

    const executor = createExecutor({
      handlers: createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 'bench' }),
      limits: { maxMessageBytes: 1 << 20, maxDepth: 32, maxBatchCount: 64 },
      log: pino({ level: 'silent' }),
      services: { openUnit: (scope) => store.begin({ tenant: scope }), keys: noKeys },
      access: singleTenantAccess('tenant-0'),
    });
    const principal = { subject: 'CN=bench', fingerprint: 'bench', certificate: {} as X509Certificate };
    const conn = { id: 'bench', remoteAddress: '127.0.0.1', principal };
    const version = parseVersion(opts.version);
    const v2 = version.major >= 2;

    const request = (i: number): Buffer => {
      const name = corpusName(i);
      const filter: TtlvNode = v2
        ? { ...name, tag: Tag.Name }
        : {
            tag: Tag.Attribute,
            type: 'Structure',
            value: [{ tag: Tag.AttributeName, type: 'TextString', value: 'Name' }, name],
          };
      const payload: TtlvNode[] = v2 ? [{ tag: Tag.Attributes, type: 'Structure', value: [filter] }] : [filter];
      return encodeRequest(version, [{ operation: Enum.Operation.Locate, payload }]);
    };

    const cpu: number[] = [];
    const once = async (i: number): Promise<number> => {
      const bytes = request(i);
      const c = process.cpuUsage();
      const t = performance.now();
      const res = await executor.execute(bytes, conn);
      const ms = performance.now() - t;
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
      if (res.kind !== 'reply' || res.bytes === undefined) throw new Error('the executor closed the connection');
      const item = parseResponse(res.bytes).batchItems[0];
      const found = (item?.responsePayload ?? []).filter((n) => n.tag === Tag.UniqueIdentifier).length;
      if (item?.resultStatus !== Enum.ResultStatus.Success || found !== 1) {
        throw new Error(`Locate of key-${i} found ${found} keys (${item?.resultMessage ?? "success"})`);
      }
      return ms;
    };

    // Names of tenant-0 are key-0, key-N, key-2N, … (N tenants): the measured lookups always hit.
    const pick = () => opts.tenants * Math.floor(Math.random() * Math.floor(opts.objects / opts.tenants));
    for (let k = 0; k < 20; k++) await once(pick());
    cpu.length = 0;
    const times: number[] = [];
    for (let k = 0; k < opts.queries; k++) times.push(await once(pick()));
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
    return {
      objects: opts.objects,
      queries: opts.queries,
      seedSeconds,
      medianMs: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      maxMs: times.at(-1) as number,
      cpuMedianMs: cpu[Math.floor(cpu.length / 2)] as number,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objects: { type: 'string', default: '100000' },
      queries: { type: 'string', default: '200' },
      tenants: { type: 'string', default: '4' },
      version: { type: 'string', default: '1.4' },
      json: { type: 'string' },
    },
  });
  const r = await runLocateBench({
    objects: Number(values.objects),
    queries: Number(values.queries),
    tenants: Number(values.tenants),
    version: values.version,
  });
  const f = (n: number) => n.toFixed(3);
  console.log(`Locate by Name among ${r.objects} keys (KMIP ${values.version}, through the executor, ${r.queries} queries):`);
  console.log(`  median ${f(r.medianMs)} ms, p90 ${f(r.p90Ms)} ms, p99 ${f(r.p99Ms)} ms, max ${f(r.maxMs)} ms wall`);
  console.log(`  median ${f(r.cpuMedianMs)} ms CPU per query (store filled in ${r.seedSeconds.toFixed(1)} s; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} CPUs)`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(r, null, 2) + '\n');
  return 0;
}

// Run only as a program, so tests can import runLocateBench.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:locate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
