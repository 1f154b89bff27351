// PyKMIP interop with role-bound certificates (K7): a Reader certificate issued by the
// deployment reads attributes of a Writer's key but is refused Get with Permission Denied.
// test/interop/pykmip_reader.py does the KMIP side with PyKMIP's ProxyKmipClient.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PYTHON } from '../support/pykmip-server.js';
import { describeWithPykmip } from '../support/pykmip-run.js';
import { repoRoot } from '../support/vectors-dir.js';
import { startAuthzDeployment, removeDeployment, type AuthzDeployment } from '../integration/authz/deployment.js';

const SCRIPT = path.join(repoRoot, 'test', 'interop', 'pykmip_reader.py');

interface Line {
  check: string;
  ok: boolean;
  detail?: unknown;
  error?: string;
}

// Under CI=true a missing PyKMIP fails instead of skipping (describeWithPykmip).
describeWithPykmip('PyKMIP with a Reader certificate', () => {
  let d: AuthzDeployment | undefined;
  let lines: Line[] = [];
  let stderr = '';

  beforeAll(async () => {
    d = await startAuthzDeployment();
    const files: Record<string, string> = {};
    for (const [name, role] of [['py-writer', 'Writer'], ['py-reader', 'Reader']] as const) {
      const pair = await d.issue(name, role, 'appliances');
      files[`${name}-cert`] = path.join(d.dir, 'certs', `${name}.crt`);
      files[`${name}-key`] = path.join(d.dir, 'certs', `${name}.key`);
      writeFileSync(files[`${name}-cert`]!, pair.cert);
      writeFileSync(files[`${name}-key`]!, pair.key, { mode: 0o600 });
    }
    const args = [SCRIPT, '--host', '127.0.0.1', '--port', String(d.port), '--ca', path.join(d.dir, 'certs', 'ca.crt'),
      '--writer-cert', files['py-writer-cert']!, '--writer-key', files['py-writer-key']!,
      '--reader-cert', files['py-reader-cert']!, '--reader-key', files['py-reader-key']!];
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    lines = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
  }, 120_000);

  afterAll(async () => {
    if (d) {
      await d.stop();
      removeDeployment(d);
    }
  });

  it('get_attributes works', () => {
    const l = lines.find((x) => x.check === 'reader_get_attributes');
    expect(l, stderr).toMatchObject({ ok: true });
  });

  it('get is denied with Permission Denied', () => {
    const l = lines.find((x) => x.check === 'reader_get_denied');
    expect(l, stderr).toMatchObject({ ok: true });
  });
});
