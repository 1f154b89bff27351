/**
 * MAC (KMIP 1.4 §4.33; 2.1 §6.1.30): HMAC-SHA1/224/256/384/512 under a managed key that is Active
 * and whose Cryptographic Usage Mask allows MAC Generate. Streamed (Init / Final Indicator,
 * Correlation Value): stream-operation.ts.
 */
import { Enum, Mask } from '../kmip/registry.js';
import { macRequest, macResponse } from '../kmip/payloads/mac.js';
import { runMacStream, streamPhase } from './stream-operation.js';
import { hmac, hmacHash, requireData, resolveParameters, withKey } from './symmetric-crypto.js';
import { defineOperation } from './types.js';

export const mac = defineOperation({
  operation: Enum.Operation.MAC,
  request: macRequest,
  response: macResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') {
      const r = await runMacStream(ctx, req, 'MAC', phase);
      return { uniqueIdentifier: r.uniqueIdentifier, macData: r.macData, correlationValue: r.correlationValue };
    }
    const data = requireData(req.data);
    return withKey(ctx, req.uniqueIdentifier, Mask.CryptographicUsageMask.MACGenerate, 'protect', ({ obj, key, algorithm }) => {
      const hash = hmacHash(algorithm, resolveParameters(req.cryptographicParameters, obj));
      ctx.idPlaceholder = obj.uid;
      return { uniqueIdentifier: obj.uid, macData: hmac(hash, key, data), correlationValue: undefined };
    });
  },
});
