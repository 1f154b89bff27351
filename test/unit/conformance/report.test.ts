// Output of the conformance runner: per-file lines, the closing line, the JSON report, the
// progress bar, natural file order and the `kmipd conformance` command itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressBar, formatFileLine, formatSummary, toJsonReport } from '../../../src/conformance/report.js';
import type { FileResult, RunReport } from '../../../src/conformance/runner.js';
import { expandVectorPaths, naturalCompare } from '../../../src/conformance/vector-paths.js';
import { Command } from 'commander';
import { parseServerAddress, registerConformanceCommand, runConformanceCommand } from '../../../src/cli/conformance.js';
import { FakeKmip, tempDir, en, ok, req, reqItem, resp, uid, vector } from './fake-kmip.js';

const pass: FileResult = { path: '/v/SKLC-M-1-14.xml', id: 'SKLC-M-1-14', verdict: 'pass', requests: 3, durationMs: 12 };
const fail: FileResult = {
  path: '/v/SKLC-M-2-14.xml',
  id: 'SKLC-M-2-14',
  verdict: 'fail',
  requests: 3,
  durationMs: 8,
  difference: { request: 3, path: 'BatchItem/ResponsePayload/UniqueIdentifier', expected: 'X', actual: 'Y' },
  message: 'request 3 BatchItem/ResponsePayload/UniqueIdentifier: expected X got Y',
};
const skip: FileResult = { path: '/v/TC-NP-1-14.xml', id: 'TC-NP-1-14', verdict: 'skip', requests: 0, durationMs: 1, message: 'server-to-client operation Put' };

describe('lines', () => {
  it('prints one line per file', () => {
    expect(formatFileLine(pass)).toBe('PASS SKLC-M-1-14');
    expect(formatFileLine(fail)).toBe('FAIL SKLC-M-2-14: request 3 BatchItem/ResponsePayload/UniqueIdentifier: expected X got Y');
    expect(formatFileLine(skip)).toBe('SKIP TC-NP-1-14: server-to-client operation Put');
  });

  it('closes with the counts, skipped only when there are any', () => {
    expect(formatSummary({ passed: 3, failed: 1, skipped: 0 })).toBe('3 passed, 1 failed');
    expect(formatSummary({ passed: 0, failed: 0, skipped: 2 })).toBe('0 passed, 0 failed, 2 skipped');
  });
});

describe('JSON report', () => {
  it('has per file the verdict, first difference and duration', () => {
    const report: RunReport = { files: [pass, fail, skip], passed: 1, failed: 1, skipped: 1, startedAt: '2024-05-01T12:00:00.000Z', durationMs: 21 };
    const json = toJsonReport(report, '127.0.0.1:5696');
    expect(json).toMatchObject({ format: 'kmipd-conformance-report', server: '127.0.0.1:5696', passed: 1, failed: 1, skipped: 1 });
    expect(json.files[1]).toEqual({
      file: '/v/SKLC-M-2-14.xml',
      id: 'SKLC-M-2-14',
      verdict: 'fail',
      durationMs: 8,
      requests: 3,
      difference: fail.difference,
      message: fail.message,
    });
    expect(json.files[0]).toMatchObject({ difference: null, message: null });
  });
});

function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 80 });
  return { stream, text: () => out };
}

describe('progress bar', () => {
  it('draws and clears on a TTY', () => {
    const s = sink(true);
    const bar = new ProgressBar(s.stream);
    bar.update(1, 4, 'SKLC-M-1-14.xml');
    bar.clear();
    expect(s.text()).toContain('[########......................] 1/4 SKLC-M-1-14.xml');
    expect(s.text().endsWith('\r\x1b[K')).toBe(true);
  });

  it('writes nothing elsewhere', () => {
    const s = sink(false);
    const bar = new ProgressBar(s.stream);
    bar.update(1, 4, 'x');
    bar.clear();
    expect(s.text()).toBe('');
  });
});

describe('file order', () => {
  it('is natural: numbers compare as numbers', () => {
    const names = ['SKFF-M-10-14.xml', 'SKFF-M-2-14.xml', 'CS-BC-M-GCM-1-14.xml', 'CS-BC-M-13-14.xml', 'CS-BC-M-1-14.xml'];
    expect([...names].sort(naturalCompare)).toEqual(['CS-BC-M-1-14.xml', 'CS-BC-M-13-14.xml', 'CS-BC-M-GCM-1-14.xml', 'SKFF-M-2-14.xml', 'SKFF-M-10-14.xml']);
  });

  it('expands directories recursively, keeps files as given', () => {
    const dir = tempDir('kmipd-k4-paths-');
    mkdirSync(path.join(dir, 'mandatory'));
    for (const n of ['mandatory/B-M-10-14.xml', 'mandatory/B-M-9-14.xml', 'A-1.xml', 'notes.txt']) writeFileSync(path.join(dir, n), '');
    expect(expandVectorPaths([dir]).map((p) => path.relative(dir, p))).toEqual(['A-1.xml', 'mandatory/B-M-9-14.xml', 'mandatory/B-M-10-14.xml']);
    expect(expandVectorPaths([path.join(dir, 'notes.txt')])).toEqual([path.join(dir, 'notes.txt')]);
    expect(() => expandVectorPaths([path.join(dir, 'missing')])).toThrow();
  });
});

describe('kmipd conformance', () => {
  it('registers the command with its options', () => {
    const program = new Command('kmipd');
    registerConformanceCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'conformance');
    expect(cmd?.options.map((o) => o.long)).toEqual(['--server', '--ca', '--cert', '--key', '--json', '--timeout']);
    expect(cmd?.options.filter((o) => o.mandatory).map((o) => o.long)).toEqual(['--server', '--ca', '--cert', '--key']);
  });

  it('parses HOST:PORT', () => {
    expect(parseServerAddress('127.0.0.1:5696')).toEqual({ host: '127.0.0.1', port: 5696 });
    expect(parseServerAddress('[::1]:5696')).toEqual({ host: '::1', port: 5696 });
    expect(() => parseServerAddress('localhost')).toThrow(/HOST:PORT/);
    expect(() => parseServerAddress('h:70000')).toThrow(/HOST:PORT/);
  });

  it('prints a line per file and the closing line, writes JSON, exits 1 on failure', async () => {
    const dir = tempDir('kmipd-k4-cli-');
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, f), 'unused by the fake transport');
    const create = req(reqItem('Create', en('ObjectType', 'SymmetricKey')));
    writeFileSync(path.join(dir, 'X-M-1-14.xml'), vector(create, resp([ok('Create', en('ObjectType', 'SymmetricKey') + uid('$UNIQUE_IDENTIFIER_0'))])));
    writeFileSync(path.join(dir, 'X-M-2-14.xml'), vector(create, resp([ok('Create', en('ObjectType', 'SecretData') + uid('$UNIQUE_IDENTIFIER_0'))])));
    const server = new FakeKmip();
    const out = sink(false);
    const err = sink(false);
    const code = await runConformanceCommand(
      [dir],
      { server: '127.0.0.1:5696', ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), json: path.join(dir, 'report.json') },
      { stdout: out.stream, stderr: err.stream, connect: server.connect },
    );
    expect(code).toBe(1);
    expect(out.text()).toBe(
      ['PASS X-M-1-14', 'FAIL X-M-2-14: request 1 BatchItem/ResponsePayload/ObjectType: expected SecretData got SymmetricKey', '1 passed, 1 failed', ''].join('\n'),
    );
    const json = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { files: { verdict: string }[] };
    expect(json.files.map((f) => f.verdict)).toEqual(['pass', 'fail']);
  });

  it('exits 0 when nothing failed', async () => {
    const dir = tempDir('kmipd-k4-cli-');
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, f), '');
    const create = req(reqItem('Create', en('ObjectType', 'SymmetricKey')));
    const file = path.join(dir, 'X-M-1-14.xml');
    writeFileSync(file, vector(create, resp([ok('Create', en('ObjectType', 'SymmetricKey') + uid('$UNIQUE_IDENTIFIER_0'))])));
    const out = sink(false);
    const code = await runConformanceCommand([file], { server: 'h:1', ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') }, {
      stdout: out.stream,
      stderr: sink(false).stream,
      connect: new FakeKmip().connect,
    });
    expect(code).toBe(0);
    expect(out.text().trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });
});
