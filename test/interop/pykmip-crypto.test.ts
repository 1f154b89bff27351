// Symmetric cryptography with the PyKMIP client (Debian python3-pykmip 0.10, KMIP 1.4) against a
// real kmipd over mutual TLS: test/interop/pykmip_crypto.py runs AES-CBC and AES-GCM round trips,
// HMAC-SHA256 and a Get with key wrapping, and checks every result independently with Python's
// hmac and the `cryptography` package (RFC 5649 unwrap). One JSON line per check, one test each.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { expect, it } from 'vitest';
import { describeWithPykmip, expectCheckPassed, interopScript, runChecksOnReferenceServer, useChecksAgainstKmipd } from '../support/pykmip-run.js';

const SCRIPT = interopScript('pykmip_crypto.py');
const CHECKS = ['encrypt_decrypt_aes_cbc', 'encrypt_decrypt_aes_gcm', 'mac_hmac_sha256', 'get_wrapped_aes_key_wrap_padding'] as const;

/**
 * Checks the PyKMIP 0.10 reference server can run (to check the script itself): its engine has no
 * GCM, and wraps keys with NIST Key Wrap only (kmip/services/server/crypto/engine.py).
 */
const REFERENCE_CHECKS = ['encrypt_decrypt_aes_cbc', 'mac_hmac_sha256'] as const;

describeWithPykmip('PyKMIP client: symmetric cryptography and key wrapping', () => {
  const run = useChecksAgainstKmipd(SCRIPT);

  for (const check of CHECKS) {
    it(check, () => {
      expectCheckPassed(run(), check);
    });
  }

  it('reports every check and exits 0', () => {
    expect(run()?.lines.map((l) => l.check)).toEqual([...CHECKS]);
    expect(run()?.status).toBe(0);
  });

  it('the wrapped key is longer than the key (RFC 5649 adds 8 bytes to a 16-byte key)', () => {
    expect(run()?.lines.find((l) => l.check === 'get_wrapped_aes_key_wrap_padding')?.detail).toEqual({ wrapped_bytes: 24 });
  });

  it('the script passes its CBC and MAC checks against the PyKMIP reference server too', async () => {
    const r = await runChecksOnReferenceServer(SCRIPT, { checks: REFERENCE_CHECKS });
    expect(r.lines.filter((l) => !l.ok)).toEqual([]);
    expect(r.lines.map((l) => l.check)).toEqual([...REFERENCE_CHECKS]);
  }, 120_000);
});
