/** RNG Retrieve payloads (KMIP 1.4 §4.35 Tables 222–223; 2.1 §6.1.44). */
import { Tag } from '../registry.js';
import { byteString, integer, one, struct } from '../schema.js';

export const rngRetrieveRequest = struct({
  dataLength: one(Tag.DataLength, integer),
});

export const rngRetrieveResponse = struct({
  data: one(Tag.Data, byteString),
});
