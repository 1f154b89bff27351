// The README's two-node benchmark row (K10): Get and Create throughput of one kmipd node against
// two, both on one PostgreSQL database and one SoftHSM2 token, loaded by `kmipd bench` (k9).
// One node: one bench with C connections. Two nodes: two benches at once, C/2 connections each,
// one per node; their throughputs add up. Everything (PostgreSQL, nodes, load generators) shares
// this machine's cores, so the ratio says how much a second node adds HERE, not on two machines.
//
//   npx tsc -p tsconfig.json && node --import ./test/support/ts-register.mjs test/support/ha-bench.ts [seconds] [connections]
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeHaDeployment, startNode, type Node } from './ha-nodes.js';

const kmipdBin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const seconds = Number(process.argv[2] ?? '10');
const connections = Number(process.argv[3] ?? '16');

interface Report {
  throughput: number;
  ok: number;
  failed: number;
  latencyMs: { p50: number; p99: number };
}

function bench(dir: string, node: Node, op: string, conns: number, tag: string): Promise<Report> {
  const out = path.join(os.tmpdir(), `kmipd-ha-bench-${process.pid}-${tag}.json`);
  const certs = path.join(dir, 'certs');
  const args = [
    kmipdBin, 'bench', '--server', `127.0.0.1:${node.port}`,
    '--ca', path.join(certs, 'ca.crt'), '--cert', path.join(certs, 'admin.crt'), '--key', path.join(certs, 'admin.key'),
    '--op', op, '--connections', String(conns), '--duration', String(seconds), '--warmup', '2', '--workers', '1', '--json', out,
  ];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`kmipd bench exited with ${code}: ${err}`));
      const r = JSON.parse(readFileSync(out, 'utf8')) as Report;
      rmSync(out, { force: true });
      resolve(r);
    });
  });
}

const d = await makeHaDeployment();
const [a, b] = await Promise.all([startNode(d.dir, 'A'), startNode(d.dir, 'B')]);
try {
  const rows: string[] = [];
  for (const op of ['get', 'create']) {
    const one = await bench(d.dir, a, op, connections, `${op}-1`);
    const two = await Promise.all([bench(d.dir, a, op, connections / 2, `${op}-2a`), bench(d.dir, b, op, connections / 2, `${op}-2b`)]);
    const sum = two[0].throughput + two[1].throughput;
    const failed = one.failed + two[0].failed + two[1].failed;
    rows.push(
      `| ${op === 'get' ? 'Get' : 'Create'} | ${Math.round(one.throughput)}/s (p50 ${one.latencyMs.p50.toFixed(1)} ms) | ` +
        `${Math.round(sum)}/s (${Math.round(two[0].throughput)} + ${Math.round(two[1].throughput)}; p50 ${two[0].latencyMs.p50.toFixed(1)}/${two[1].latencyMs.p50.toFixed(1)} ms) | ${(sum / one.throughput).toFixed(2)}× | ${failed} |`,
    );
  }
  process.stdout.write(
    [
      `${connections} connections, ${seconds} s measured after 2 s warm-up, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.cpus().length} cores`,
      '| operation | one node | two nodes | ratio | failed requests |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  await Promise.all([a.stop(), b.stop()]);
  d.remove();
}
