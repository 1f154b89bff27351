/**
 * A KeyProtector wrapper for rotation tests: forwards to a real protector, except that generate()
 * can be made to fail (as an HSM error would) or to wait until released (a process stuck, or
 * crashed, in the middle of a rotation). Fakes live in test/ only.
 */
import { HsmError } from '../../src/hsm/errors.js';
import type { KeyProtector } from '../../src/hsm/key-protector.js';

export interface ControllableProtector extends KeyProtector {
  /** generate() throws HsmError while true. */
  failing: boolean;
  /** generate() calls so far (failed ones included). */
  generateCalls: number;
  /** Makes the next generate() calls wait until release() is called. */
  hold(): void;
  release(): void;
  /** Resolves once a held generate() call is waiting. */
  waitingForRelease(): Promise<void>;
}

export function controllableProtector(inner: KeyProtector): ControllableProtector {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let announce: (() => void) | undefined;
  let waiting = new Promise<void>((r) => (announce = r));
  const p: ControllableProtector = {
    failing: false,
    generateCalls: 0,
    async generate(spec, binding) {
      p.generateCalls++;
      if (gate !== undefined) {
        announce?.();
        await gate;
      }
      if (p.failing) throw new HsmError('DeviceError', 'injected HSM failure (test)', { ckr: 'CKR_DEVICE_ERROR' });
      return inner.generate(spec, binding);
    },
    generateKeyPair: (spec, binding) => inner.generateKeyPair(spec, binding),
    signEcdsaDigest: (...args) => inner.signEcdsaDigest(...args),
    verifyEcdsaDigest: (...args) => inner.verifyEcdsaDigest(...args),
    protect: (pt, b) => inner.protect(pt, b),
    reveal: (pm, b) => inner.reveal(pm, b),
    rewrap: (pm, b, v) => inner.rewrap(pm, b, v),
    forget: (uid) => inner.forget(uid),
    random: (n) => inner.random(n),
    health: () => inner.health(),
    close: () => inner.close(),
    hold() {
      gate = new Promise<void>((r) => (open = r));
      waiting = new Promise<void>((r) => (announce = r));
    },
    release() {
      gate = undefined;
      open?.();
    },
    waitingForRelease: () => waiting,
  };
  return p;
}
