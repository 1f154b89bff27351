/**
 * May this key be used, now, for this cryptographic purpose? (KMIP 1.4 §3.22 State, §3.19
 * Cryptographic Usage Mask, §3.25 Process Start Date, §3.26 Protect Stop Date; 2.1 §4.57, §4.17,
 * §4.40, §4.41.) For the operations that use keys (Encrypt, Decrypt, Sign, MAC, key wrapping on
 * Get, …): one check, with the version's reasons from refusals.ts.
 *
 *  - protect (encrypt, sign, wrap, MAC, derive): only an Active object, not before its Process
 *    Start Date nor after its Protect Stop Date;
 *  - process (decrypt, verify, unwrap, MAC verify): an Active object, or a Deactivated or
 *    Compromised one (1.4 §3.22: "SHOULD only ... under extraordinary circumstances", which the
 *    caller's policy decides by asking for 'process'), not before its Process Start Date;
 *  - every bit of `usage` must be in the Cryptographic Usage Mask.
 */
import { Enum } from '../kmip/registry.js';
import type { KmipVersion } from '../kmip/version.js';
import type { StoredObject } from '../store/types.js';
import { currentState } from './object-attributes.js';
import { dateAttribute, intAttribute, seconds } from './new-object.js';
import { refuse } from './refusals.js';
import { stateLabel } from './transitions.js';

export type UsePurpose = 'protect' | 'process';

const S = Enum.State;
const PROCESS_STATES: readonly number[] = [S.Active, S.Deactivated, S.Compromised];

export function requireUse(version: KmipVersion, obj: StoredObject, usage: number, purpose: UsePurpose, now: Date): void {
  if (obj.material === null) throw refuse('keyValueAbsent', version, 'the object has no key material');
  const state = currentState(obj, now);
  const allowed = purpose === 'protect' ? state === S.Active : PROCESS_STATES.includes(state);
  if (!allowed) throw refuse('wrongState', version, `the key cannot be used while it is ${stateLabel(state)}`);
  const t = seconds(now);
  const processStart = dateAttribute(obj.attributes, 'ProcessStartDate');
  if (processStart !== undefined && t < processStart) throw refuse('wrongState', version, 'the key may not be used before its Process Start Date');
  const protectStop = dateAttribute(obj.attributes, 'ProtectStopDate');
  if (purpose === 'protect' && protectStop !== undefined && t > protectStop) {
    throw refuse('wrongState', version, 'the key may no longer apply protection: its Protect Stop Date has passed');
  }
  const mask = intAttribute(obj.attributes, 'CryptographicUsageMask') ?? 0;
  if ((usage & ~mask) !== 0) throw refuse('usageMask', version, 'the key’s Cryptographic Usage Mask does not allow this use');
}
