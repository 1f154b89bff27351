/**
 * Check payloads (KMIP 1.4 §4.10 Tables 192–193; 2.1 §6.1.7 Tables 183–184). The values are bare
 * items, "not encoded in an Attribute structure".
 */
import { Tag } from '../registry.js';
import { anyNode, integer, interval, longInteger, optional, struct, textString } from '../schema.js';

export const checkRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
  usageLimitsCount: optional(Tag.UsageLimitsCount, longInteger),
  cryptographicUsageMask: optional(Tag.CryptographicUsageMask, integer),
  leaseTime: optional(Tag.LeaseTime, interval),
});

export const checkResponse = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, textString),
  usageLimitsCount: optional(Tag.UsageLimitsCount, longInteger),
  cryptographicUsageMask: optional(Tag.CryptographicUsageMask, integer),
  leaseTime: optional(Tag.LeaseTime, interval),
});
