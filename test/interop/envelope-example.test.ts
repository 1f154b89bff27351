// The envelope-encryption example of the README (bin/examples/envelope.py, PyKMIP client) run
// unchanged against a real kmipd over mutual TLS. The script checks the round trip itself and
// exits 1 when the unwrapped data key differs; this test also checks what it printed.
//
// In CI (CI=true) a missing python3-pykmip fails this suite instead of skipping it.
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeWithPykmip, kmipdTarget, runPython, targetArgs, useKmipdUnderTest } from '../support/pykmip-run.js';
import { repoRoot } from '../support/vectors-dir.js';

const SCRIPT = path.join(repoRoot, 'bin', 'examples', 'envelope.py');

describeWithPykmip('README envelope encryption example', () => {
  const kmipd = useKmipdUnderTest({}, 60_000);

  it('wraps a data key under a root key over KMIP and unwraps it back', async () => {
    const args = targetArgs(kmipdTarget(kmipd()));
    const r = await runPython(SCRIPT, args);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^root key \S+: data key wrapped to 40 bytes, unwrapped equal\n$/);
    expect(r.status).toBe(0);
    // Run again: the example is repeatable against the same server (a new root key each time).
    expect((await runPython(SCRIPT, args)).status).toBe(0);
  }, 60_000);
});
