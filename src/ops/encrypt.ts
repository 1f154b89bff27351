/**
 * Encrypt (KMIP 1.4 §4.29; 2.1 §6.1.17): symmetric encryption under a managed key that is Active
 * and whose Cryptographic Usage Mask allows Encrypt. When the mode needs an IV and the request has
 * none, the HSM's generator supplies one and the response returns it (IV/Counter/Nonce). Cipher
 * selection, padding and IV rules: symmetric-crypto.ts. Streamed requests (Init / Final Indicator,
 * Correlation Value): stream-operation.ts.
 */
import { Enum, Mask } from '../kmip/registry.js';
import { encryptRequest, encryptResponse } from '../kmip/payloads/encrypt.js';
import { runStream, streamPhase } from './stream-operation.js';
import { encryptWith, encryptionIv, ivToGenerate, planCipher, requireData, resolveParameters, withKey } from './symmetric-crypto.js';
import { defineOperation } from './types.js';

export const encrypt = defineOperation({
  operation: Enum.Operation.Encrypt,
  request: encryptRequest,
  response: encryptResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') return runStream(ctx, req, 'Encrypt', phase);
    const data = requireData(req.data);
    return withKey(ctx, req.uniqueIdentifier, Mask.CryptographicUsageMask.Encrypt, 'protect', async ({ obj, key, algorithm }) => {
      const plan = planCipher(algorithm, key.length, resolveParameters(req.cryptographicParameters, obj));
      const n = ivToGenerate(plan, req.ivCounterNonce);
      const random = n > 0 ? await ctx.keys.random(n) : undefined;
      const { iv, returned } = encryptionIv(plan, req.ivCounterNonce, random);
      const out = encryptWith(plan, key, iv, data, req.authenticatedEncryptionAdditionalData);
      ctx.idPlaceholder = obj.uid;
      return {
        uniqueIdentifier: obj.uid,
        data: out.data,
        ivCounterNonce: returned && iv !== null ? iv : undefined,
        correlationValue: undefined,
        authenticatedEncryptionTag: out.tag,
      };
    });
  },
});
