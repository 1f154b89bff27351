/**
 * The payload shape shared by operations that name one object and answer with its identifier:
 * Activate, Destroy, Archive, Recover (KMIP 1.4 §4.19, §4.21–4.23 Tables 210–211, 214–219;
 * 2.1 §6.1.1, §6.1.4, §6.1.15, §6.1.42). The request's Unique Identifier is kept as a node:
 * 2.x also allows the Unique Identifier enumeration (2.1 §11.58) in its place.
 */
import { Tag } from '../registry.js';
import { anyNode, one, optional, struct, textString } from '../schema.js';

export const identifierRequest = struct({
  uniqueIdentifier: optional(Tag.UniqueIdentifier, anyNode),
});

export const identifierResponse = struct({
  uniqueIdentifier: one(Tag.UniqueIdentifier, textString),
});
