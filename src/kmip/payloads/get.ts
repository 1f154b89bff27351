/** Get payloads (KMIP 1.4 §4.11 Tables 194–195; 2.1 §6.1.19 Tables 220–221). */
import { Tag } from '../registry.js';
import { anyNode, enumeration, one, optional, struct, textString } from '../schema.js';
import { keyWrappingSpecification, objectFields } from '../objects.js';

export const getRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  keyFormatType: optional(Tag.KeyFormatType, enumeration),
  keyWrapType: optional(Tag.KeyWrapType, enumeration),
  keyCompressionType: optional(Tag.KeyCompressionType, enumeration),
  keyWrappingSpecification: optional(Tag.KeyWrappingSpecification, keyWrappingSpecification),
});

export const getResponse = struct({
  objectType: one(Tag.ObjectType, enumeration),
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
  ...objectFields,
});
