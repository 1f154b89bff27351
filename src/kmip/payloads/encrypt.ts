/**
 * Encrypt payloads (KMIP 1.4 §4.29 Tables 210–211; 2.1 §6.1.17) and the Cryptographic Parameters
 * structure they carry (1.4 §3.6 Cryptographic Parameters; 2.1 §4.13), decoded field by field so the
 * crypto operations read it as typed values. Decrypt, MAC and MAC Verify reuse it.
 */
import { Tag } from '../registry.js';
import { anyNode, boolean, byteString, enumeration, integer, optional, struct, textString } from '../schema.js';

export const cryptographicParameters = struct({
  blockCipherMode: optional(Tag.BlockCipherMode, enumeration),
  paddingMethod: optional(Tag.PaddingMethod, enumeration),
  hashingAlgorithm: optional(Tag.HashingAlgorithm, enumeration),
  keyRoleType: optional(Tag.KeyRoleType, enumeration),
  digitalSignatureAlgorithm: optional(Tag.DigitalSignatureAlgorithm, enumeration),
  cryptographicAlgorithm: optional(Tag.CryptographicAlgorithm, enumeration),
  randomIV: optional(Tag.RandomIV, boolean),
  ivLength: optional(Tag.IVLength, integer),
  tagLength: optional(Tag.TagLength, integer),
  fixedFieldLength: optional(Tag.FixedFieldLength, integer),
  invocationFieldLength: optional(Tag.InvocationFieldLength, integer),
  counterLength: optional(Tag.CounterLength, integer),
  initialCounterValue: optional(Tag.InitialCounterValue, integer),
  saltLength: optional(Tag.SaltLength, integer),
  maskGenerator: optional(Tag.MaskGenerator, enumeration),
  maskGeneratorHashingAlgorithm: optional(Tag.MaskGeneratorHashingAlgorithm, enumeration),
  pSource: optional(Tag.PSource, byteString),
  trailerField: optional(Tag.TrailerField, integer),
});
export type CryptographicParameters = ReturnType<typeof cryptographicParameters.decode>;

/** The fields every streaming-capable crypto request shares (1.4 §4.29–4.34: Correlation Value, Init/Final Indicator). */
export const streamingFields = {
  correlationValue: optional(Tag.CorrelationValue, byteString),
  initIndicator: optional(Tag.InitIndicator, boolean),
  finalIndicator: optional(Tag.FinalIndicator, boolean),
};

export const encryptRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  cryptographicParameters: optional(Tag.CryptographicParameters, cryptographicParameters),
  data: optional(Tag.Data, byteString),
  ivCounterNonce: optional(Tag.IVCounterNonce, byteString),
  ...streamingFields,
  authenticatedEncryptionAdditionalData: optional(Tag.AuthenticatedEncryptionAdditionalData, byteString),
});

export const encryptResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  data: optional(Tag.Data, byteString),
  ivCounterNonce: optional(Tag.IVCounterNonce, byteString),
  correlationValue: optional(Tag.CorrelationValue, byteString),
  authenticatedEncryptionTag: optional(Tag.AuthenticatedEncryptionTag, byteString),
});
