/** Interop (KMIP 2.1 §6.1.26 Tables 241–242) and Log (2.1 §6.1.29 Tables 250–251) payloads. */
import { Tag } from '../registry.js';
import { enumeration, one, struct, textString } from '../schema.js';

export const interopRequest = struct({
  interopFunction: one(Tag.InteropFunction, enumeration),
  interopIdentifier: one(Tag.InteropIdentifier, textString),
});

export const logRequest = struct({
  logMessage: one(Tag.LogMessage, textString),
});

export const emptyResponse = struct({});
