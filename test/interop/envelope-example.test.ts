// The envelope-encryption example of the README (bin/examples/envelope.py, PyKMIP client) run
// unchanged against a real kmipd over mutual TLS. The script checks the round trip itself and
// exits 1 when the unwrapped data key differs; this test also checks what it printed.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmipdUnderTest, type KmipdUnderTest } from '../support/kmipd-under-test.js';
import { PYTHON, pykmipAvailability } from '../support/pykmip-server.js';
import { repoRoot } from '../support/vectors-dir.js';

const SCRIPT = path.join(repoRoot, 'bin', 'examples', 'envelope.py');
const availability = pykmipAvailability();

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('README envelope encryption example', () => {
  if (!availability.available) {
    if (process.env['CI'] === 'true') {
      it('python3-pykmip is installed (required in CI)', () => {
        throw new Error(`python3-pykmip is missing: ${availability.reason}`);
      });
    } else {
      it.skip(`python3-pykmip is missing: ${availability.reason}`, () => undefined);
    }
    return;
  }

  let kmipd: KmipdUnderTest | undefined;
  beforeAll(async () => {
    kmipd = await startKmipdUnderTest();
  }, 60_000);
  afterAll(async () => {
    await kmipd?.stop();
  });

  it('wraps a data key under a root key over KMIP and unwraps it back', async () => {
    const k = kmipd!;
    const r = await run(['--host', k.host, '--port', String(k.port), '--ca', k.paths.ca, '--cert', k.paths.cert, '--key', k.paths.key]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^root key \S+: data key wrapped to 40 bytes, unwrapped equal\n$/);
    expect(r.status).toBe(0);
    // Run again: the example is repeatable against the same server (a new root key each time).
    expect((await run(['--host', k.host, '--port', String(k.port), '--ca', k.paths.ca, '--cert', k.paths.cert, '--key', k.paths.key])).status).toBe(0);
  }, 60_000);
});
