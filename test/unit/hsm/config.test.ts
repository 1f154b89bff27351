// HSM configuration defaults and PIN sources.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HsmLogger, readPin, resolveHsmConfig } from '../../../src/hsm/config.js';
import { HsmError } from '../../../src/hsm/errors.js';
import { generatePin } from '../../../src/hsm/token.js';

const dir = mkdtempSync(join(tmpdir(), 'kmipd-pin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pinError(fn: () => unknown): HsmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HsmError);
    return e as HsmError;
  }
  throw new Error('expected a failure');
}

describe('resolveHsmConfig', () => {
  it('applies the defaults', () => {
    const c = resolveHsmConfig({ module: '/m.so', tokenLabel: 'kmipd', pin: { env: 'P' } });
    expect(c).toMatchObject({
      kekLabelPrefix: 'kmipd-kek',
      sessions: 4,
      asyncCalls: false,
      sessionKeyCopies: true,
      softhsmConf: undefined,
      revealCacheEntries: 1024,
      revealCacheTtlMs: 60_000,
    });
    // 0 is allowed and means "no reveal cache".
    expect(resolveHsmConfig({ module: '/m.so', tokenLabel: 'k', pin: {}, revealCacheEntries: 0, revealCacheTtlMs: 0 })).toMatchObject({
      revealCacheEntries: 0,
      revealCacheTtlMs: 0,
    });
  });

  it.each([
    [{ tokenLabel: '' }],
    [{ tokenLabel: 'x'.repeat(33) }],
    [{ tokenLabel: ' kmipd' }],
    [{ module: '' }],
    [{ kekLabelPrefix: 'has space' }],
    [{ sessions: 0 }],
    [{ revealCacheEntries: -1 }],
    [{ revealCacheEntries: 1.5 }],
    [{ revealCacheTtlMs: -1 }],
    [{ revealCacheTtlMs: 86_400_001 }],
  ])('refuses %o', (override) => {
    const e = pinError(() => resolveHsmConfig({ module: '/m.so', tokenLabel: 'kmipd', pin: {}, ...override }));
    expect(e.code).toBe('ConfigInvalid');
  });
});

describe('readPin', () => {
  it('prefers a set env var, then the file, and strips one trailing newline', () => {
    const file = join(dir, 'a.pin');
    writeFileSync(file, 'file-pin\r\n', { mode: 0o600 });
    process.env['KMIPD_UNIT_PIN'] = 'env-pin';
    try {
      expect(readPin({ env: 'KMIPD_UNIT_PIN', file })).toBe('env-pin');
    } finally {
      delete process.env['KMIPD_UNIT_PIN'];
    }
    expect(readPin({ env: 'KMIPD_UNIT_PIN', file })).toBe('file-pin');
    writeFileSync(file, 'two\n\n', { mode: 0o600 });
    expect(readPin({ file })).toBe('two\n');
  });

  it('warns about a group/world readable PIN file without logging the PIN', () => {
    const file = join(dir, 'loose.pin');
    const pin = generatePin();
    writeFileSync(file, pin);
    chmodSync(file, 0o640);
    const seen: string[] = [];
    const log: HsmLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => void seen.push(JSON.stringify([obj, msg])),
      error: () => undefined,
    };
    expect(readPin({ file }, log)).toBe(pin);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('640');
    expect(seen[0]).not.toContain(pin);
  });

  it('reports missing sources as PinMissing naming the source only', () => {
    expect(pinError(() => readPin({ file: join(dir, 'none') })).message).toBe(
      `HSM PIN file ${join(dir, 'none')} does not exist`,
    );
    expect(pinError(() => readPin({ env: 'KMIPD_UNIT_UNSET' })).code).toBe('PinMissing');
    expect(pinError(() => readPin({})).code).toBe('PinMissing');
    expect(pinError(() => readPin({ file: dir })).code).toBe('PinMissing');
  });
});

describe('generatePin', () => {
  it('gives distinct printable PINs within SoftHSM limits', () => {
    const a = generatePin();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generatePin()).not.toBe(a);
  });
});
