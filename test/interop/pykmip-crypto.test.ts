// Symmetric cryptography with the PyKMIP client (Debian python3-pykmip 0.10, KMIP 1.4) against a
// real kmipd over mutual TLS: test/interop/pykmip_crypto.py runs AES-CBC and AES-GCM round trips,
// HMAC-SHA256 and a Get with key wrapping, and checks every result independently with Python's
// hmac and the `cryptography` package (RFC 5649 unwrap). One JSON line per check, one test each.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmipdUnderTest, type KmipdUnderTest } from '../support/kmipd-under-test.js';
import { PYTHON, pykmipAvailability, startPykmipServer } from '../support/pykmip-server.js';
import { repoRoot } from '../support/vectors-dir.js';

const SCRIPT = path.join(repoRoot, 'test', 'interop', 'pykmip_crypto.py');
const CHECKS = ['encrypt_decrypt_aes_cbc', 'encrypt_decrypt_aes_gcm', 'mac_hmac_sha256', 'get_wrapped_aes_key_wrap_padding'] as const;

interface CheckLine {
  check: string;
  ok: boolean;
  detail?: Record<string, unknown>;
  error?: string;
}

/**
 * Checks the PyKMIP 0.10 reference server can run (to check the script itself): its engine has no
 * GCM, and wraps keys with NIST Key Wrap only (kmip/services/server/crypto/engine.py).
 */
const REFERENCE_CHECKS = ['encrypt_decrypt_aes_cbc', 'mac_hmac_sha256'] as const;

function runScript(target: { host: string; port: number; ca: string; cert: string; key: string }, checks: readonly string[] = []): Promise<{ status: number | null; lines: CheckLine[]; stderr: string }> {
  const args = [SCRIPT, '--host', target.host, '--port', String(target.port), '--ca', target.ca, '--cert', target.cert, '--key', target.key];
  for (const check of checks) args.push('--check', check);
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

const availability = pykmipAvailability();

describe('PyKMIP client: symmetric cryptography and key wrapping', () => {
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
  let run: Awaited<ReturnType<typeof runScript>> | undefined;
  beforeAll(async () => {
    kmipd = await startKmipdUnderTest();
    run = await runScript({ host: kmipd.host, port: kmipd.port, ...kmipd.paths });
  }, 120_000);
  afterAll(async () => {
    await kmipd?.stop();
  });

  for (const check of CHECKS) {
    it(check, () => {
      const line = run?.lines.find((l) => l.check === check);
      expect(line, `no result line for ${check}; stderr:\n${run?.stderr ?? ''}`).toBeDefined();
      expect(line!.error ?? 'ok').toBe('ok');
      expect(line!.ok).toBe(true);
    });
  }

  it('reports every check and exits 0', () => {
    expect(run?.lines.map((l) => l.check)).toEqual([...CHECKS]);
    expect(run?.status).toBe(0);
  });

  it('the wrapped key is longer than the key (RFC 5649 adds 8 bytes to a 16-byte key)', () => {
    expect(run?.lines.find((l) => l.check === 'get_wrapped_aes_key_wrap_padding')?.detail).toEqual({ wrapped_bytes: 24 });
  });

  it('the script passes its CBC and MAC checks against the PyKMIP reference server too', async () => {
    const server = await startPykmipServer();
    try {
      const r = await runScript({ host: server.host, port: server.port, ca: server.pki.caCert, cert: server.pki.clientCert, key: server.pki.clientKey }, REFERENCE_CHECKS);
      expect(r.lines.filter((l) => !l.ok)).toEqual([]);
      expect(r.lines.map((l) => l.check)).toEqual([...REFERENCE_CHECKS]);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
