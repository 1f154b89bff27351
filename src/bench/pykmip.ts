/**
 * The PyKMIP half of the codec benchmark: a session with pykmip_codec.py (beside this module's
 * source). The script first reports which corpus messages PyKMIP round-trips (PyKMIP 0.10 knows
 * KMIP 1.0–2.0 and fewer tags than the OASIS vectors use; only those messages are timed), then
 * times decode or encode runs on request, so they can be interleaved with kmipd's own runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The .py file is not copied by tsc: from dist/bench or src/bench, find it under src/. */
export const pykmipScript = fileURLToPath(new URL('../../src/bench/pykmip_codec.py', import.meta.url));

/** The Debian interpreter that has python3-pykmip (the first python3 on PATH may not). */
export const defaultPython = '/usr/bin/python3';

export const PYKMIP_FORMAT = 'kmipd-bench-pykmip/2';

export interface TimedRun {
  messages: number;
  bytes: number;
  /** Wall-clock time. */
  seconds: number;
  /** CPU time of the measuring process over the same run (the machine may be shared). */
  cpuSeconds: number;
}

/** What PyKMIP could do with the corpus. */
export interface PykmipProbe {
  pykmip: string;
  python: string;
  /** Messages in the corpus given to it. */
  total: number;
  /** Read without an error and with nothing left over. */
  parsed: number;
  /** Parsed and re-encoded byte for byte: the timed subset. */
  exact: number;
  /** Corpus indices of the timed subset. */
  subset: number[];
  failures: { reason: string; count: number }[];
}

export type PykmipPhase = 'decode' | 'encode';

export interface PykmipSession {
  readonly probe: PykmipProbe;
  /** One timed run of at least `seconds` over the subset. */
  run(phase: PykmipPhase, seconds: number): Promise<TimedRun>;
  close(): Promise<void>;
}

function fail(detail: string): never {
  throw new Error(`PyKMIP runner output: ${detail}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function count(obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  return isCount(v) ? v : fail(`${key} must be a non-negative integer`);
}

function text(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  return typeof v === 'string' ? v : fail(`${key} must be a string`);
}

function jsonObject(line: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return fail(`not JSON (${err instanceof Error ? err.message : String(err)}): ${line.slice(0, 200)}`);
  }
  if (!isRecord(raw)) return fail('not a JSON object');
  if (typeof raw['error'] === 'string') fail(`the script reported: ${raw['error']}`);
  return raw;
}

/** Validates and reads the script's first line. */
export function parsePykmipProbe(line: string): PykmipProbe {
  const raw = jsonObject(line);
  if (raw['format'] !== PYKMIP_FORMAT) fail(`format must be ${JSON.stringify(PYKMIP_FORMAT)}`);
  const total = count(raw, 'total');
  const parsed = count(raw, 'parsed');
  const exact = count(raw, 'exact');
  const subset = raw['subset'];
  if (!Array.isArray(subset) || !subset.every((i) => isCount(i) && i < total)) fail('subset must list corpus indices');
  if (subset.length !== exact) fail(`subset has ${subset.length} entries, exact says ${exact}`);
  if (exact > parsed || parsed > total) fail('counts must satisfy exact ≤ parsed ≤ total');
  const failures = raw['failures'];
  if (!Array.isArray(failures)) fail('failures must be an array');
  const probe: PykmipProbe = {
    pykmip: text(raw, 'pykmip'),
    python: text(raw, 'python'),
    total,
    parsed,
    exact,
    subset: subset as number[],
    failures: failures.map((f, i) => {
      if (!isRecord(f)) fail(`failures[${i}] must be an object`);
      return { reason: text(f, 'reason'), count: count(f, 'count') };
    }),
  };
  const failed = probe.failures.reduce((s, f) => s + f.count, 0);
  if (failed + exact !== total) fail(`failures (${failed}) + exact (${exact}) must equal total (${total})`);
  return probe;
}

/** Validates and reads the answer to a `decode`/`encode` command. */
export function parsePykmipRun(line: string, phase: PykmipPhase): TimedRun {
  const raw = jsonObject(line);
  if (raw['phase'] !== phase) fail(`phase must be ${JSON.stringify(phase)}`);
  const seconds = raw['seconds'];
  const cpuSeconds = raw['cpuSeconds'];
  if (typeof seconds !== 'number' || !(seconds > 0)) fail('seconds must be positive');
  if (typeof cpuSeconds !== 'number' || !(cpuSeconds > 0)) fail('cpuSeconds must be positive');
  return { messages: count(raw, 'messages'), bytes: count(raw, 'bytes'), seconds, cpuSeconds };
}

/** How long the script may take to import PyKMIP and probe the corpus (~3 s here). */
const PROBE_TIMEOUT_MS = 120_000;

/**
 * Writes the corpus to a temporary hex file, starts the script on it and waits for its probe.
 * Call `close()` when done; it also removes the file.
 */
export async function startPykmip(corpusHex: string, options: { python?: string } = {}): Promise<PykmipSession> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmipd-codec-bench-'));
  const corpusFile = path.join(dir, 'corpus.hex');
  writeFileSync(corpusFile, corpusHex);
  const python = options.python ?? defaultPython;
  const child = spawn(python, [pykmipScript, corpusFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let spawnError: Error | undefined;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.on('error', (err) => (spawnError = err));
  // A script that died leaves a broken pipe; the failure surfaces through nextLine instead.
  child.stdin.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity })[Symbol.asyncIterator]();

  const nextLine = async (timeoutMs: number): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${pykmipScript} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      const r = await Promise.race([lines.next(), timeout]);
      if (r.done) {
        await exited;
        const why = spawnError ? spawnError.message : `exited with ${child.exitCode ?? child.signalCode}`;
        throw new Error(`${python} ${pykmipScript}: ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
      }
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  };

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end('quit\n');
      const killer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const probe = parsePykmipProbe(await nextLine(PROBE_TIMEOUT_MS));
    return {
      probe,
      async run(phase, seconds) {
        child.stdin.write(`${phase} ${seconds}\n`);
        return parsePykmipRun(await nextLine(seconds * 1000 * 20 + 60_000), phase);
      },
      close,
    };
  } catch (err) {
    child.kill();
    await close();
    throw err;
  }
}
