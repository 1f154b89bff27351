/**
 * Locate payloads (KMIP 1.4 §4.9 Tables 190–191; 2.1 §6.1.28 Tables 247–248). 1.x carries its
 * filters as Attribute items (some appliances wrap them in a Template-Attribute, read too);
 * 2.x carries one Attributes structure.
 */
import { Tag } from '../registry.js';
import { anyNode, enumeration, integer, many, optional, rawStructure, struct, textString } from '../schema.js';

export const locateRequest = struct({
  maximumItems: optional(Tag.MaximumItems, integer),
  offsetItems: optional(Tag.OffsetItems, integer),
  storageStatusMask: optional(Tag.StorageStatusMask, integer),
  objectGroupMember: optional(Tag.ObjectGroupMember, enumeration),
  attributes: many(Tag.Attribute, anyNode),
  templateAttributes: many(Tag.TemplateAttribute, anyNode),
  attributesStructure: optional(Tag.Attributes, rawStructure),
});

export const locateResponse = struct({
  locatedItems: optional(Tag.LocatedItems, integer),
  uniqueIdentifiers: many(Tag.UniqueIdentifier, textString),
});
