/** Decrypt payloads (KMIP 1.4 §4.30 Tables 212–213; 2.1 §6.1.11). */
import { Tag } from '../registry.js';
import { anyNode, byteString, optional, struct, textString } from '../schema.js';
import { cryptographicParameters, streamingFields } from './encrypt.js';

export const decryptRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  ivCounterNonce: optional(Tag.IVCounterNonce, byteString),
  ...streamingFields,
  authenticatedEncryptionAdditionalData: optional(Tag.AuthenticatedEncryptionAdditionalData, byteString),
  authenticatedEncryptionTag: optional(Tag.AuthenticatedEncryptionTag, byteString),
});

export const decryptResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  data: optional(Tag.Data, byteString),
  correlationValue: optional(Tag.CorrelationValue, byteString),
});
