/** MAC and MAC Verify payloads (KMIP 1.4 §4.33 Tables 218–219, §4.34 Tables 220–221; 2.1 §6.1.30–6.1.31). */
import { Tag } from '../registry.js';
import { anyNode, byteString, enumeration, optional, struct, textString } from '../schema.js';
import { cryptographicParameters, streamingFields } from './encrypt.js';

export const macRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  ...streamingFields,
});

export const macResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  macData: optional(Tag.MACData, byteString),
  correlationValue: optional(Tag.CorrelationValue, byteString),
});

export const macVerifyRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  macData: optional(Tag.MACData, byteString),
  ...streamingFields,
});

export const macVerifyResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  validityIndicator: optional(Tag.ValidityIndicator, enumeration),
  correlationValue: optional(Tag.CorrelationValue, byteString),
});
