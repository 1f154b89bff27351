/**
 * `npm run bench:codec`: throughput of the binary TTLV codec (KMIP 1.4 §9.1) on the OASIS vector
 * messages, beside V8's JSON.parse / JSON.stringify of the same messages in KMIP-JSON form
 * (Additional Message Encodings v1.0 §4.1) and beside PyKMIP's codec on the same binary messages.
 *
 *   node dist/bench/codec.js [--seconds 1.0] [--repeats 3] [--warmup 0.5] [--json OUT]
 *                            [--only decode|encode] [--skip-json] [--skip-pykmip]
 *
 * Each kmipd phase is paired with its comparator (decode with JSON.parse and PyKMIP decode,
 * encode with JSON.stringify and PyKMIP encode). A pair warms both sides up, then alternates
 * timed runs (kmipd, comparator, kmipd, ...) of at least `seconds` each, whole passes over the
 * messages: on a shared machine the load then drifts over both sides alike. Rates are the
 * median run; a ratio is the median of the per-round ratios. Each run also records the process
 * CPU time, and rates and ratios are given on that basis too.
 *
 * PyKMIP times itself (time.perf_counter) in its own process, idle while kmipd runs, on the
 * messages it round-trips byte for byte (its runs stop on time mid-pass: it is ~100x slower);
 * kmipd is timed on that same subset for those ratios, and on the whole corpus for the JSON ones. MB are 10^6 bytes: binary TTLV size for the codecs,
 * UTF-8 size of the compact JSON text for JSON.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeTtlv, encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/index.js';
import { corpusHexLines, loadCorpus, type CorpusMessage } from './corpus.js';
import { startPykmip, type PykmipPhase, type PykmipProbe, type PykmipSession, type TimedRun } from './pykmip.js';

interface Config {
  seconds: number;
  repeats: number;
  warmup: number;
}

type MessageSet = 'corpus' | 'pykmip-subset';
type Basis = 'binary' | 'json';

/** One side of a comparison: something that can be timed for a while. */
interface Side {
  name: string;
  set: MessageSet;
  basis: Basis;
  messagesPerPass: number;
  run(seconds: number): TimedRun | Promise<TimedRun>;
}

interface PhaseResult {
  name: string;
  set: MessageSet;
  basis: Basis;
  messagesPerPass: number;
  runs: TimedRun[];
  messagesPerSecond: number;
  megabytesPerSecond: number;
  /** Messages per second of process CPU time (median run). */
  messagesPerCpuSecond: number;
}

interface Ratio {
  name: string;
  /** Median over rounds of the wall-clock messages/s ratio: what the target is judged on. */
  value: number;
  /** The same on messages per CPU second. */
  cpuValue: number;
  /** Per-round wall-clock ratios. */
  rounds: number[];
  target: number;
  met: boolean;
  on: string;
}

// ---------------------------------------------------------------------------------------------
// Timing

/** Results are folded into this so V8 cannot drop the work being timed. */
let sink = 0;

function timeFor(pass: () => number, messagesPerPass: number, bytesPerPass: number, seconds: number): TimedRun {
  const limit = seconds * 1000;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let passes = 0;
  for (;;) {
    sink += pass();
    passes++;
    const elapsed = performance.now() - start;
    if (elapsed >= limit) {
      const cpu = process.cpuUsage(cpuStart);
      return {
        messages: passes * messagesPerPass,
        bytes: passes * bytesPerPass,
        seconds: elapsed / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      };
    }
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const rate = (r: TimedRun) => r.messages / r.seconds;
const cpuRate = (r: TimedRun) => r.messages / r.cpuSeconds;

function summarise(side: Side, runs: TimedRun[]): PhaseResult {
  return {
    name: side.name,
    set: side.set,
    basis: side.basis,
    messagesPerPass: side.messagesPerPass,
    runs,
    messagesPerSecond: median(runs.map(rate)),
    megabytesPerSecond: median(runs.map((r) => r.bytes / r.seconds / 1e6)),
    messagesPerCpuSecond: median(runs.map(cpuRate)),
  };
}

const progress = (s: string) => process.stderr.write(`${s}\n`);

/** Warms both sides up, then alternates their timed runs. */
async function comparePair(a: Side, b: Side, cfg: Config): Promise<{ a: PhaseResult; b: PhaseResult; wall: number[]; cpu: number[] }> {
  progress(`running ${a.name} / ${b.name} (${a.set})...`);
  if (cfg.warmup > 0) {
    await a.run(cfg.warmup);
    await b.run(cfg.warmup);
  }
  const runsA: TimedRun[] = [];
  const runsB: TimedRun[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < cfg.repeats; i++) {
    const ra = await a.run(cfg.seconds);
    const rb = await b.run(cfg.seconds);
    runsA.push(ra);
    runsB.push(rb);
    wall.push(rate(ra) / rate(rb));
    cpu.push(cpuRate(ra) / cpuRate(rb));
  }
  return { a: summarise(a, runsA), b: summarise(b, runsB), wall, cpu };
}

async function measureAlone(a: Side, cfg: Config): Promise<PhaseResult> {
  progress(`running ${a.name} (${a.set})...`);
  if (cfg.warmup > 0) await a.run(cfg.warmup);
  const runs: TimedRun[] = [];
  for (let i = 0; i < cfg.repeats; i++) runs.push(await a.run(cfg.seconds));
  return summarise(a, runs);
}

// One pass function per phase, each monomorphic in what it touches.
const decodePass = (bins: readonly Buffer[]) => (): number => {
  let s = 0;
  for (let i = 0; i < bins.length; i++) s += decodeTtlv(bins[i]!).tag;
  return s;
};
const encodePass = (nodes: readonly TtlvNode[]) => (): number => {
  let s = 0;
  for (let i = 0; i < nodes.length; i++) s += encodeTtlv(nodes[i]!).length;
  return s;
};
const parsePass = (texts: readonly string[]) => (): number => {
  let s = 0;
  for (let i = 0; i < texts.length; i++) s += (JSON.parse(texts[i]!) as { value: unknown[] }).value.length;
  return s;
};
const stringifyPass = (values: readonly unknown[]) => (): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += JSON.stringify(values[i]).length;
  return s;
};

const binaryBytes = (ms: readonly CorpusMessage[]) => ms.reduce((s, m) => s + m.binary.length, 0);
const jsonBytes = (ms: readonly CorpusMessage[]) => ms.reduce((s, m) => s + Buffer.byteLength(m.json, 'utf8'), 0);

function localSide(name: string, set: MessageSet, basis: Basis, ms: readonly CorpusMessage[], pass: () => number): Side {
  const bytes = basis === 'binary' ? binaryBytes(ms) : jsonBytes(ms);
  return { name, set, basis, messagesPerPass: ms.length, run: (seconds) => timeFor(pass, ms.length, bytes, seconds) };
}

function pykmipSide(session: PykmipSession, phase: PykmipPhase): Side {
  return {
    name: `PyKMIP ${phase}`,
    set: 'pykmip-subset',
    basis: 'binary',
    messagesPerPass: session.probe.exact,
    run: (seconds) => session.run(phase, seconds),
  };
}

function machine(): { cpu: string; cores: number; node: string; platform: string } {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((v, c) => (rightAligned[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function phaseTable(phases: PhaseResult[], corpusSize: number, subsetSize: number): string {
  const rows = phases.map((p) => {
    const rates = p.runs.map(rate);
    return [
      p.name,
      p.set === 'corpus' ? `all ${corpusSize}` : `PyKMIP subset ${subsetSize}`,
      fmt(p.messagesPerSecond),
      fmt(p.megabytesPerSecond, 1),
      p.basis === 'binary' ? 'binary TTLV' : 'JSON text',
      `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}`,
      fmt(p.messagesPerCpuSecond),
    ];
  });
  return table(
    ['phase', 'messages', 'messages/s', 'MB/s', 'MB basis', 'runs (messages/s)', 'messages/CPU-s'],
    rows,
    [false, false, true, true, false, false, true],
  );
}

function ratioTable(ratios: Ratio[]): string {
  const rows = ratios.map((r) => [
    r.name,
    `${fmt(r.value, 2)}×`,
    r.rounds.map((x) => fmt(x, 1)).join(', '),
    `${fmt(r.cpuValue, 2)}×`,
    `≥ ${r.target}×`,
    r.met ? 'yes' : 'NO',
    r.on,
  ]);
  return table(
    ['ratio of messages/s', 'wall', 'per round', 'CPU time', 'target', 'met', 'measured on'],
    rows,
    [false, true, false, true, false, false, false],
  );
}

// ---------------------------------------------------------------------------------------------

const USAGE = `usage: node dist/bench/codec.js [options]
  --seconds S      length of one timed run (default 1.0)
  --repeats N      timed runs per phase; medians are reported (default 3)
  --warmup W       warm-up seconds per phase (default 0.5)
  --json OUT       also write all results to OUT as JSON
  --only DIR       decode or encode: time one direction only
  --skip-json      no JSON.parse / JSON.stringify comparison
  --skip-pykmip    no PyKMIP comparison
For profiling: node --cpu-prof dist/bench/codec.js --only encode --skip-json --skip-pykmip`;

function nonNegative(name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (integer && (!Number.isInteger(v) || v < 1))) {
    throw new Error(`--${name} must be a ${integer ? 'positive integer' : 'non-negative number'}`);
  }
  return v;
}

/** Failure reasons printed in the report; the JSON output keeps them all. */
const REASONS_SHOWN = 10;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      json: { type: 'string' },
      only: { type: 'string' },
      'skip-json': { type: 'boolean', default: false },
      'skip-pykmip': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const cfg: Config = {
    seconds: nonNegative('seconds', values.seconds, 1.0),
    repeats: nonNegative('repeats', values.repeats, 3, true),
    warmup: nonNegative('warmup', values.warmup, 0.5),
  };
  if (cfg.seconds <= 0) throw new Error('--seconds must be greater than 0');
  if (values.only !== undefined && values.only !== 'decode' && values.only !== 'encode') {
    throw new Error('--only must be decode or encode');
  }
  const doDecode = values.only !== 'encode';
  const doEncode = values.only !== 'decode';
  const withJson = !values['skip-json'];
  const withPykmip = !values['skip-pykmip'];

  const started = performance.now();
  const m = machine();
  const corpus = loadCorpus();
  const all = corpus.messages;
  if (all.length === 0) throw new Error(`no messages loaded from ${corpus.dir}`);
  const requests = all.filter((x) => x.kind === 'request').length;

  const lines: string[] = [];
  const out = (s = '') => {
    lines.push(s);
    console.log(s);
  };
  out('## kmipd codec benchmark');
  out();
  out(`machine: ${m.cpu}, ${m.cores} cores, ${m.platform}, Node ${m.node}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  out(
    `corpus: ${all.length} messages (${requests} requests, ${all.length - requests} responses) from ${corpus.files} ` +
      `OASIS XML vector files; ${fmt(binaryBytes(all))} bytes binary TTLV, ${fmt(jsonBytes(all))} bytes KMIP-JSON (compact)`,
  );
  for (const s of corpus.skipped) out(`  skipped ${s.file}: ${s.reason}`);
  out(
    `method: per phase ${cfg.warmup} s warm-up, then ${cfg.repeats} runs of ${cfg.seconds} s alternating with its comparator; ` +
      'medians; MB = 10^6 bytes',
  );

  const phases: PhaseResult[] = [];
  const ratios: Ratio[] = [];
  const pair = async (a: Side, b: Side, ratioName: string, target: number, on: string) => {
    const r = await comparePair(a, b, cfg);
    phases.push(r.a, r.b);
    const value = median(r.wall);
    ratios.push({ name: ratioName, value, cpuValue: median(r.cpu), rounds: r.wall, target, met: value >= target, on });
  };

  // kmipd against JSON, on the whole corpus.
  const decodeAll = localSide('ttlv decode', 'corpus', 'binary', all, decodePass(all.map((x) => x.binary)));
  const encodeAll = localSide('ttlv encode', 'corpus', 'binary', all, encodePass(all.map((x) => x.node)));
  const allOn = `all ${all.length} messages`;
  if (doDecode) {
    if (withJson) {
      const parse = localSide('JSON.parse', 'corpus', 'json', all, parsePass(all.map((x) => x.json)));
      await pair(decodeAll, parse, 'kmipd decode / JSON.parse', 0.5, allOn);
    } else {
      phases.push(await measureAlone(decodeAll, cfg));
    }
  }
  if (doEncode) {
    if (withJson) {
      const jsonValues = all.map((x) => JSON.parse(x.json) as unknown);
      const stringify = localSide('JSON.stringify', 'corpus', 'json', all, stringifyPass(jsonValues));
      await pair(encodeAll, stringify, 'kmipd encode / JSON.stringify', 0.5, allOn);
    } else {
      phases.push(await measureAlone(encodeAll, cfg));
    }
  }

  // kmipd against PyKMIP, on the messages PyKMIP round-trips.
  let probe: PykmipProbe | undefined;
  let subset: CorpusMessage[] = [];
  if (withPykmip) {
    progress('starting PyKMIP (import and probe)...');
    const session = await startPykmip(corpusHexLines(all));
    try {
      probe = session.probe;
      subset = probe.subset.map((i) => all[i]!);
      const on = `PyKMIP subset (${subset.length} messages)`;
      if (subset.length === 0) {
        out('PyKMIP round-trips none of the messages: no PyKMIP comparison.');
      } else {
        if (doDecode) {
          const mine = localSide('ttlv decode', 'pykmip-subset', 'binary', subset, decodePass(subset.map((x) => x.binary)));
          await pair(mine, pykmipSide(session, 'decode'), 'kmipd decode / PyKMIP decode', 20, on);
        }
        if (doEncode) {
          const mine = localSide('ttlv encode', 'pykmip-subset', 'binary', subset, encodePass(subset.map((x) => x.node)));
          await pair(mine, pykmipSide(session, 'encode'), 'kmipd encode / PyKMIP encode', 20, on);
        }
      }
    } finally {
      await session.close();
    }
  }

  // Report order: whole-corpus rows, then the subset rows next to PyKMIP's own.
  const order = ['ttlv decode', 'ttlv encode', 'JSON.parse', 'JSON.stringify', 'PyKMIP decode', 'PyKMIP encode'];
  const rank = (p: PhaseResult) => (p.set === 'corpus' ? 0 : 10) + order.indexOf(p.name);
  const sorted = [...phases].sort((a, b) => rank(a) - rank(b));
  const ratioOrder = (r: Ratio) => (r.name.includes('PyKMIP') ? 0 : 10) + (r.name.includes('decode') ? 0 : 1);
  ratios.sort((a, b) => ratioOrder(a) - ratioOrder(b));

  out();
  out(phaseTable(sorted, all.length, subset.length));
  out();
  if (ratios.length > 0) {
    out(ratioTable(ratios));
    out();
  }
  if (probe) {
    out(
      `PyKMIP ${probe.pykmip} (Python ${probe.python}): of ${probe.total} messages it read ${probe.parsed} ` +
        `and re-encoded ${probe.exact} byte for byte; the PyKMIP rows and ratios use only those ${probe.exact}. ` +
        `Left out (${probe.total - probe.exact}):`,
    );
    for (const f of probe.failures.slice(0, REASONS_SHOWN)) out(`  ${String(f.count).padStart(5)}  ${f.reason}`);
    const rest = probe.failures.slice(REASONS_SHOWN);
    if (rest.length > 0) {
      out(`  ${String(rest.reduce((s, f) => s + f.count, 0)).padStart(5)}  ${rest.length} other reasons (see --json)`);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  out();
  out(`total run time ${fmt(elapsed, 1)} s`);

  if (values.json !== undefined) {
    const report = {
      format: 'kmipd-bench-codec/1',
      date: new Date().toISOString(),
      command: `node dist/bench/codec.js ${argv.join(' ')}`.trim(),
      machine: { ...m, loadAverage: os.loadavg() },
      config: cfg,
      corpus: {
        dir: corpus.dir,
        files: corpus.files,
        messages: all.length,
        requests,
        responses: all.length - requests,
        binaryBytes: binaryBytes(all),
        jsonBytes: jsonBytes(all),
        skipped: corpus.skipped,
      },
      phases: sorted,
      ratios,
      pykmip: probe && {
        version: probe.pykmip,
        python: probe.python,
        total: probe.total,
        parsed: probe.parsed,
        exact: probe.exact,
        failures: probe.failures,
      },
      report: lines.join('\n'),
      seconds: elapsed,
    };
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
  }
  // Keeps `sink` observable; it is never exactly this value in practice.
  if (sink === -1) console.log('');
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error(`bench:codec: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
