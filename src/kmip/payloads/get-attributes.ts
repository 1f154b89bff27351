/**
 * Get Attributes payloads (KMIP 1.4 §4.11 Tables 196–197; 2.1 §6.1.20 Tables 223–224): 1.x names
 * attributes by Attribute Name and answers Attribute items; 2.x names them by Attribute Reference
 * and answers one Attributes structure.
 */
import { Tag } from '../registry.js';
import { anyNode, many, one, optional, rawStructure, struct, textString } from '../schema.js';

export const getAttributesRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  attributeNames: many(Tag.AttributeName, anyNode),
  attributeReferences: many(Tag.AttributeReference, anyNode),
});

export const getAttributesResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  attributes: many(Tag.Attribute, anyNode),
  attributesStructure: optional(Tag.Attributes, rawStructure),
});
