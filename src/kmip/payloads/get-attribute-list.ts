/**
 * Get Attribute List payloads (KMIP 1.4 §4.12 Tables 198–199; 2.1 §6.1.21 Tables 226–227):
 * 1.x answers Attribute Names, 2.x Attribute References.
 */
import { Tag } from '../registry.js';
import { anyNode, many, one, optional, struct, textString } from '../schema.js';

export const getAttributeListRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
});

export const getAttributeListResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  attributeNames: many(Tag.AttributeName, textString),
  attributeReferences: many(Tag.AttributeReference, anyNode),
});
