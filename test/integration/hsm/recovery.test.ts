// Recovery from HSM session loss: sessions closed, the library finalised or the user logged out
// behind the protector's back, and a token that stays away for a while. The process must keep
// running, health() must say what is wrong, and calls must work again once the HSM is back.

import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HsmLogger } from '../../../src/hsm/config.js';
import { HsmError } from '../../../src/hsm/errors.js';
import type { Binding, ProtectedMaterial } from '../../../src/hsm/key-protector.js';
import { type Pkcs11Protector, openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { type TestToken, describeHsm, makeTestToken, openRawSession } from '../../support/softhsm.js';

const binding: Binding = { uid: 'recover-1', objectType: 2 };

/** Counts the protector's "re-established" log lines, to prove a test really went through recovery. */
function countingLogger(): HsmLogger & { recoveries: number; lines: string[] } {
  const log = {
    recoveries: 0,
    lines: [] as string[],
    debug: () => undefined,
    info: (_obj: object, msg?: string) => {
      if (msg === 'HSM sessions re-established') log.recoveries++;
    },
    warn: (_obj: object, msg?: string) => void log.lines.push(msg ?? ''),
    error: (_obj: object, msg?: string) => void log.lines.push(msg ?? ''),
  };
  return log;
}

for (const mode of [
  { name: 'sync calls, session KEK copies', options: {} },
  { name: 'async calls, token KEKs', options: { asyncCalls: true, sessionKeyCopies: false } },
]) {
  describeHsm(`recovery (${mode.name})`, () => {
    let token: TestToken;
    let hsm: Pkcs11Protector;
    let pm: ProtectedMaterial;
    let plain: Buffer;
    const log = countingLogger();

    beforeAll(async () => {
      token = await makeTestToken({ config: mode.options });
      hsm = await openPkcs11Protector(token.config, log);
      await hsm.createKek(1);
      pm = await hsm.generate({ kind: 'aes', bits: 256 }, binding);
      plain = await hsm.reveal(pm, binding);
    });

    afterAll(async () => {
      await hsm?.close();
      await token?.cleanup();
    });

    it('serves 200 parallel generate/reveal calls', async () => {
      const keys = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const b = { uid: `p-${i}`, objectType: 2 };
          return (await hsm.reveal(await hsm.generate({ kind: 'aes', bits: 128 }, b), b)).toString('hex');
        }),
      );
      expect(new Set(keys).size).toBe(200);
      expect(log.recoveries).toBe(0);
    });

    it('recovers after C_CloseAllSessions behind its back', async () => {
      const raw = openRawSession(token);
      raw.p11.C_CloseAllSessions(raw.slot);
      raw.close();
      const before = log.recoveries;
      expect((await hsm.reveal(pm, binding)).equals(plain)).toBe(true);
      expect(log.recoveries).toBe(before + 1);
      expect((await hsm.health()).ok).toBe(true);
    });

    it('recovers after C_Finalize behind its back', async () => {
      const raw = openRawSession(token);
      raw.p11.C_Finalize();
      raw.close();
      const before = log.recoveries;
      const again = await hsm.generate({ kind: 'aes', bits: 256 }, binding);
      expect(await hsm.reveal(again, binding)).toHaveLength(32);
      expect((await hsm.reveal(pm, binding)).equals(plain)).toBe(true);
      expect(log.recoveries).toBe(before + 1);
    });

    it('recovers after being logged out behind its back (health notices it)', async () => {
      const raw = openRawSession(token);
      raw.p11.C_Logout(raw.session);
      raw.close();
      const before = log.recoveries;
      expect((await hsm.health()).ok).toBe(true);
      expect(log.recoveries).toBe(before + 1);
      expect((await hsm.reveal(pm, binding)).equals(plain)).toBe(true);
    });

    it('recovers once for many parallel calls that all hit the loss', async () => {
      const raw = openRawSession(token);
      raw.p11.C_CloseAllSessions(raw.slot);
      raw.close();
      const before = log.recoveries;
      const results = await Promise.all(Array.from({ length: 50 }, () => hsm.reveal(pm, binding)));
      for (const r of results) expect(r.equals(plain)).toBe(true);
      expect(log.recoveries).toBe(before + 1);
    });

    it('survives an HSM that stays away, reports it, and comes back', async () => {
      const tokens = join(token.dir, 'tokens');
      const hidden = join(token.dir, 'tokens.away');
      const raw = openRawSession(token);
      raw.p11.C_Finalize();
      raw.close();
      await rename(tokens, hidden);
      try {
        const e = await hsm.reveal(pm, binding).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(HsmError);
        expect((e as HsmError).code).toBe('SessionLost');
        expect((e as HsmError).message).toMatch(/^HSM unavailable: token 'kmipd-test' could not be re-opened/);
        // Within the cool-down, calls fail fast with the same error instead of hammering the HSM.
        const t0 = Date.now();
        const fast = await hsm.random(8).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect((fast as HsmError).code).toBe('SessionLost');
        expect(Date.now() - t0).toBeLessThan(200);
        const health = await hsm.health();
        expect(health.ok).toBe(false);
        expect(health.detail).toMatch(/HSM unavailable/);
      } finally {
        await rename(hidden, tokens);
      }
      await new Promise((r) => setTimeout(r, 1100));
      expect((await hsm.reveal(pm, binding)).equals(plain)).toBe(true);
      expect((await hsm.health()).ok).toBe(true);
      expect(log.lines).toContain('HSM session lost; re-initialising');
    });
  });
}

describeHsm('planned re-initialisation (SoftHSM frees session-object memory only in C_Finalize)', () => {
  let token: TestToken;
  let hsm: Pkcs11Protector;
  const log = countingLogger();

  beforeAll(async () => {
    token = await makeTestToken({ config: { recycleAfterObjects: 40 } });
    hsm = await openPkcs11Protector(token.config, log);
    await hsm.createKek(1);
  });

  afterAll(async () => {
    await hsm?.close();
    await token?.cleanup();
  });

  it('re-initialises every N objects without failing a call', async () => {
    const pm = await hsm.generate({ kind: 'aes', bits: 256 }, binding);
    const plain = await hsm.reveal(pm, binding);
    for (let round = 0; round < 5; round++) {
      const out = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const b = { uid: `r${round}-${i}`, objectType: 2 };
          const own = await hsm.protect(Buffer.alloc(24, i), b);
          expect((await hsm.reveal(own, b)).equals(Buffer.alloc(24, i))).toBe(true);
          return hsm.reveal(pm, binding);
        }),
      );
      for (const k of out) expect(k.equals(plain)).toBe(true);
    }
    // 900 objects with a limit of 40: many planned re-initialisations, none of them visible.
    expect(log.recoveries).toBeGreaterThanOrEqual(5);
    expect(log.lines).not.toContain('HSM session lost; re-initialising');
    expect((await hsm.health()).ok).toBe(true);
  });
});
