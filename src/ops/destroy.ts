/**
 * Destroy (KMIP 1.4 §4.21, §11.22; 2.1 §6.1.15): the key material is erased (the stored, HSM-wrapped
 * blob is dropped), the attributes stay (2.1: "The meta-data ... SHALL be retained"), the state
 * becomes Destroyed or Destroyed Compromised (1.4 §3.22 transitions 2, 7, 9) and Destroy Date is
 * set. Only Pre-Active, Deactivated and Compromised objects may be destroyed: an Active key must
 * be revoked first (OASIS SKLC-M-2-14). A Template is destroyed with all its meta-data (1.4 §4.21).
 */
import { Enum } from '../kmip/registry.js';
import { LifecycleEvent } from '../kmip/lifecycle.js';
import { destroyRequest, destroyResponse } from '../kmip/payloads/destroy.js';
import { touch } from './object-attributes.js';
import { dateValue, setSingle } from './new-object.js';
import { loadOnline } from './online-object.js';
import { nextState } from './transitions.js';
import { defineOperation } from './types.js';

export const destroy = defineOperation({
  operation: Enum.Operation.Destroy,
  request: destroyRequest,
  response: destroyResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    if (obj.objectType === Enum.ObjectType.Template) {
      // The store keeps rows; an emptied Template without material is treated as absent (online-object.ts).
      obj.material = null;
      obj.attributes = [];
      obj.state = Enum.State.Destroyed;
      ctx.unit.put(obj);
      return { uniqueIdentifier: obj.uid };
    }
    obj.state = nextState(ctx, obj, LifecycleEvent.Destroy, now);
    ctx.keys.forget(obj.uid); // no cached key of a destroyed object may outlive it in the HSM
    obj.material = null;
    setSingle(obj.attributes, 'DestroyDate', dateValue(now));
    ctx.unit.put(touch(obj, now));
    return { uniqueIdentifier: obj.uid };
  },
});
