/**
 * Recover (KMIP 1.4 §4.23, §11.24, §3.32; 2.1 §6.1.42): the object is on-line again; the Archive
 * Date is deleted. Recovering an object that is not archived changes nothing. Recover is one of
 * the operations that set the ID Placeholder (1.4 §4 introduction).
 */
import { Enum } from '../kmip/registry.js';
import { recoverRequest, recoverResponse } from '../kmip/payloads/recover.js';
import { currentState, isArchived, touch } from './object-attributes.js';
import { removeAll } from './new-object.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const recover = defineOperation({
  operation: Enum.Operation.Recover,
  request: recoverRequest,
  response: recoverResponse,
  async handle(ctx, req) {
    const obj = await loadOnline(ctx, req.uniqueIdentifier, { archived: 'allow' });
    if (isArchived(obj)) {
      const now = ctx.now();
      removeAll(obj.attributes, 'ArchiveDate');
      obj.state = currentState(obj, now);
      ctx.unit.put(touch(obj, now));
    }
    ctx.idPlaceholder = obj.uid;
    return { uniqueIdentifier: obj.uid };
  },
});
