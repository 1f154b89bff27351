/**
 * Revoke (KMIP 1.4 §4.20, §11.21, §3.29–3.31; 2.1 §6.1.44): Key Compromise or CA Compromise puts
 * the object in Compromised (or Destroyed Compromised) and sets Compromise Date to now and
 * Compromise Occurrence Date to the given date, else the Initial Date; any other reason
 * deactivates it and sets Deactivation Date to now (1.4 §3.22 transitions 3, 5, 6, 8, 10). The
 * Revocation Reason is kept as an attribute. Transitions the state machine lacks (revoking a
 * Pre-Active key for a reason other than compromise, deactivating twice) are refused with the
 * version's reason.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Tag } from '../kmip/registry.js';
import { LifecycleEvent, revokeEvent } from '../kmip/lifecycle.js';
import { isExtensionValue } from '../kmip/objects.js';
import { revokeRequest, revokeResponse } from '../kmip/payloads/revoke.js';
import type { TtlvNode } from '../ttlv/types.js';
import { touch } from './object-attributes.js';
import { attributeValue, av, dateValue, setSingle } from './new-object.js';
import { loadOnline } from './online-object.js';
import { nextState } from './transitions.js';
import { defineOperation } from './types.js';

export const revoke = defineOperation({
  operation: Enum.Operation.Revoke,
  request: revokeRequest,
  response: revokeResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const code = req.revocationReason.revocationReasonCode;
    if (!isExtensionValue(code) && !Object.values(Enum.RevocationReasonCode).includes(code as never)) {
      throw new KmipError('InvalidField', 'the Revocation Reason Code is not recognized');
    }
    const event = revokeEvent(code);
    if (event !== LifecycleEvent.RevokeCompromise && req.compromiseOccurrenceDate !== undefined) {
      throw new KmipError('InvalidField', 'Compromise Occurrence Date is only given with a compromise Revocation Reason');
    }
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    obj.state = nextState(ctx, obj, event, now);

    const reason: TtlvNode[] = [{ tag: Tag.RevocationReasonCode, type: 'Enumeration', value: code }];
    if (req.revocationReason.revocationMessage !== undefined) {
      reason.push({ tag: Tag.RevocationMessage, type: 'TextString', value: req.revocationReason.revocationMessage });
    }
    setSingle(obj.attributes, 'RevocationReason', av('Structure', reason));
    if (event === LifecycleEvent.RevokeCompromise) {
      setSingle(obj.attributes, 'CompromiseDate', dateValue(now));
      const occurred =
        req.compromiseOccurrenceDate !== undefined
          ? av('DateTime', req.compromiseOccurrenceDate)
          : (attributeValue(obj.attributes, 'InitialDate') ?? dateValue(now));
      setSingle(obj.attributes, 'CompromiseOccurrenceDate', occurred);
    } else {
      setSingle(obj.attributes, 'DeactivationDate', dateValue(now));
    }
    ctx.unit.put(touch(obj, now));
    return { uniqueIdentifier: obj.uid };
  },
});
