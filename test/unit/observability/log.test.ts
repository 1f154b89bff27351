// The root logger's redaction (src/observability/log.ts): sensitive field names are censored at
// depths 0-2 wherever they sit, in log objects and in child bindings, without touching the
// caller's objects; and it censors exactly what pino's own path redaction did with the same names.
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CENSOR, censorSensitive, createLogger } from '../../../src/observability/log.js';

const NAMES = ['key', 'keys', 'privateKey', 'keyMaterial', 'material', 'pin', 'soPin', 'userPin', 'password', 'passphrase', 'secret'];

function capture(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { lines, log };
}

describe('log redaction', () => {
  it('censors every sensitive name at depths 0 to 2, in objects and arrays', () => {
    const { lines, log } = capture();
    log.info({ pin: '1234', a: { password: 'p', b: { secret: 's', c: { key: 'deep' } } }, list: [{ material: 'm' }], n: 1 }, 'x');
    expect(lines[0]).toMatchObject({ pin: CENSOR, a: { password: CENSOR, b: { secret: CENSOR, c: { key: 'deep' } } }, list: [{ material: CENSOR }], n: 1, msg: 'x' });
  });

  it('censors child logger bindings', () => {
    const { lines, log } = capture();
    log.child({ conn: 'c1', userPin: '9999', ctx: { passphrase: 'pp' } }).info({ ok: true }, 'y');
    expect(lines[0]).toMatchObject({ conn: 'c1', userPin: CENSOR, ctx: { passphrase: CENSOR }, ok: true });
    expect(JSON.stringify(lines[0])).not.toMatch(/9999|"pp"/);
  });

  it('censors fields of an Error and still logs it as an error', () => {
    const { lines, log } = capture();
    const err = Object.assign(new Error('boom'), { key: 'k-secret', code: 'E1' });
    log.error({ err }, 'failed');
    expect(lines[0]?.err).toMatchObject({ type: 'Error', message: 'boom', key: CENSOR, code: 'E1' });
    expect(String((lines[0]?.err as { stack?: string }).stack)).toContain('boom');
    expect(err.key).toBe('k-secret');
  });

  it('never modifies the caller\'s object and returns it as is when nothing is sensitive', () => {
    const inner = { password: 'p' };
    const obj = { a: inner, list: [inner], b: 2 };
    const out = censorSensitive(obj);
    expect(out).not.toBe(obj);
    expect(obj).toEqual({ a: { password: 'p' }, list: [{ password: 'p' }], b: 2 });
    expect(out).toEqual({ a: { password: CENSOR }, list: [{ password: CENSOR }], b: 2 });
    const clean = { remote: '127.0.0.1:1', subject: 'CN=x', nested: { n: 1 } };
    expect(censorSensitive(clean)).toBe(clean);
    const bytes = Buffer.from('key');
    expect(censorSensitive({ bytes }).bytes).toBe(bytes);
  });

  it('censors the same fields as pino path redaction over the same names and depths', () => {
    // The paths the logger used before the scan replaced them: NAME, *.NAME, *.*.NAME.
    const paths = NAMES.flatMap((n) => [n, `*.${n}`, `*.*.${n}`]);
    const key = fc.constantFrom(...NAMES, 'subject', 'conn', 'x', 'y', 'detail');
    const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean());
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, fc.dictionary(key, tie('tree'), { maxKeys: 4 }), fc.array(tie('tree'), { maxLength: 3 })),
    }));
    const top = fc.dictionary(key, tree, { maxKeys: 5 });
    fc.assert(
      fc.property(top, (obj) => {
        const ours: string[] = [];
        const theirs: string[] = [];
        createLogger({ level: 'info', destination: { write: (s: string) => void ours.push(s) } }).info(structuredClone(obj), 'm');
        pino({ base: undefined, timestamp: false, redact: { paths, censor: CENSOR } }, { write: (s: string) => void theirs.push(s) }).info(structuredClone(obj), 'm');
        const strip = (s: string | undefined): unknown => {
          const { level: _l, time: _t, service: _s, pid: _p, ...rest } = JSON.parse(s ?? '{}') as Record<string, unknown>;
          return rest;
        };
        expect(strip(ours[0])).toEqual(strip(theirs[0]));
      }),
      { numRuns: 300 },
    );
  });
});
