/**
 * One lifecycle step of an operation on a stored object (KMIP 1.4 §3.22, 2.1 §4.57): the object's
 * current state (date-driven transitions applied), the transition table of kmip/lifecycle.ts, and
 * the version's reason when the table has no such transition (refusals.ts).
 */
import { Enum, enumValueName } from '../kmip/registry.js';
import { Forbidden, LifecycleEvent, transition, type StateValue } from '../kmip/lifecycle.js';
import type { StoredObject } from '../store/types.js';
import { currentState, isDestroyed } from './object-attributes.js';
import { refuse } from './refusals.js';
import type { OperationContext } from './types.js';

const operationOf: Readonly<Record<LifecycleEvent, string>> = {
  Activate: 'Activate',
  ActivationDateReached: 'Activation',
  DeactivationDateReached: 'Deactivation',
  RevokeCompromise: 'Revoke (compromise)',
  RevokeOther: 'Revoke',
  Destroy: 'Destroy',
};

export function stateLabel(state: number): string {
  return (enumValueName('State', state) ?? `state ${state}`).replace(/([a-z])([A-Z])/g, '$1 $2');
}

/** The state `event` leads to from the object's current state, or the version's refusal. */
export function nextState(ctx: OperationContext, obj: StoredObject, event: LifecycleEvent, now: Date): StateValue {
  if (obj.objectType === Enum.ObjectType.Template) {
    throw refuse('objectType', ctx.version, `${operationOf[event]} does not apply to Templates`);
  }
  const state = currentState(obj, now);
  const next = transition(state, event);
  if (next !== Forbidden) return next;
  if (event === LifecycleEvent.Destroy && isDestroyed(state)) {
    throw refuse('alreadyDestroyed', ctx.version, 'the object has already been destroyed');
  }
  throw refuse('wrongState', ctx.version, `${operationOf[event]} is not permitted while the object is ${stateLabel(state)}`);
}
