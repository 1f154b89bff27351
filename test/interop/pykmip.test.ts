// Interop with the PyKMIP client (Debian python3-pykmip 0.10, KMIP 1.2 by default) against a real
// kmipd over mutual TLS: test/interop/pykmip_client.py runs one named check per operation and
// prints one JSON line each; every check is one test here. The same script is also run against
// the PyKMIP reference server, so a failure against kmipd is kmipd's, not the script's.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import { describe, expect, it } from 'vitest';
import { describePostgres } from '../support/postgres.js';
import { describeWithPykmip, expectCheckPassed, interopScript, runChecksOnReferenceServer, useChecksAgainstKmipd } from '../support/pykmip-run.js';

const SCRIPT = interopScript('pykmip_client.py');
/** The checks the script must offer, in the order it runs them; new operations add theirs here and in the script. */
const CHECKS = [
  'discover_versions',
  'query',
  'create_get',
  'get_attributes',
  'get_attribute_list',
  'register_symmetric_key',
  'register_secret_data',
  'locate_by_name',
  'lifecycle_deactivate',
  'lifecycle_compromise',
  'rekey',
  'error_get_missing',
  'error_destroy_active',
  'error_activate_twice',
] as const;
/**
 * Checks the PyKMIP 0.10 reference server cannot run: its engine has no Rekey
 * (kmip/services/server/engine.py `_process_operation` answers Operation Not Supported).
 */
const REFERENCE_SERVER_UNSUPPORTED: readonly string[] = ['rekey'];
const REFERENCE_CHECKS = CHECKS.filter((c) => !REFERENCE_SERVER_UNSUPPORTED.includes(c));

/** What kmipd's answers must also show, beyond the script's own assertions. */
const KMIPD_DETAIL: Partial<Record<(typeof CHECKS)[number], (detail: Record<string, unknown>) => void>> = {
  create_get: (d) => expect(d['key_bytes']).toBe(32),
  get_attributes: (d) =>
    expect(d['attributes']).toMatchObject({ 'Cryptographic Algorithm': ['AES'], 'Cryptographic Length': [256], State: ['PRE_ACTIVE'] }),
  locate_by_name: (d) => expect(d['located']).toEqual([d['uid']]),
  lifecycle_deactivate: (d) => expect(d['states']).toEqual(['PRE_ACTIVE', 'ACTIVE', 'DEACTIVATED']),
  lifecycle_compromise: (d) => expect(d['states']).toEqual(['PRE_ACTIVE', 'ACTIVE', 'COMPROMISED']),
  rekey: (d) => {
    expect(d['new_uid']).not.toBe(d['old_uid']);
    expect(d['located']).toEqual([d['new_uid']]);
  },
  error_get_missing: (d) => expect(d).toMatchObject({ status: 'OPERATION_FAILED', reason: 'ITEM_NOT_FOUND' }),
  error_destroy_active: (d) => expect(d['status']).toBe('OPERATION_FAILED'),
  error_activate_twice: (d) => expect(d['status']).toBe('OPERATION_FAILED'),
};

describeWithPykmip('PyKMIP client interop', () => {
  // K10: the same checks against a node whose store is PostgreSQL (skipped locally without it, required in CI).
  for (const store of ['sqlite', 'postgres'] as const) {
    (store === 'postgres' ? describePostgres : describe)(`against kmipd (${store} store)`, () => {
      const run = useChecksAgainstKmipd(SCRIPT, { store });

      for (const check of CHECKS) {
        it(check, () => {
          const line = expectCheckPassed(run(), check);
          KMIPD_DETAIL[check]?.(line.detail as Record<string, unknown>);
        });
      }

      it('reports every check and exits 0', () => {
        expect(run()?.lines.map((l) => l.check)).toEqual([...CHECKS]);
        expect(run()?.status).toBe(0);
      });
    });
  }

  describe('against the PyKMIP reference server (checks the script itself)', () => {
    it('passes every check', async () => {
      const result = await runChecksOnReferenceServer(SCRIPT, { checks: REFERENCE_CHECKS });
      expect(result.lines.filter((l) => !l.ok)).toEqual([]);
      expect(result.lines.map((l) => l.check)).toEqual(REFERENCE_CHECKS);
    }, 120_000);
  });
});
