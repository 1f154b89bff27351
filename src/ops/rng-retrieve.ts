/**
 * RNG Retrieve (KMIP 1.4 §4.35; 2.1 §6.1.44): Data Length random bytes from the HSM's generator.
 * At most MAX_RNG_BYTES per request; a non-positive or larger length is Invalid Field.
 */
import { Enum } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { rngRetrieveRequest, rngRetrieveResponse } from '../kmip/payloads/rng.js';
import { defineOperation } from './types.js';

export const MAX_RNG_BYTES = 64 * 1024;

export const rngRetrieve = defineOperation({
  operation: Enum.Operation.RNGRetrieve,
  request: rngRetrieveRequest,
  response: rngRetrieveResponse,
  async handle(ctx, req) {
    if (req.dataLength <= 0 || req.dataLength > MAX_RNG_BYTES) {
      throw new KmipError('InvalidField', `Data Length must be between 1 and ${MAX_RNG_BYTES} bytes`);
    }
    return { data: await ctx.keys.random(req.dataLength) };
  },
});
