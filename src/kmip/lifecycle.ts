/**
 * The key lifecycle state machine: KMIP 1.4 §3.22 "State" (Figure 1 and its ten numbered
 * transitions; 2.1 §4.57 is the same list) as a transition table. "Only the transitions described
 * above are permitted": any (state, event) pair missing from the table is forbidden, and the ops
 * layer answers it with Wrong Key Lifecycle State.
 *
 *   1  (none) → Pre-Active on create/register; → Active at once if the Activation Date has passed
 *   2  Pre-Active → Destroyed            Destroy
 *   3  Pre-Active → Compromised          Revoke, reason Compromise
 *   4  Pre-Active → Active               Activation Date reached, Modify Activation Date ≤ now, Activate
 *   5  Active → Compromised              Revoke, reason Compromise
 *   6  Active → Deactivated              Deactivation Date reached, Modify Deactivation Date ≤ now,
 *                                        Revoke with any other reason
 *   7  Deactivated → Destroyed           Destroy (client, or server policy)
 *   8  Deactivated → Compromised         Revoke, reason Compromise
 *   9  Compromised → Destroyed Compromised  Destroy (client, or server policy)
 *   10 Destroyed → Destroyed Compromised    Revoke, reason Compromise
 *
 * Date-driven transitions (4, 6, and the compromise transitions 3/5/8/10 whose time the Compromise
 * Date records, 1.4 §3.30, which server policy may also set) are evaluated lazily by
 * `effectiveState` against an injectable clock rather than by a timer.
 */
import { Enum } from './registry.js';

export type StateValue = (typeof Enum.State)[keyof typeof Enum.State];

export const LifecycleEvent = {
  /** The Activate operation (1.4 §4.19), transition 4. */
  Activate: 'Activate',
  /** Activation Date reached, or modified to a time ≤ now: transition 4. */
  ActivationDateReached: 'ActivationDateReached',
  /** Deactivation Date reached, or modified to a time ≤ now: transition 6. */
  DeactivationDateReached: 'DeactivationDateReached',
  /** Revoke (1.4 §4.20) with Revocation Reason Code Key Compromise or CA Compromise: 3, 5, 8, 10. */
  RevokeCompromise: 'RevokeCompromise',
  /** Revoke with any other Revocation Reason Code: 6. */
  RevokeOther: 'RevokeOther',
  /** Destroy (1.4 §4.21), by a client or by server policy: 2, 7, 9. */
  Destroy: 'Destroy',
} as const;
export type LifecycleEvent = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

export const Forbidden = 'forbidden' as const;
export type Forbidden = typeof Forbidden;

const S = Enum.State;
const E = LifecycleEvent;

/** state → event → next state. Absent = forbidden. */
const transitions: ReadonlyMap<number, ReadonlyMap<LifecycleEvent, StateValue>> = new Map<number, Map<LifecycleEvent, StateValue>>([
  [
    S.PreActive,
    new Map<LifecycleEvent, StateValue>([
      [E.Destroy, S.Destroyed], // 2
      [E.RevokeCompromise, S.Compromised], // 3
      [E.ActivationDateReached, S.Active], // 4
      [E.Activate, S.Active], // 4
    ]),
  ],
  [
    S.Active,
    new Map<LifecycleEvent, StateValue>([
      [E.RevokeCompromise, S.Compromised], // 5
      [E.DeactivationDateReached, S.Deactivated], // 6
      [E.RevokeOther, S.Deactivated], // 6
    ]),
  ],
  [
    S.Deactivated,
    new Map<LifecycleEvent, StateValue>([
      [E.Destroy, S.Destroyed], // 7
      [E.RevokeCompromise, S.Compromised], // 8
    ]),
  ],
  [S.Compromised, new Map<LifecycleEvent, StateValue>([[E.Destroy, S.DestroyedCompromised]])], // 9
  [S.Destroyed, new Map<LifecycleEvent, StateValue>([[E.RevokeCompromise, S.DestroyedCompromised]])], // 10
  [S.DestroyedCompromised, new Map<LifecycleEvent, StateValue>()],
]);

/** The state after `event`, or 'forbidden' when the spec permits no such transition. */
export function transition(state: number, event: LifecycleEvent): StateValue | Forbidden {
  return transitions.get(state)?.get(event) ?? Forbidden;
}

/** Revoke's two effects (1.4 §4.20): "key compromise" or "CA compromise" (codes 1.4 §9.1.3.2.19, 2.1 §11.48) compromise the object; any other reason deactivates it. */
export function revokeEvent(revocationReasonCode: number): LifecycleEvent {
  return revocationReasonCode === Enum.RevocationReasonCode.KeyCompromise ||
    revocationReasonCode === Enum.RevocationReasonCode.CACompromise
    ? E.RevokeCompromise
    : E.RevokeOther;
}

/** KMIP Date-Time values are seconds since the epoch (1.4 §9.1.1.4). */
function seconds(nowMs: number): bigint {
  return BigInt(Math.floor(nowMs / 1000));
}

/** Transition 1: the state of a newly created or registered object. */
export function initialState(activationDate: bigint | undefined, nowMs: number): StateValue {
  return activationDate !== undefined && activationDate <= seconds(nowMs) ? S.Active : S.PreActive;
}

/** What effectiveState needs of an object: its stored state and lifecycle dates (Date-Time seconds). */
export interface LifecycleView {
  state: number;
  activationDate?: bigint;
  deactivationDate?: bigint;
  compromiseDate?: bigint;
}

/**
 * The state an object is in at `nowMs`. A date-driven transition happens once its date "is reached"
 * (1.4 §3.22 items 4 and 6), which stays true afterwards, so each reached date is applied whenever
 * the current state permits it, until nothing changes: a key whose Deactivation Date passed while
 * it was still Pre-Active is Deactivated as soon as its Activation Date is reached too. A reached
 * date whose transition the state does not permit changes nothing (there is no Pre-Active →
 * Deactivated transition).
 */
export function effectiveState(obj: LifecycleView, nowMs: number): StateValue {
  const now = seconds(nowMs);
  const reached: LifecycleEvent[] = [];
  if (obj.activationDate !== undefined && obj.activationDate <= now) reached.push(E.ActivationDateReached);
  if (obj.deactivationDate !== undefined && obj.deactivationDate <= now) reached.push(E.DeactivationDateReached);
  if (obj.compromiseDate !== undefined && obj.compromiseDate <= now) reached.push(E.RevokeCompromise);
  let state = obj.state as StateValue;
  // Figure 1 has no cycles, so re-applying reached dates settles after a few rounds.
  for (let changed = true; changed; ) {
    changed = false;
    for (const event of reached) {
      const next = transition(state, event);
      if (next !== Forbidden) {
        state = next;
        changed = true;
      }
    }
  }
  return state;
}

/** Reads the lifecycle dates out of attribute instances ({ name, value } with Date-Time values). */
export function lifecycleView(
  state: number,
  attributes: readonly { name: string; value: { type: string; value: unknown } }[],
): LifecycleView {
  const date = (name: string): bigint | undefined => {
    const a = attributes.find((x) => x.name === name);
    return a !== undefined && a.value.type === 'DateTime' && typeof a.value.value === 'bigint' ? a.value.value : undefined;
  };
  const view: LifecycleView = { state };
  const activation = date('ActivationDate');
  const deactivation = date('DeactivationDate');
  const compromise = date('CompromiseDate');
  if (activation !== undefined) view.activationDate = activation;
  if (deactivation !== undefined) view.deactivationDate = deactivation;
  if (compromise !== undefined) view.compromiseDate = compromise;
  return view;
}
