// The codec benchmark's inputs (src/bench): the corpus built from the OASIS XML vectors (KMIP
// Profiles v1.4 / v2.1, KMIP Test Cases v1.4) through the XML encoding of Additional Message
// Encodings v1.0 §6.1, and the report format of the PyKMIP runner. A sample of the vector files
// keeps this fast; the benchmark itself loads them all.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import {
  corpusHexLines,
  listVectorFiles,
  loadCorpus,
  substitutePlaceholder,
  type Corpus,
} from '../../../src/bench/corpus.js';
import { defaultPython, parsePykmipProbe, parsePykmipRun, startPykmip } from '../../../src/bench/pykmip.js';
import { vectorsDir } from '../../support/vectors-dir.js';

const vectors = vectorsDir();

/** Every 12th file of FILES.txt: both KMIP versions, requests and responses, about 15 files. */
function sampleCorpus(dir: string): Corpus {
  const files = listVectorFiles(dir).filter((_, i) => i % 12 === 0);
  return loadCorpus(dir, { files });
}

describe('substitutePlaceholder', () => {
  const site = (type: Parameters<typeof substitutePlaceholder>[1]['type']) => ({ type, path: '/RequestMessage/X' });

  it('passes literal values through', () => {
    expect(substitutePlaceholder('Key1', site('TextString'))).toBe('Key1');
    expect(substitutePlaceholder('0011', site('ByteString'))).toBe('0011');
  });

  it('replaces $NOW and $NOW±N with a fixed instant', () => {
    expect(substitutePlaceholder('$NOW', site('DateTime'))).toBe('2024-05-06T07:08:09+00:00');
    expect(substitutePlaceholder('$NOW-3600', site('DateTime'))).toBe('2024-05-06T06:08:09+00:00');
    expect(substitutePlaceholder('$NOW+60', site('DateTime'))).toBe('2024-05-06T07:09:09+00:00');
  });

  it('gives each $UNIQUE_IDENTIFIER_n its own UUID-shaped identifier', () => {
    const a = substitutePlaceholder('$UNIQUE_IDENTIFIER_0', site('TextString'));
    const b = substitutePlaceholder('$UNIQUE_IDENTIFIER_12', site('TextString'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(b).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(substitutePlaceholder('$UNIQUE_IDENTIFIER_0', site('TextString'))).toBe(a);
  });

  it('sizes server-chosen byte strings like real values, deterministically', () => {
    const bytes = (name: string) => substitutePlaceholder(name, site('ByteString')).length / 2;
    expect(bytes('$CORRELATION_VALUE')).toBe(16);
    expect(bytes('$KEY_MATERIAL_0')).toBe(32);
    expect(bytes('$SIGNATURE_DATA')).toBe(256);
    expect(substitutePlaceholder('$DATA_1', site('ByteString'))).toBe(substitutePlaceholder('$DATA_1', site('ByteString')));
    expect(substitutePlaceholder('$DATA_1', site('ByteString'))).not.toBe(substitutePlaceholder('$DATA_2', site('ByteString')));
  });
});

describe.skipIf(!vectors.available)('corpus loader', () => {
  const dir = vectors.available ? vectors.dir : '';
  let loaded: Corpus | undefined;
  const corpusOnce = () => (loaded ??= sampleCorpus(dir));

  it('loads requests and responses of both KMIP versions, skipping no file', () => {
    const corpus = corpusOnce();
    expect(corpus.skipped).toEqual([]);
    expect(corpus.files).toBeGreaterThan(10);
    expect(corpus.messages.some((m) => m.kind === 'request')).toBe(true);
    expect(corpus.messages.some((m) => m.kind === 'response')).toBe(true);
    expect(new Set(corpus.messages.map((m) => m.file.split('/')[0]))).toEqual(new Set(['kmip-1.4', 'kmip-2.1']));
  });

  it('holds messages that decode to the tree that was encoded, and back to the same bytes', () => {
    const corpus = corpusOnce();
    for (const m of corpus.messages) {
      const where = `${m.file} #${m.index}`;
      const decoded = decodeTtlv(m.binary);
      expect(decoded, where).toEqual(m.node);
      expect(Buffer.compare(encodeTtlv(decoded), m.binary), where).toBe(0);
      const json = JSON.parse(m.json) as { tag: string };
      expect(json.tag, where).toBe(m.kind === 'request' ? 'RequestMessage' : 'ResponseMessage');
      expect(m.json, where).not.toContain('$');
    }
  });

  it('is deterministic', () => {
    const a = corpusHexLines(corpusOnce().messages);
    const b = corpusHexLines(sampleCorpus(dir).messages);
    expect(a).toBe(b);
    expect(a.split('\n').filter((l) => l !== '').every((l) => /^(?:[0-9a-f]{2})+$/.test(l))).toBe(true);
  });
});

describe('PyKMIP runner output', () => {
  const probe = {
    format: 'kmipd-bench-pykmip/2',
    pykmip: '0.10.0',
    python: '3.11.2',
    total: 5,
    parsed: 4,
    exact: 2,
    subset: [0, 3],
    failures: [
      { reason: 'write: re-encoding differs from the input', count: 2 },
      { reason: 'read: NotImplementedError', count: 1 },
    ],
  };
  const run = { phase: 'decode', messages: 20, bytes: 5000, seconds: 0.5, cpuSeconds: 0.49 };
  const line = (o: object) => JSON.stringify(o);

  it('reads the probe line', () => {
    expect(parsePykmipProbe(line(probe))).toEqual({
      pykmip: '0.10.0',
      python: '3.11.2',
      total: 5,
      parsed: 4,
      exact: 2,
      subset: [0, 3],
      failures: probe.failures,
    });
  });

  it('reads a run line', () => {
    expect(parsePykmipRun(line(run), 'decode')).toEqual({ messages: 20, bytes: 5000, seconds: 0.5, cpuSeconds: 0.49 });
  });

  it.each([
    ['not JSON', 'Traceback (most recent call last):'],
    ['another format', line({ ...probe, format: 'kmipd-bench-pykmip/1' })],
    ['a subset index past the corpus', line({ ...probe, subset: [0, 5] })],
    ['a subset that disagrees with exact', line({ ...probe, subset: [0] })],
    ['failures that do not add up', line({ ...probe, failures: [{ reason: 'x', count: 1 }] })],
    ['an error report', line({ error: 'empty subset' })],
  ])('rejects a probe that is %s', (_, output) => {
    expect(() => parsePykmipProbe(output)).toThrow(/PyKMIP runner output/);
  });

  it.each([
    ['for another phase', line(run), 'encode'],
    ['without CPU time', line({ ...run, cpuSeconds: undefined }), 'decode'],
    ['with zero seconds', line({ ...run, seconds: 0 }), 'decode'],
    ['an error report', line({ error: "bad command 'x'" }), 'decode'],
  ] as const)('rejects a run line %s', (_, output, phase) => {
    expect(() => parsePykmipRun(output, phase)).toThrow(/PyKMIP runner output/);
  });
});

const hasPykmip =
  spawnSync(defaultPython, ['-c', 'import kmip.core.messages'], { encoding: 'utf8', timeout: 20_000 }).status === 0;

describe.skipIf(!vectors.available || !hasPykmip)('PyKMIP runner (python3-pykmip)', () => {
  it('round-trips 1.4 messages, reports 2.1 ones it cannot read, and times the subset on request', async () => {
    const dir = vectors.available ? vectors.dir : '';
    const corpus = loadCorpus(dir, { files: ['kmip-1.4/mandatory/SKLC-M-1-14.xml', 'kmip-2.1/mandatory/SKLC-M-1-21.xml'] });
    expect(corpus.messages.some((m) => m.file.startsWith('kmip-1.4'))).toBe(true);
    const session = await startPykmip(corpusHexLines(corpus.messages));
    try {
      const { probe: p } = session;
      expect(p.total).toBe(corpus.messages.length);
      expect(p.subset.length).toBeGreaterThan(0);
      // PyKMIP 0.10 knows KMIP 2.0 at most: no 2.1 message is in the subset.
      expect(p.subset.every((i) => corpus.messages[i]!.file.startsWith('kmip-1.4'))).toBe(true);
      expect(p.failures.reduce((s, f) => s + f.count, 0)).toBe(p.total - p.exact);
      const sizes = p.subset.map((i) => corpus.messages[i]!.binary.length);
      for (const phase of ['decode', 'encode'] as const) {
        const r = await session.run(phase, 0.01);
        expect(r.messages).toBeGreaterThan(0);
        expect(r.bytes).toBeGreaterThanOrEqual(r.messages * Math.min(...sizes));
        expect(r.bytes).toBeLessThanOrEqual(r.messages * Math.max(...sizes));
        expect(r.seconds).toBeGreaterThanOrEqual(0.01);
      }
    } finally {
      await session.close();
    }
  });

  it('fails clearly when the interpreter cannot be started', async () => {
    await expect(startPykmip('00\n', { python: '/nonexistent/python3' })).rejects.toThrow(/nonexistent/);
  });
});
