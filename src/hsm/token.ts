// SoftHSM2 token provisioning for `kmipd init` and tests: a private softhsm2.conf per data
// directory, then `softhsm2-util --init-token --free` (STACK.md, SoftHSM2 and pkcs11js).
// softhsm2-util only takes PINs from argv or an interactive terminal (a piped stdin is refused),
// so the PINs are briefly visible in the process table while it runs (~10 ms). They are never
// logged and never put in error messages: execFile's own errors quote the full command line,
// so they are replaced rather than wrapped.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HsmError, HsmErrorCode } from './errors.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface ProvisionOptions {
  /** Directory that receives softhsm2.conf and the token store (tokens/). */
  dir: string;
  label: string;
  soPin: string;
  userPin: string;
  /** Defaults to `softhsm2-util` on PATH. */
  util?: string;
}

export interface ProvisionedToken {
  confPath: string;
  tokenDir: string;
}

/** A random PIN of base64url characters (192 bits), within SoftHSM's 4-255 character range. */
export function generatePin(bytes = 24): string {
  const raw = randomBytes(bytes);
  const pin = raw.toString('base64url');
  raw.fill(0);
  return pin;
}

export async function provisionSoftHsmToken(opts: ProvisionOptions): Promise<ProvisionedToken> {
  if (Buffer.byteLength(opts.label, 'utf8') > 32 || opts.label.length === 0) {
    throw new HsmError(HsmErrorCode.ConfigInvalid, 'token label must be 1-32 bytes');
  }
  for (const [name, pin] of [['SO PIN', opts.soPin], ['user PIN', opts.userPin]] as const) {
    if (pin.length < 4 || pin.length > 255) {
      throw new HsmError(HsmErrorCode.ConfigInvalid, `${name} must be 4-255 characters`);
    }
  }
  const dir = resolve(opts.dir);
  const tokenDir = join(dir, 'tokens');
  const confPath = join(dir, 'softhsm2.conf');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  // The object store holds the KEKs (encrypted under a key derived from the PIN, but still):
  // keep it private to the service account.
  await writeFile(
    confPath,
    ['# written by kmipd', `directories.tokendir = ${tokenDir}`, 'objectstore.backend = file', 'log.level = ERROR', ''].join(
      '\n',
    ),
    { mode: 0o600 },
  );
  const util = opts.util ?? 'softhsm2-util';
  const args = ['--init-token', '--free', '--label', opts.label, '--so-pin', opts.soPin, '--pin', opts.userPin];
  await new Promise<void>((done, fail) => {
    execFile(
      util,
      args,
      { env: { ...process.env, SOFTHSM2_CONF: confPath }, timeout: 60_000 },
      (err, _stdout, stderr) => {
        if (!err) return done();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          return fail(new HsmError(HsmErrorCode.ModuleMissing, `${util} not found: install softhsm2`));
        }
        // stderr is softhsm2-util's own diagnostics ("ERROR: ..."), which do not echo PINs;
        // strip the pins anyway in case a future version does.
        let detail = String(stderr).trim().split('\n').slice(-2).join(' ');
        for (const pin of [opts.soPin, opts.userPin]) detail = detail.split(pin).join('***');
        fail(
          new HsmError(
            HsmErrorCode.ProvisioningFailed,
            `softhsm2-util could not initialise token '${opts.label}' in ${tokenDir}${detail ? `: ${detail}` : ''}`,
          ),
        );
      },
    );
  });
  return { confPath, tokenDir };
}
