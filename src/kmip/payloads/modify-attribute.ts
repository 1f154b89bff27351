/**
 * Modify Attribute payloads (KMIP 1.4 §4.14 Tables 202–203; 2.1 §6.1.34 Tables 265–266): 1.x
 * sends the Attribute (its index picks the instance) and answers it; 2.x sends an optional
 * Current Attribute and a New Attribute and answers only the identifier.
 */
import { Tag } from '../registry.js';
import { anyNode, one, optional, rawStructure, struct, textString } from '../schema.js';

export const modifyAttributeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  attribute: optional(Tag.Attribute, anyNode),
  currentAttribute: optional(Tag.CurrentAttribute, rawStructure),
  newAttribute: optional(Tag.NewAttribute, rawStructure),
});

export const modifyAttributeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  attribute: optional(Tag.Attribute, anyNode),
});
