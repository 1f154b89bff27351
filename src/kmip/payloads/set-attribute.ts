/** Set Attribute payloads (KMIP 2.1 §6.1.51 Tables 322–323). New Attribute is checked by the handler, after the version: 1.x does not know the operation. */
import { Tag } from '../registry.js';
import { anyNode, one, optional, rawStructure, struct, textString } from '../schema.js';

export const setAttributeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  newAttribute: optional(Tag.NewAttribute, rawStructure),
});

export const setAttributeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
});
