// Interop of kmipd's asymmetric operations with the PyKMIP client (Debian python3-pykmip 0.10,
// KMIP 1.2) over mutual TLS: test/interop/pykmip_asym.py creates an RSA-2048 pair, gets the keys,
// signs with PKCS#1 v1.5 / SHA-256 and verifies. This test verifies PyKMIP's signature itself with
// node:crypto against the public key PyKMIP got, so neither PyKMIP nor kmipd grades its own work.
// The script also runs against the PyKMIP reference server, which checks the script.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmipdUnderTest, type KmipdUnderTest } from '../support/kmipd-under-test.js';
import { PYTHON, pykmipAvailability, startPykmipServer } from '../support/pykmip-server.js';
import { repoRoot } from '../support/vectors-dir.js';

const SCRIPT = path.join(repoRoot, 'test', 'interop', 'pykmip_asym.py');
const CHECKS = ['create_key_pair', 'sign_verify'] as const;

interface CheckLine {
  check: string;
  ok: boolean;
  detail?: Record<string, string>;
  error?: string;
}

function runScript(target: { host: string; port: number; ca: string; cert: string; key: string }): Promise<{ status: number | null; lines: CheckLine[]; stderr: string }> {
  const args = [SCRIPT, '--host', target.host, '--port', String(target.port), '--ca', target.ca, '--cert', target.cert, '--key', target.key];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
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

/** The public key PyKMIP received, as node reads it (kmipd serves X.509 SubjectPublicKeyInfo). */
function publicKeyOf(detail: Record<string, string>) {
  const der = Buffer.from(detail['public_der'] ?? '', 'hex');
  const type = detail['public_format'] === 'PKCS_1' ? 'pkcs1' : 'spki';
  return createPublicKey({ key: der, format: 'der', type });
}

const availability = pykmipAvailability();
const inCi = process.env['CI'] === 'true';

describe('PyKMIP client interop: key pairs and signatures', () => {
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
    let run: Awaited<ReturnType<typeof runScript>> | undefined;
    const line = (check: string) => run?.lines.find((l) => l.check === check);

    beforeAll(async () => {
      kmipd = await startKmipdUnderTest();
      run = await runScript({ host: kmipd.host, port: kmipd.port, ...kmipd.paths });
    }, 120_000);
    afterAll(async () => {
      await kmipd?.stop();
    });

    for (const check of CHECKS) {
      it(`${check} passes the script's own assertions`, () => {
        const l = line(check);
        expect(l, `no result line for ${check}; stderr:\n${run?.stderr ?? ''}`).toBeDefined();
        expect(l!.error ?? 'ok').toBe('ok');
        expect(l!.ok).toBe(true);
      });
    }

    it('create_key_pair: the private key PyKMIP got is the private half of its public key', () => {
      const d = line('create_key_pair')!.detail!;
      expect([d['public_format'], d['private_format']]).toEqual(['X_509', 'PKCS_8']);
      const pub = publicKeyOf(d);
      expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
      const priv = createPrivateKey({ key: Buffer.from(d['private_der']!, 'hex'), format: 'der', type: 'pkcs8' });
      expect(createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(pub.export({ format: 'der', type: 'spki' }))).toBe(true);
    });

    it('sign_verify: node verifies the signature PyKMIP got from kmipd (RSA PKCS#1 v1.5, SHA-256)', () => {
      const d = line('sign_verify')!.detail!;
      const data = Buffer.from(d['data']!, 'hex');
      const signature = Buffer.from(d['signature']!, 'hex');
      const pub = publicKeyOf(d);
      expect(verify('sha256', data, pub, signature)).toBe(true);
      expect(verify('sha256', Buffer.concat([data, Buffer.from('!')]), pub, signature)).toBe(false);
    });

    it('exits 0 after every check', () => {
      expect(run?.lines.map((l) => l.check)).toEqual([...CHECKS]);
      expect(run?.status).toBe(0);
    });
  });

  describe('against the PyKMIP reference server (checks the script itself)', () => {
    it('passes every check, and its signature verifies in node too', async () => {
      const server = await startPykmipServer();
      try {
        const target = { host: server.host, port: server.port, ca: server.pki.caCert, cert: server.pki.clientCert, key: server.pki.clientKey };
        const result = await runScript(target);
        expect(result.lines.filter((l) => !l.ok)).toEqual([]);
        const d = result.lines.find((l) => l.check === 'sign_verify')!.detail!;
        expect(verify('sha256', Buffer.from(d['data']!, 'hex'), publicKeyOf(d), Buffer.from(d['signature']!, 'hex'))).toBe(true);
      } finally {
        await server.stop();
      }
    }, 120_000);
  });
});
