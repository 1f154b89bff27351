/** Destroy payloads (KMIP 1.4 §4.21 Tables 214–215; 2.1 §6.1.15 Tables 208–209): a Unique Identifier in, the Unique Identifier out. */
import { identifierRequest, identifierResponse } from './identifier-only.js';

export const destroyRequest = identifierRequest;
export const destroyResponse = identifierResponse;
