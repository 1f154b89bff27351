/**
 * Activate (KMIP 1.4 §4.19, §11.20; 2.1 §6.1.1): Pre-Active → Active (1.4 §3.22 transition 4) and
 * the Activation Date set to now. Any other state is refused with the version's reason
 * (refusals.ts: 1.4 Permission Denied, 2.x Wrong Key Lifecycle State).
 */
import { Enum } from '../kmip/registry.js';
import { LifecycleEvent } from '../kmip/lifecycle.js';
import { activateRequest, activateResponse } from '../kmip/payloads/activate.js';
import { touch } from './object-attributes.js';
import { dateValue, setSingle } from './new-object.js';
import { loadOnline } from './online-object.js';
import { nextState } from './transitions.js';
import { defineOperation } from './types.js';

export const activate = defineOperation({
  operation: Enum.Operation.Activate,
  request: activateRequest,
  response: activateResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    obj.state = nextState(ctx, obj, LifecycleEvent.Activate, now);
    setSingle(obj.attributes, 'ActivationDate', dateValue(now));
    ctx.unit.put(touch(obj, now));
    return { uniqueIdentifier: obj.uid };
  },
});
