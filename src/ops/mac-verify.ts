/**
 * MAC Verify (KMIP 1.4 §4.34; 2.1 §6.1.31): recomputes the HMAC under a managed key whose
 * Cryptographic Usage Mask allows MAC Verify and compares it in constant time; the answer is the
 * Validity Indicator (Valid / Invalid), not a failure. Streamed: stream-operation.ts.
 */
import { Enum, Mask } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { macVerifyRequest, macVerifyResponse } from '../kmip/payloads/mac.js';
import { runMacStream, streamPhase } from './stream-operation.js';
import { hmac, hmacHash, macMatches, requireData, resolveParameters, withKey } from './symmetric-crypto.js';
import { defineOperation } from './types.js';

export const macVerify = defineOperation({
  operation: Enum.Operation.MACVerify,
  request: macVerifyRequest,
  response: macVerifyResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') {
      const r = await runMacStream(ctx, req, 'MACVerify', phase);
      const validityIndicator = r.valid === undefined ? undefined : r.valid ? Enum.ValidityIndicator.Valid : Enum.ValidityIndicator.Invalid;
      return { uniqueIdentifier: r.uniqueIdentifier, validityIndicator, correlationValue: r.correlationValue };
    }
    const data = requireData(req.data);
    const given = req.macData;
    if (given === undefined) throw new KmipError('MissingData', 'MAC Data is required');
    return withKey(ctx, req.uniqueIdentifier, Mask.CryptographicUsageMask.MACVerify, 'process', ({ obj, key, algorithm }) => {
      const hash = hmacHash(algorithm, resolveParameters(req.cryptographicParameters, obj));
      const valid = macMatches(hmac(hash, key, data), given);
      ctx.idPlaceholder = obj.uid;
      return {
        uniqueIdentifier: obj.uid,
        validityIndicator: valid ? Enum.ValidityIndicator.Valid : Enum.ValidityIndicator.Invalid,
        correlationValue: undefined,
      };
    });
  },
});
