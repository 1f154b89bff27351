/** Adjust Attribute payloads (KMIP 2.1 §6.1.3 Tables 170–171). Required fields are checked by the handler, after the version: 1.x does not know the operation. */
import { Tag } from '../registry.js';
import { anyNode, enumeration, one, optional, struct, textString } from '../schema.js';

export const adjustAttributeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  attributeReference: optional(Tag.AttributeReference, anyNode),
  adjustmentType: optional(Tag.AdjustmentType, enumeration),
  adjustmentValue: optional(Tag.AdjustmentValue, anyNode),
});

export const adjustAttributeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
});
