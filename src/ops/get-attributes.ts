/**
 * Get Attributes (KMIP 1.4 §4.11, 2.1 §6.1.20): the named attributes of an object, every
 * instance of each, or all attributes when none is named. A named attribute the object lacks is
 * simply absent from the response ("SHALL NOT be present"), and so is a name the server does not
 * know: appliances ask for attributes of newer versions and expect success.
 */
import { Enum } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { readAttributeReference, renderAttributes } from '../kmip/attribute-codec.js';
import { getAttributesRequest, getAttributesResponse } from '../kmip/payloads/get-attributes.js';
import { atLeast } from '../kmip/version.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { StoredAttribute } from '../store/types.js';
import { attributesOf } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const getAttributes = defineOperation({
  operation: Enum.Operation.GetAttributes,
  request: getAttributesRequest,
  response: getAttributesResponse,
  async handle(ctx, req) {
    const v2 = atLeast(ctx.version, 2, 0);
    const refs: TtlvNode[] = v2 ? req.attributeReferences : req.attributeNames;
    if ((v2 ? req.attributeNames : req.attributeReferences).length > 0) {
      throw new KmipError('InvalidField', v2 ? 'KMIP 2.x names attributes by Attribute Reference' : 'KMIP 1.x names attributes by Attribute Name');
    }
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const all = attributesOf(obj, ctx.now());

    let selected: StoredAttribute[] = all;
    if (refs.length > 0) {
      const seen = new Set<string>();
      selected = [];
      for (const ref of refs) {
        const name = readAttributeReference(ref, ctx.version);
        const key = name ?? `?${ref.type === 'TextString' ? ref.value : String(ref.value)}`;
        if (seen.has(key)) throw new KmipError('InvalidMessage', 'the same attribute is named more than once');
        seen.add(key);
        if (name !== undefined) selected.push(...all.filter((a) => a.name === name));
      }
    }
    const rendered = renderAttributes(selected, ctx.version);
    return v2
      ? { uniqueIdentifier: obj.uid, attributes: [], attributesStructure: rendered }
      : { uniqueIdentifier: obj.uid, attributes: rendered, attributesStructure: undefined };
  },
});
