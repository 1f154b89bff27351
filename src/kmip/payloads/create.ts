/**
 * Create payloads (KMIP 1.4 §4.1 Tables 163–164; 2.1 §6.1.8 Tables 186–187). The attribute
 * containers stay raw: kmip/attribute-codec.ts reads 1.x Template-Attribute and 2.x Attributes.
 */
import { Tag } from '../registry.js';
import { anyNode, enumeration, one, optional, struct, textString } from '../schema.js';

export const createRequest = struct({
  objectType: one(Tag.ObjectType, enumeration),
  /** 1.x. */
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
  /** 2.x. */
  attributes: optional(Tag.Attributes, anyNode),
  protectionStorageMasks: optional(Tag.ProtectionStorageMasks, anyNode),
});

export const createResponse = struct({
  objectType: one(Tag.ObjectType, enumeration),
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  /** 1.x: attributes the server set implicitly (optional; kmipd leaves it out). */
  templateAttribute: optional(Tag.TemplateAttribute, anyNode),
});
