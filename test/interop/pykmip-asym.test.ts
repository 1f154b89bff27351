// Interop of kmipd's asymmetric operations with the PyKMIP client (Debian python3-pykmip 0.10,
// KMIP 1.2) over mutual TLS: test/interop/pykmip_asym.py creates an RSA-2048 pair, gets the keys,
// signs with PKCS#1 v1.5 / SHA-256 and verifies. This test verifies PyKMIP's signature itself with
// node:crypto against the public key PyKMIP got, so neither PyKMIP nor kmipd grades its own work.
// The script also runs against the PyKMIP reference server, which checks the script.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeWithPykmip, expectCheckPassed, interopScript, runChecksOnReferenceServer, useChecksAgainstKmipd } from '../support/pykmip-run.js';

const SCRIPT = interopScript('pykmip_asym.py');
const CHECKS = ['create_key_pair', 'sign_verify'] as const;
/** The key generation alone can take a while on a loaded machine. */
const SCRIPT_TIMEOUT_MS = 90_000;

/** The public key PyKMIP received, as node reads it (kmipd serves X.509 SubjectPublicKeyInfo). */
function publicKeyOf(detail: Record<string, string>) {
  const der = Buffer.from(detail['public_der'] ?? '', 'hex');
  const type = detail['public_format'] === 'PKCS_1' ? 'pkcs1' : 'spki';
  return createPublicKey({ key: der, format: 'der', type });
}

describeWithPykmip('PyKMIP client interop: key pairs and signatures', () => {
  describe('against kmipd', () => {
    const run = useChecksAgainstKmipd<Record<string, string>>(SCRIPT, {}, { timeoutMs: SCRIPT_TIMEOUT_MS });
    const line = (check: string) => run()?.lines.find((l) => l.check === check);

    for (const check of CHECKS) {
      it(`${check} passes the script's own assertions`, () => {
        expectCheckPassed(run(), check);
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
      expect(run()?.lines.map((l) => l.check)).toEqual([...CHECKS]);
      expect(run()?.status).toBe(0);
    });
  });

  describe('against the PyKMIP reference server (checks the script itself)', () => {
    it('passes every check, and its signature verifies in node too', async () => {
      const result = await runChecksOnReferenceServer<Record<string, string>>(SCRIPT, { timeoutMs: SCRIPT_TIMEOUT_MS });
      expect(result.lines.filter((l) => !l.ok)).toEqual([]);
      const d = result.lines.find((l) => l.check === 'sign_verify')!.detail!;
      expect(verify('sha256', Buffer.from(d['data']!, 'hex'), publicKeyOf(d), Buffer.from(d['signature']!, 'hex'))).toBe(true);
    }, 120_000);
  });
});
