/** Discover Versions payloads (KMIP 1.4 §4.26 Tables 224–225; 2.1 §6.1.20). */
import { Tag } from '../registry.js';
import { protocolVersion } from '../messages.js';
import { many, struct } from '../schema.js';

export const discoverVersionsRequest = struct({
  versions: many(Tag.ProtocolVersion, protocolVersion),
});

export const discoverVersionsResponse = struct({
  versions: many(Tag.ProtocolVersion, protocolVersion),
});
