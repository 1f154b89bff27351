/**
 * Register payloads (KMIP 1.4 §4.3 Tables 169–170; 2.1 §6.1.43): the object travels in the field
 * named after its type (kmip/objects.ts `objectFields`).
 */
import { Tag } from '../registry.js';
import { anyNode, enumeration, one, optional, struct, textString } from '../schema.js';
import { objectFields } from '../objects.js';

export const registerRequest = struct({
  objectType: one(Tag.ObjectType, enumeration),
  /** 1.x. */
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
  /** 2.x. */
  attributes: optional(Tag.Attributes, anyNode),
  ...objectFields,
  protectionStorageMasks: optional(Tag.ProtectionStorageMasks, anyNode),
});

export const registerResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
});
