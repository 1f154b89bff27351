// The OASIS KMIP conformance vectors (KMIP Profiles v1.4 and v2.1 mandatory test cases, KMIP Test
// Cases v1.4; ../shared/kmip-vectors) against a real kmipd over mutual TLS, through the conformance
// runner: every file, in natural order (profiles in order), one store.
//
// spec-vectors/conformance-expectations.json lists every file that does not pass yet, with a reason.
// A listed file that passes fails this suite (take it off the list: the list only shrinks); an
// unlisted file that fails or is skipped fails it too. After a change that makes files pass, run
//   KMIPD_UPDATE_EXPECTATIONS=1 npx vitest run --config test/vitest.config.ts test/vectors/conformance.test.ts
// to rewrite the list from the results (reasons already on the list are kept), then review the diff.
// A reason starting with "flaky:" marks a file whose verdict depends on server nondeterminism; it
// is not asserted either way until the cause is fixed (then remove the entry).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKmip } from '../../src/client/connection.js';
import { ConformanceRunner, type FileResult } from '../../src/conformance/runner.js';
import { formatFileLine } from '../../src/conformance/report.js';
import { expandVectorPaths } from '../../src/conformance/vector-paths.js';
import { startKmipdUnderTest, type KmipdUnderTest } from '../support/kmipd-under-test.js';
import { repoRoot, vectorsDir } from '../support/vectors-dir.js';

interface Expectations {
  $comment?: string;
  /** Vector path relative to the vectors directory → why it does not pass yet. */
  files: Record<string, string>;
}

const EXPECTATIONS = path.join(repoRoot, 'spec-vectors', 'conformance-expectations.json');
const UPDATE = process.env['KMIPD_UPDATE_EXPECTATIONS'] === '1';

const v = vectorsDir();
const files = v.available ? expandVectorPaths([path.join(v.dir, 'kmip-1.4'), path.join(v.dir, 'kmip-2.1')]) : [];
const relative = (file: string): string => (v.available ? path.relative(v.dir, file).split(path.sep).join('/') : file);
const expectations = JSON.parse(readFileSync(EXPECTATIONS, 'utf8')) as Expectations;

describe.skipIf(!v.available)('OASIS KMIP test cases against kmipd', () => {
  let kmipd: KmipdUnderTest | undefined;
  const results = new Map<string, FileResult>();

  beforeAll(async () => {
    kmipd = await startKmipdUnderTest();
    const server = kmipd;
    const runner = new ConformanceRunner({
      connect: () => connectKmip({ host: server.host, port: server.port, ca: server.ca, cert: server.cert, key: server.key, timeoutMs: 20_000 }),
    });
    const report = await runner.runFiles(files);
    for (const r of report.files) results.set(relative(r.path), r);
    if (UPDATE) writeExpectations(results);
  }, 900_000);

  afterAll(async () => {
    await kmipd?.stop();
  });

  it('the expectations list names only files that exist', () => {
    const known = new Set(files.map(relative));
    expect(Object.keys(expectations.files).filter((f) => !known.has(f))).toEqual([]);
  });

  for (const file of files.map(relative)) {
    const listed = expectations.files[file];
    it(`${path.basename(file, '.xml')}${listed === undefined ? '' : ' (listed as not passing yet)'}`, () => {
      const r = results.get(file);
      expect(r, 'the runner produced no result').toBeDefined();
      if (UPDATE) return; // the list was just rewritten from these results
      if (listed?.startsWith('flaky:')) return;
      if (listed === undefined) {
        expect(formatFileLine(r!), 'not on the expectations list, so it must pass').toBe(`PASS ${r!.id}`);
      } else {
        expect(r!.verdict, `passes now: remove it from spec-vectors/conformance-expectations.json (was: ${listed})`).not.toBe('pass');
      }
    });
  }
});

function writeExpectations(results: ReadonlyMap<string, FileResult>): void {
  const out: Record<string, string> = {};
  for (const [file, r] of results) {
    if (r.verdict === 'pass' && !expectations.files[file]?.startsWith('flaky:')) continue;
    const operation = r.difference?.operation === undefined ? '' : ` in ${r.difference.operation}`;
    out[file] = expectations.files[file] ?? `${r.verdict === 'skip' ? 'cannot run' : `fails${operation}`}: ${r.message ?? ''}`;
  }
  const doc: Expectations = { $comment: expectations.$comment, files: out };
  writeFileSync(EXPECTATIONS, `${JSON.stringify(doc, null, 2)}\n`);
}
