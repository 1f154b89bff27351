/**
 * Archive (KMIP 1.4 §4.22, §11.23, §3.32; 2.1 §6.1.4): kmipd keeps archived objects where they
 * are; archiving sets the Archive Date, which takes the object off-line: other operations answer
 * Object Archived until Recover (1.4 §4 introduction). Archiving twice: Object Archived.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum } from '../kmip/registry.js';
import { archiveRequest, archiveResponse } from '../kmip/payloads/archive.js';
import { currentState, isArchived, touch } from './object-attributes.js';
import { dateValue, setSingle } from './new-object.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const archive = defineOperation({
  operation: Enum.Operation.Archive,
  request: archiveRequest,
  response: archiveResponse,
  async handle(ctx, req) {
    const now = ctx.now();
    const obj = await loadOnline(ctx, req.uniqueIdentifier, { archived: 'allow' });
    if (isArchived(obj)) throw new KmipError('ObjectArchived', 'the object is already archived');
    setSingle(obj.attributes, 'ArchiveDate', dateValue(now));
    obj.state = currentState(obj, now);
    ctx.unit.put(touch(obj, now));
    return { uniqueIdentifier: obj.uid };
  },
});
