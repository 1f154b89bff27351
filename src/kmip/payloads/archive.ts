/** Archive payloads (KMIP 1.4 §4.22 Tables 216–217; 2.1 §6.1.4 Tables 173–174): a Unique Identifier in, the Unique Identifier out. */
import { identifierRequest, identifierResponse } from './identifier-only.js';

export const archiveRequest = identifierRequest;
export const archiveResponse = identifierResponse;
