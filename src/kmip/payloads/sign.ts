/** Sign and Signature Verify payloads (KMIP 1.4 §4.31 Tables 214–215, §4.32 Tables 216–217; 2.1 §6.1.51–6.1.52). */
import { Tag } from '../registry.js';
import { anyNode, byteString, enumeration, optional, struct, textString } from '../schema.js';
import { cryptographicParameters, streamingFields } from './encrypt.js';

export const signRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  /** 1.4 and 2.x: the digest of the data, already computed by the client. */
  digestedData: optional(Tag.DigestedData, byteString),
  ...streamingFields,
});

export const signResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  signatureData: optional(Tag.SignatureData, byteString),
  correlationValue: optional(Tag.CorrelationValue, byteString),
});

export const signatureVerifyRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  digestedData: optional(Tag.DigestedData, byteString),
  signatureData: optional(Tag.SignatureData, byteString),
  ...streamingFields,
});

export const signatureVerifyResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  validityIndicator: optional(Tag.ValidityIndicator, enumeration),
  data: optional(Tag.Data, byteString),
  correlationValue: optional(Tag.CorrelationValue, byteString),
});
