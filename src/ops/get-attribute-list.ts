/**
 * Get Attribute List (KMIP 1.4 §4.12, 2.1 §6.1.21): the names of the attributes an object has,
 * each once: 1.x as Attribute Name texts (the spec names), 2.x as Attribute References (the tag,
 * or vendor and name for custom attributes).
 */
import { Enum } from '../kmip/registry.js';
import { renderAttributeReference, renderableIn } from '../kmip/attribute-codec.js';
import { getAttributeListRequest, getAttributeListResponse } from '../kmip/payloads/get-attribute-list.js';
import { atLeast } from '../kmip/version.js';
import type { TtlvNode } from '../ttlv/types.js';
import { attributesOf } from './object-attributes.js';
import { loadOnline } from './online-object.js';
import { defineOperation } from './types.js';

export const getAttributeList = defineOperation({
  operation: Enum.Operation.GetAttributeList,
  request: getAttributeListRequest,
  response: getAttributeListResponse,
  async handle(ctx, req) {
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    const names = new Set<string>();
    for (const a of attributesOf(obj, ctx.now())) if (renderableIn(a, ctx.version)) names.add(a.name);
    const refs = [...names].map((n) => renderAttributeReference(n, ctx.version));
    if (atLeast(ctx.version, 2, 0)) return { uniqueIdentifier: obj.uid, attributeNames: [], attributeReferences: refs };
    return { uniqueIdentifier: obj.uid, attributeNames: refs.map(textOf), attributeReferences: [] };
  },
});

function textOf(n: TtlvNode): string {
  return n.type === 'TextString' ? n.value : '';
}
