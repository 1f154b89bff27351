/** Revoke payloads (KMIP 1.4 §4.20 Tables 212–213, Revocation Reason §3.31; 2.1 §6.1.44, §4.47). */
import { Tag } from '../registry.js';
import { anyNode, dateTime, enumeration, one, optional, struct, textString } from '../schema.js';

export const revocationReason = struct({
  revocationReasonCode: one(Tag.RevocationReasonCode, enumeration),
  revocationMessage: optional(Tag.RevocationMessage, textString),
});

export const revokeRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  revocationReason: one(Tag.RevocationReason, revocationReason),
  compromiseOccurrenceDate: optional(Tag.CompromiseOccurrenceDate, dateTime),
});

export const revokeResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
});
