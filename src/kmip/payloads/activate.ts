/** Activate payloads (KMIP 1.4 §4.19 Tables 210–211; 2.1 §6.1.1 Tables 164–165): a Unique Identifier in, the Unique Identifier out. */
import { identifierRequest, identifierResponse } from './identifier-only.js';

export const activateRequest = identifierRequest;
export const activateResponse = identifierResponse;
