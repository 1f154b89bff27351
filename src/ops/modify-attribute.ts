/**
 * Modify Attribute (KMIP 1.4 §4.14, 2.1 §6.1.34): a new value for one existing instance.
 * 1.x picks the instance by Attribute Index (0 when omitted, 1.4 §2.1.1); 2.x by Current
 * Attribute value, or the only instance when none is given. 1.x answers the modified Attribute.
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { attributeNameText, readAttribute, readSingleAttribute, renderAttribute, sameValue, type AttributeInput } from '../kmip/attribute-codec.js';
import { modifyAttributeRequest, modifyAttributeResponse } from '../kmip/payloads/modify-attribute.js';
import { atLeast } from '../kmip/version.js';
import {
  assertClientMay,
  assertNamesUnique,
  changeClientAttributes,
  currentState,
  storeChangedAttributes,
} from './object-attributes.js';
import type { StoredAttribute } from '../store/types.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const modifyAttribute = defineOperation({
  operation: Enum.Operation.ModifyAttribute,
  request: modifyAttributeRequest,
  response: modifyAttributeResponse,
  async handle(ctx, req) {
    const v2 = atLeast(ctx.version, 2, 0);
    let input: AttributeInput;
    let current: AttributeInput | undefined;
    if (v2) {
      if (req.newAttribute === undefined) throw new KmipError('MissingData', 'New Attribute is required');
      input = readSingleAttribute(req.newAttribute, ctx.version, Tag.NewAttribute);
      current = req.currentAttribute !== undefined ? readSingleAttribute(req.currentAttribute, ctx.version, Tag.CurrentAttribute) : undefined;
      if (current !== undefined && current.name !== input.name) {
        throw new KmipError('InvalidField', 'Current Attribute and New Attribute must name the same attribute');
      }
    } else {
      if (req.attribute === undefined) throw new KmipError('MissingData', 'Attribute is required');
      input = readAttribute(req.attribute, ctx.version);
    }
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const state = currentState(obj, ctx.now());
    if (v2) {
      // Permission first: a read-only attribute reports Attribute Read Only even when absent (BL-M-7-21).
      assertClientMay(input.name, 'modify', obj.objectType, ctx.version);
      input = { ...input, index: pickInstance(obj.attributes, input.name, current) };
    }
    const change = changeClientAttributes(obj.attributes, [input], 'modify', obj.objectType, state, ctx.version);
    if (input.name === 'Name') await assertNamesUnique(ctx, obj.uid, [input.value], 'modify');
    storeChangedAttributes(ctx, obj, change.attributes);
    const modified = change.affected[0];
    return {
      uniqueIdentifier: obj.uid,
      attribute: !v2 && modified !== undefined ? renderAttribute(modified, ctx.version) : undefined,
    };
  },
});

/**
 * 2.x instance selection (2.1 §6.1.34): the instance equal to the Current Attribute, else the
 * only instance. An absent attribute yields index 0, which changeClientAttributes reports as
 * Attribute Not Found; an unmatched Current Attribute yields -1 (Attribute Instance Not Found).
 */
function pickInstance(attrs: readonly StoredAttribute[], name: string, current: AttributeInput | undefined): number {
  const instances = attrs.filter((a) => a.name === name);
  if (current !== undefined) return instances.find((a) => sameValue(a.value, current.value))?.index ?? -1;
  if (instances.length > 1) {
    throw new KmipError('MultiValuedAttribute', `${attributeNameText(name)} has several instances; give the Current Attribute to pick one`);
  }
  return instances[0]?.index ?? 0;
}
