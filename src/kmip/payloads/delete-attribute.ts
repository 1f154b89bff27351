/**
 * Delete Attribute payloads (KMIP 1.4 §4.15 Tables 204–205; 2.1 §6.1.13 Tables 202–203): 1.x
 * names the attribute and optionally its index and answers the deleted Attribute; 2.x gives a
 * Current Attribute or an Attribute Reference and answers only the identifier.
 */
import { Tag } from '../registry.js';
import { anyNode, integer, one, optional, rawStructure, struct, textString } from '../schema.js';

export const deleteAttributeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  attributeName: optional(Tag.AttributeName, anyNode),
  attributeIndex: optional(Tag.AttributeIndex, integer),
  currentAttribute: optional(Tag.CurrentAttribute, rawStructure),
  attributeReference: optional(Tag.AttributeReference, anyNode),
});

export const deleteAttributeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  attribute: optional(Tag.Attribute, anyNode),
});
