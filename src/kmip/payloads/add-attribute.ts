/**
 * Add Attribute payloads (KMIP 1.4 §4.13 Tables 200–201; 2.1 §6.1.2 Tables 167–168): 1.x sends
 * and answers an Attribute; 2.x sends a New Attribute and answers only the identifier.
 */
import { Tag } from '../registry.js';
import { anyNode, one, optional, rawStructure, struct, textString } from '../schema.js';

export const addAttributeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  attribute: optional(Tag.Attribute, anyNode),
  newAttribute: optional(Tag.NewAttribute, rawStructure),
});

export const addAttributeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  attribute: optional(Tag.Attribute, anyNode),
});
