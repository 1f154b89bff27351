// Interop with the PyKMIP client (Debian python3-pykmip 0.10, KMIP 1.2 by default) against a real
// kmipd over mutual TLS: test/interop/pykmip_client.py runs one named check per operation and
// prints one JSON line each; every check is one test here. The same script is also run against
// the PyKMIP reference server, so a failure against kmipd is kmipd's, not the script's.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmipdUnderTest, type KmipdUnderTest } from '../support/kmipd-under-test.js';
import { PYTHON, pykmipAvailability, startPykmipServer } from '../support/pykmip-server.js';
import { repoRoot } from '../support/vectors-dir.js';

const SCRIPT = path.join(repoRoot, 'test', 'interop', 'pykmip_client.py');
/** The checks the script must offer; later operations add theirs here and in the script. */
const CHECKS = ['discover_versions', 'query'] as const;

interface CheckLine {
  check: string;
  ok: boolean;
  detail?: unknown;
  error?: string;
}

interface ScriptRun {
  status: number | null;
  lines: CheckLine[];
  stderr: string;
}

/** Runs the script asynchronously (a synchronous spawn would block the in-process server). */
function runScript(target: { host: string; port: number; ca: string; cert: string; key: string }): Promise<ScriptRun> {
  const args = [SCRIPT, '--host', target.host, '--port', String(target.port), '--ca', target.ca, '--cert', target.cert, '--key', target.key];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as CheckLine);
      resolve({ status, lines, stderr });
    });
  });
}

function lineFor(run: ScriptRun | undefined, check: string): CheckLine | undefined {
  return run?.lines.find((l) => l.check === check);
}

const availability = pykmipAvailability();
const inCi = process.env['CI'] === 'true';

describe('PyKMIP client interop', () => {
  if (!availability.available) {
    if (inCi) {
      it('python3-pykmip is installed (required in CI)', () => {
        throw new Error(`python3-pykmip is missing: ${availability.reason}`);
      });
    } else {
      it.skip(`python3-pykmip is missing: ${availability.reason}`, () => undefined);
    }
    return;
  }

  describe('against kmipd', () => {
    let kmipd: KmipdUnderTest | undefined;
    let run: ScriptRun | undefined;

    beforeAll(async () => {
      kmipd = await startKmipdUnderTest();
      run = await runScript({ host: kmipd.host, port: kmipd.port, ...kmipd.paths });
    }, 120_000);

    afterAll(async () => {
      await kmipd?.stop();
    });

    for (const check of CHECKS) {
      it(check, () => {
        const line = lineFor(run, check);
        expect(line, `no result line for ${check}; stderr:\n${run?.stderr ?? ''}`).toBeDefined();
        expect(line!.error ?? 'ok').toBe('ok');
        expect(line!.ok).toBe(true);
      });
    }

    it('reports every check and exits 0', () => {
      expect(run?.lines.map((l) => l.check)).toEqual([...CHECKS]);
      expect(run?.status).toBe(0);
    });
  });

  describe('against the PyKMIP reference server (checks the script itself)', () => {
    it('passes every check', async () => {
      const server = await startPykmipServer();
      try {
        const result = await runScript({ host: server.host, port: server.port, ca: server.pki.caCert, cert: server.pki.clientCert, key: server.pki.clientKey });
        expect(result.lines.filter((l) => !l.ok)).toEqual([]);
        expect(result.lines.map((l) => l.check)).toEqual([...CHECKS]);
      } finally {
        await server.stop();
      }
    }, 120_000);
  });
});
