/** Re-key payloads (KMIP 1.4 §4.4 Tables 174–175; 2.1 §6.1.46 Tables 305–306). */
import { Tag } from '../registry.js';
import { anyNode, interval, one, optional, struct, textString } from '../schema.js';

export const rekeyRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  offset: optional(Tag.Offset, interval),
  /** 1.x. */
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
  /** 2.x. */
  attributes: optional(Tag.Attributes, anyNode),
  protectionStorageMasks: optional(Tag.ProtectionStorageMasks, anyNode),
});

export const rekeyResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
});
