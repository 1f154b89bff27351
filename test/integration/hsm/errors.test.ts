// Operator-facing failures of opening the HSM: wrong PIN, missing module, unknown token, no KEK,
// missing PIN; none of the messages may contain the PIN. The wrong-PIN case runs first, while no
// protector of this process is logged in: PKCS#11 login state is per application, so a second
// login attempt after a successful one answers CKR_USER_ALREADY_LOGGED_IN without checking.

import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HsmLogger } from '../../../src/hsm/config.js';
import { HsmError } from '../../../src/hsm/errors.js';
import { openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { generatePin, provisionSoftHsmToken } from '../../../src/hsm/token.js';
import { type TestToken, describeHsm, makeTestToken } from '../../support/softhsm.js';

async function openError(p: Promise<unknown>): Promise<HsmError> {
  const e = await p.then(
    (ok) => {
      throw new Error(`expected a failure, got ${String(ok)}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HsmError);
  return e as HsmError;
}

function recordingLogger(): HsmLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describeHsm('opening the HSM', () => {
  let token: TestToken;

  beforeAll(async () => {
    token = await makeTestToken();
  });

  afterAll(async () => {
    await token?.cleanup();
  });

  it('reports a wrong PIN as PinIncorrect without the PIN in the message', async () => {
    const wrong = generatePin();
    const pinFile = join(token.dir, 'wrong.pin');
    await writeFile(pinFile, wrong, { mode: 0o600 });
    const e = await openError(openPkcs11Protector({ ...token.config, pin: { file: pinFile } }));
    expect(e.code).toBe('PinIncorrect');
    expect(e.ckr).toBe('CKR_PIN_INCORRECT');
    expect(e.message).toBe('HSM PIN is incorrect (CKR_PIN_INCORRECT)');
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(token.pin);
  });

  it('opens with the right PIN from the environment', async () => {
    process.env['KMIPD_TEST_HSM_PIN'] = token.pin;
    try {
      const log = recordingLogger();
      const hsm = await openPkcs11Protector({ ...token.config, pin: { env: 'KMIPD_TEST_HSM_PIN' } }, log);
      expect((await hsm.health()).ok).toBe(false); // no KEK yet
      await hsm.close();
      expect(JSON.stringify(log.lines)).not.toContain(token.pin);
      expect(log.lines.some((l) => l.msg?.includes('no KEK'))).toBe(true);
    } finally {
      delete process.env['KMIPD_TEST_HSM_PIN'];
    }
  });

  it('falls back from an unset env var to the PIN file', async () => {
    const hsm = await openPkcs11Protector({ ...token.config, pin: { env: 'KMIPD_TEST_UNSET_PIN', file: token.pinFile } });
    await hsm.close();
  });

  it('reports a missing module as ModuleMissing', async () => {
    const e = await openError(openPkcs11Protector({ ...token.config, module: '/nonexistent/libpkcs11.so' }));
    expect(e.code).toBe('ModuleMissing');
    expect(e.message).toContain('/nonexistent/libpkcs11.so');
    expect(e.message).not.toContain(token.pin);
  });

  it('reports an unknown token label as TokenNotFound', async () => {
    const e = await openError(openPkcs11Protector({ ...token.config, tokenLabel: 'no-such-token' }));
    expect(e.code).toBe('TokenNotFound');
    expect(e.message).toBe(
      `token 'no-such-token' not found in module ${token.config.module} (SOFTHSM2_CONF=${token.confPath})`,
    );
  });

  it('finds a token that appears while it retries (a shared token directory being rewritten)', async () => {
    const log = recordingLogger();
    const opening = openPkcs11Protector({ ...token.config, tokenLabel: 'late-token' }, log);
    await new Promise((r) => setTimeout(r, 300));
    await provisionSoftHsmToken({ dir: token.dir, label: 'late-token', soPin: generatePin(), userPin: token.pin });
    const hsm = await opening;
    expect(hsm.tokenLabel).toBe('late-token');
    await hsm.close();
    expect(log.lines.some((l) => l.level === 'warn' && l.msg?.includes('token not found'))).toBe(true);
  });

  it('reports a missing PIN file, an unset PIN env var and no PIN source as PinMissing', async () => {
    const missing = join(token.dir, 'nope.pin');
    let e = await openError(openPkcs11Protector({ ...token.config, pin: { file: missing } }));
    expect(e.code).toBe('PinMissing');
    expect(e.message).toBe(`HSM PIN file ${missing} does not exist`);
    e = await openError(openPkcs11Protector({ ...token.config, pin: { env: 'KMIPD_TEST_UNSET_PIN' } }));
    expect(e.code).toBe('PinMissing');
    expect(e.message).toContain('KMIPD_TEST_UNSET_PIN');
    e = await openError(openPkcs11Protector({ ...token.config, pin: {} }));
    expect(e.code).toBe('PinMissing');
    const empty = join(token.dir, 'empty.pin');
    await writeFile(empty, '\n', { mode: 0o600 });
    e = await openError(openPkcs11Protector({ ...token.config, pin: { file: empty } }));
    expect(e.code).toBe('PinMissing');
  });

  it('warns (and still works) when the PIN file is group or world readable', async () => {
    const loose = join(token.dir, 'loose.pin');
    await writeFile(loose, `${token.pin}\r\n`);
    await chmod(loose, 0o644);
    const log = recordingLogger();
    const hsm = await openPkcs11Protector({ ...token.config, pin: { file: loose } }, log);
    await hsm.close();
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/readable by group or others/);
    expect(warn?.obj).toEqual({ pinFile: loose, mode: '644' });
    expect(JSON.stringify(log.lines)).not.toContain(token.pin);
  });

  it('reports KekNotFound when the token holds no KEK', async () => {
    const hsm = await openPkcs11Protector(token.config);
    try {
      expect(await hsm.listKekVersions()).toEqual([]);
      let e = await openError(hsm.currentKekVersion());
      expect(e.code).toBe('KekNotFound');
      expect(e.message).toContain("run 'kmipd init'");
      e = await openError(hsm.generate({ kind: 'aes', bits: 256 }, { uid: 'u', objectType: 2 }));
      expect(e.code).toBe('KekNotFound');
      e = await openError(hsm.protect(Buffer.alloc(32, 1), { uid: 'u', objectType: 2 }));
      expect(e.code).toBe('KekNotFound');
      e = await openError(
        hsm.reveal({ wrapped: Buffer.alloc(45), mac: Buffer.alloc(32), kekVersion: 1 }, { uid: 'u', objectType: 2 }),
      );
      expect(e.code).toBe('KekNotFound');
      expect(e.message).toBe("KEK version 1 not found on token 'kmipd-test' (no key labelled 'kmipd-kek-v1')");
      e = await openError(hsm.destroyKek(1));
      expect(e.code).toBe('KekNotFound');
      const health = await hsm.health();
      expect(health.ok).toBe(false);
      expect(health.detail).toMatch(/no KEK found/);
    } finally {
      await hsm.close();
    }
  });

  it('rejects unusable configurations', async () => {
    let e = await openError(openPkcs11Protector({ ...token.config, tokenLabel: 'x'.repeat(33) }));
    expect(e.code).toBe('ConfigInvalid');
    e = await openError(openPkcs11Protector({ ...token.config, kekLabelPrefix: 'bad prefix' }));
    expect(e.code).toBe('ConfigInvalid');
    // SoftHSM reads SOFTHSM2_CONF once per initialisation: a second configuration in one
    // process is refused while the first is in use.
    const hsm = await openPkcs11Protector(token.config);
    try {
      e = await openError(openPkcs11Protector({ ...token.config, softhsmConf: join(token.dir, 'other.conf') }));
      expect(e.code).toBe('ConfigInvalid');
    } finally {
      await hsm.close();
    }
  });

  it('provisioning errors never quote the PINs', async () => {
    const soPin = generatePin();
    const userPin = generatePin();
    // `false` exits 1 like a failing softhsm2-util; execFile would quote the whole argv.
    let e = await openError(
      provisionSoftHsmToken({ dir: join(token.dir, 'p1'), label: 'p1', soPin, userPin, util: 'false' }),
    );
    expect(e.code).toBe('ProvisioningFailed');
    expect(e.message).not.toContain(soPin);
    expect(e.message).not.toContain(userPin);
    expect(e.cause).toBeUndefined();
    e = await openError(
      provisionSoftHsmToken({ dir: join(token.dir, 'p2'), label: 'p2', soPin, userPin, util: '/nonexistent/softhsm2-util' }),
    );
    expect(e.code).toBe('ModuleMissing');
    e = await openError(provisionSoftHsmToken({ dir: join(token.dir, 'p3'), label: 'p3', soPin: '12', userPin }));
    expect(e.code).toBe('ConfigInvalid');
    expect(e.message).not.toContain('12');
  });

  it('two tokens with the same label are refused rather than guessed between', async () => {
    // A second token with the same label in the same token directory.
    const { confPath } = await provisionSoftHsmToken({
      dir: token.dir,
      label: token.label,
      soPin: generatePin(),
      userPin: generatePin(),
    });
    expect(confPath).toBe(token.confPath);
    const e = await openError(openPkcs11Protector(token.config));
    expect(e.code).toBe('ConfigInvalid');
    expect(e.message).toContain("2 tokens are labelled 'kmipd-test'");
  });
});
