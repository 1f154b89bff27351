/**
 * Set Attribute (KMIP 2.1 §6.1.51): add the attribute when the object has none, modify it when it
 * has exactly one instance; several instances are an error (Multi Valued Attribute). Read-only
 * attributes are refused with Read Only Attribute (2.1 Table 324).
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { atLeast } from '../kmip/version.js';
import { attributeNameText, readSingleAttribute } from '../kmip/attribute-codec.js';
import { setAttributeRequest, setAttributeResponse } from '../kmip/payloads/set-attribute.js';
import { assertNamesUnique, changeClientAttributes, currentState, storeChangedAttributes } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const setAttribute = defineOperation({
  operation: Enum.Operation.SetAttribute,
  request: setAttributeRequest,
  response: setAttributeResponse,
  async handle(ctx, req) {
    if (!atLeast(ctx.version, 2, 0)) throw new KmipError('OperationNotSupported', 'Set Attribute is a KMIP 2.x operation');
    if (req.newAttribute === undefined) throw new KmipError('MissingData', 'New Attribute is required');
    const input = readSingleAttribute(req.newAttribute, ctx.version, Tag.NewAttribute);
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const instances = obj.attributes.filter((a) => a.name === input.name);
    if (instances.length > 1) {
      throw new KmipError('MultiValuedAttribute', `${attributeNameText(input.name)} has several instances; use Modify Attribute`);
    }
    const existing = instances[0];
    const change = changeClientAttributes(
      obj.attributes,
      [existing === undefined ? input : { ...input, index: existing.index }],
      existing === undefined ? 'add' : 'modify',
      obj.objectType,
      currentState(obj, ctx.now()),
      ctx.version,
      { readOnlyReason: 'ReadOnlyAttribute' },
    );
    if (input.name === 'Name') await assertNamesUnique(ctx, obj.uid, [input.value], existing === undefined ? 'add' : 'modify');
    storeChangedAttributes(ctx, obj, change.attributes);
    return { uniqueIdentifier: obj.uid };
  },
});
