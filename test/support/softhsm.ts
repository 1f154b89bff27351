// Test helpers for SoftHSM2: a private token per test file in a temp directory, and a raw
// PKCS#11 session for white-box checks (attributes of the KEKs, closing sessions behind the
// protector's back). Without softhsm2 the HSM suites are skipped locally but fail under CI=true.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import type { HsmConfig } from '../../src/hsm/config.js';
import { ckrOf } from '../../src/hsm/errors.js';
import {
  type Handle,
  type LoadedModule,
  attachModule,
  ck,
  detachModule,
  findTokenSlot,
} from '../../src/hsm/pkcs11-library.js';
import { SOFTHSM_MODULE, generatePin, provisionSoftHsmToken } from '../../src/hsm/token.js';

export const isCI = process.env['CI'] === 'true';

export function softHsmAvailable(): boolean {
  if (!existsSync(SOFTHSM_MODULE)) return false;
  const r = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * `describe` for suites that need SoftHSM2. Locally a missing softhsm2 skips them; in CI the
 * suite runs and fails on its first provisioning, so a broken image cannot pass silently.
 */
export const describeHsm: typeof describe = softHsmAvailable() || isCI ? describe : (describe.skip as typeof describe);

export interface TestToken {
  config: HsmConfig;
  dir: string;
  label: string;
  pin: string;
  soPin: string;
  pinFile: string;
  confPath: string;
  cleanup(): Promise<void>;
}

export async function makeTestToken(
  opts: { label?: string; config?: Partial<HsmConfig> } = {},
): Promise<TestToken> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-hsm-'));
  const label = opts.label ?? 'kmipd-test';
  const pin = generatePin();
  const soPin = generatePin();
  const { confPath } = await provisionSoftHsmToken({ dir, label, soPin, userPin: pin });
  const pinFile = join(dir, 'user.pin');
  await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  const config: HsmConfig = {
    module: SOFTHSM_MODULE,
    tokenLabel: label,
    pin: { file: pinFile },
    kekLabelPrefix: 'kmipd-kek',
    softhsmConf: confPath,
    ...opts.config,
  };
  return {
    config,
    dir,
    label,
    pin,
    soPin,
    pinFile,
    confPath,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface RawSession {
  module: LoadedModule;
  p11: LoadedModule['p11'];
  slot: Handle;
  session: Handle;
  /** Finds token secret keys by label. */
  findKeys(label: string): Handle[];
  close(): void;
}

/**
 * A session of the test's own on the token, through the same shared module registry as the
 * protector (so that neither finalises the library under the other). Logs in if needed.
 */
export function openRawSession(token: TestToken): RawSession {
  const module = attachModule(token.config.module, token.config.softhsmConf);
  const p11 = module.p11;
  let slot: Handle;
  let session: Handle;
  try {
    slot = findTokenSlot(module, token.label);
    session = p11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
    try {
      p11.C_Login(session, ck.CKU_USER, token.pin);
    } catch (e) {
      if (ckrOf(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw e;
    }
  } catch (e) {
    detachModule(module);
    throw e;
  }
  return {
    module,
    p11,
    slot,
    session,
    findKeys(label: string): Handle[] {
      p11.C_FindObjectsInit(session, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_LABEL, value: label },
      ]);
      try {
        return p11.C_FindObjects(session, 16);
      } finally {
        p11.C_FindObjectsFinal(session);
      }
    },
    close(): void {
      try {
        p11.C_CloseSession(session);
      } catch {
        // The test may have closed every session on purpose.
      }
      detachModule(module);
    },
  };
}
