// The root logger's stdout destination (src/observability/log.ts): lines are buffered and written
// together, yet every line reaches stdout within the flush period while the process runs, and
// every line logged before an exit is written. Runs the compiled logger (dist/) in a child process
// with stdout on a pipe, as `kmipd serve` runs under a supervisor.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const logJs = fileURLToPath(new URL('../../../dist/observability/log.js', import.meta.url));

function child(script: string): { lines: () => string[]; exited: Promise<number | null>; kill: () => void } {
  if (!existsSync(logJs)) throw new Error(`${logJs} is missing: run 'npx tsc -p tsconfig.json' first`);
  const src = `import { createLogger, LOG_FLUSH_MS } from ${JSON.stringify(logJs)};\nconst log = createLogger({ level: 'info' });\n${script}`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  return { lines: () => out.split('\n').filter(Boolean), exited, kill: () => proc.kill('SIGKILL') };
}

async function waitFor(cond: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

describe('log lines on stdout', () => {
  it('writes a lone line within the flush period while the process keeps running', async () => {
    // One line, far below the buffer size, then the process idles: only the periodic flush writes it.
    const c = child(`setTimeout(() => log.info({ n: 1 }, 'lone line'), 300); setTimeout(() => {}, 30_000);`);
    try {
      await waitFor(() => c.lines().length > 0, 10_000);
      expect(JSON.parse(c.lines()[0]!)).toMatchObject({ msg: 'lone line', n: 1, level: 'info' });
    } finally {
      c.kill();
      await c.exited;
    }
  });

  it('writes every line logged before the process exits', async () => {
    const c = child(`for (let i = 0; i < 5000; i++) log.info({ i }, 'burst');\nlog.info('last');\nprocess.exit(0);`);
    expect(await c.exited).toBe(0);
    const lines = c.lines().map((l) => JSON.parse(l) as { msg: string; i?: number });
    expect(lines).toHaveLength(5001);
    expect(lines.slice(0, 5000).map((l) => l.i)).toEqual([...Array(5000).keys()]);
    expect(lines[5000]?.msg).toBe('last');
  });
});
