/**
 * Create Key Pair and Re-key Key Pair payloads (KMIP 1.4 §4.2 Tables 166–167, §4.5 Tables 176–177;
 * 2.1 §6.1.9 Tables 188–189, §6.1.47 Tables 307–308). The attribute containers stay raw:
 * kmip/attribute-codec.ts reads the 1.x Common/Private/Public Key Template-Attributes and the 2.x
 * Common/Private/Public Key Attributes.
 */
import { Tag } from '../registry.js';
import { anyNode, interval, one, optional, struct, textString } from '../schema.js';

const attributeContainers = {
  /** 1.x. */
  commonTemplateAttribute: optional(Tag.CommonTemplateAttribute, anyNode),
  privateKeyTemplateAttribute: optional(Tag.PrivateKeyTemplateAttribute, anyNode),
  publicKeyTemplateAttribute: optional(Tag.PublicKeyTemplateAttribute, anyNode),
  /** 2.x. */
  commonAttributes: optional(Tag.CommonAttributes, anyNode),
  privateKeyAttributes: optional(Tag.PrivateKeyAttributes, anyNode),
  publicKeyAttributes: optional(Tag.PublicKeyAttributes, anyNode),
  commonProtectionStorageMasks: optional(Tag.CommonProtectionStorageMasks, anyNode),
  privateProtectionStorageMasks: optional(Tag.PrivateProtectionStorageMasks, anyNode),
  publicProtectionStorageMasks: optional(Tag.PublicProtectionStorageMasks, anyNode),
};

export const createKeyPairRequest = struct(attributeContainers);

export const keyPairResponse = struct({
  privateKeyUniqueIdentifier: one(Tag.PrivateKeyUniqueIdentifier, textString),
  publicKeyUniqueIdentifier: one(Tag.PublicKeyUniqueIdentifier, textString),
  /** 1.x: attributes the server set implicitly (optional; kmipd leaves them out). */
  privateKeyTemplateAttribute: optional(Tag.PrivateKeyTemplateAttribute, anyNode),
  publicKeyTemplateAttribute: optional(Tag.PublicKeyTemplateAttribute, anyNode),
});

export const rekeyKeyPairRequest = struct({
  privateKeyUniqueIdentifier: optional(Tag.PrivateKeyUniqueIdentifier, anyNode),
  offset: optional(Tag.Offset, interval),
  ...attributeContainers,
});
