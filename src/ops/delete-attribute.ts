/**
 * Delete Attribute (KMIP 1.4 §4.15, 2.1 §6.1.13). 1.x names the attribute and optionally the
 * instance (index 0 when omitted) and answers the deleted Attribute; 2.x gives the Current
 * Attribute (that instance) or an Attribute Reference (every instance). Attributes a client may
 * not delete (REQUIRED or server-owned ones) are refused.
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import {
  attributeNameText,
  readAttributeReference,
  readSingleAttribute,
  renderAttribute,
  sameValue,
  type AttributeInput,
} from '../kmip/attribute-codec.js';
import { deleteAttributeRequest, deleteAttributeResponse } from '../kmip/payloads/delete-attribute.js';
import { atLeast } from '../kmip/version.js';
import { assertClientMay, changeClientAttributes, currentState, storeChangedAttributes } from './object-attributes.js';
import type { KmipVersion } from '../kmip/version.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { StoredAttribute } from '../store/types.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const deleteAttribute = defineOperation({
  operation: Enum.Operation.DeleteAttribute,
  request: deleteAttributeRequest,
  response: deleteAttributeResponse,
  async handle(ctx, req) {
    const v2 = atLeast(ctx.version, 2, 0);
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const state = currentState(obj, ctx.now());
    let inputs: AttributeInput[];
    if (v2) {
      if (req.attributeName !== undefined || req.attributeIndex !== undefined) {
        throw new KmipError('InvalidField', 'KMIP 2.x deletes by Current Attribute or Attribute Reference');
      }
      inputs = selectV2(obj.attributes, req.currentAttribute, req.attributeReference, obj.objectType, ctx.version);
    } else {
      if (req.attributeName === undefined) throw new KmipError('MissingData', 'Attribute Name is required');
      const name = readAttributeReference(req.attributeName, ctx.version);
      // 1.4 Table 343: "No attribute with the specified name exists" is Item Not Found.
      if (name === undefined) throw new KmipError('ItemNotFound', 'the object has no attribute of that name');
      inputs = [{ name, index: req.attributeIndex ?? 0, value: { tag: Tag.AttributeValue, type: 'Structure', value: [] } }];
    }
    const change = changeClientAttributes(obj.attributes, inputs, 'delete', obj.objectType, state, ctx.version);
    storeChangedAttributes(ctx, obj, change.attributes);
    const deleted = change.affected[0];
    return {
      uniqueIdentifier: obj.uid,
      attribute: !v2 && deleted !== undefined ? renderAttribute(deleted, ctx.version) : undefined,
    };
  },
});

function selectV2(
  attrs: readonly StoredAttribute[],
  currentNode: TtlvNode[] | undefined,
  referenceNode: TtlvNode | undefined,
  objectType: number,
  version: KmipVersion,
): AttributeInput[] {
  if (currentNode !== undefined) {
    const current = readSingleAttribute(currentNode, version, Tag.CurrentAttribute);
    assertClientMay(current.name, 'delete', objectType, version);
    const hit = attrs.find((a) => a.name === current.name && sameValue(a.value, current.value));
    const anyOfName = attrs.some((a) => a.name === current.name);
    // An unmatched value: index -1 so the rules report the instance (or the attribute) missing.
    return [{ name: current.name, index: hit?.index ?? (anyOfName ? -1 : 0), value: current.value }];
  }
  if (referenceNode === undefined) throw new KmipError('MissingData', 'Current Attribute or Attribute Reference is required');
  const name = readAttributeReference(referenceNode, version);
  if (name === undefined) throw new KmipError('AttributeNotFound', 'the object has no such attribute');
  assertClientMay(name, 'delete', objectType, version);
  const instances = attrs.filter((a) => a.name === name);
  if (instances.length === 0) throw new KmipError('AttributeNotFound', `the object has no ${attributeNameText(name)}`);
  return instances.map((a) => ({ name, index: a.index, value: a.value }));
}
