/**
 * Add Attribute (KMIP 1.4 §4.13, 2.1 §6.1.2): a new attribute, or a new instance of a
 * multi-instance one, on an existing object. Existing values never change; the server assigns
 * the Attribute Index. 1.x answers the added Attribute (with its index), 2.x only the identifier.
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { readAttribute, readSingleAttribute, renderAttribute } from '../kmip/attribute-codec.js';
import { addAttributeRequest, addAttributeResponse } from '../kmip/payloads/add-attribute.js';
import { atLeast } from '../kmip/version.js';
import { assertNamesUnique, changeClientAttributes, currentState, storeChangedAttributes } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const addAttribute = defineOperation({
  operation: Enum.Operation.AddAttribute,
  request: addAttributeRequest,
  response: addAttributeResponse,
  async handle(ctx, req) {
    const v2 = atLeast(ctx.version, 2, 0);
    const input = v2
      ? req.newAttribute !== undefined ? readSingleAttribute(req.newAttribute, ctx.version, Tag.NewAttribute) : undefined
      : req.attribute !== undefined ? readAttribute(req.attribute, ctx.version) : undefined;
    if (input === undefined) throw new KmipError('MissingData', v2 ? 'New Attribute is required' : 'Attribute is required');
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const change = changeClientAttributes(obj.attributes, [input], 'add', obj.objectType, currentState(obj, ctx.now()), ctx.version, {
      readOnlyReason: 'ReadOnlyAttribute',
    });
    if (input.name === 'Name') await assertNamesUnique(ctx, obj.uid, [input.value], 'add');
    storeChangedAttributes(ctx, obj, change.attributes);
    const added = change.affected[0];
    return {
      uniqueIdentifier: obj.uid,
      attribute: !v2 && added !== undefined ? renderAttribute(added, ctx.version) : undefined,
    };
  },
});
