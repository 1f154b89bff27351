/** Recover payloads (KMIP 1.4 §4.23 Tables 218–219; 2.1 §6.1.42): a Unique Identifier in, the Unique Identifier out. */
import { identifierRequest, identifierResponse } from './identifier-only.js';

export const recoverRequest = identifierRequest;
export const recoverResponse = identifierResponse;
