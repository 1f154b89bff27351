/**
 * Encrypt (KMIP 1.4 §4.29; 2.1 §6.1.17): symmetric encryption under a managed key that is Active
 * and whose Cryptographic Usage Mask allows Encrypt. When the mode needs an IV and the request has
 * none, the HSM's generator supplies one and the response returns it (IV/Counter/Nonce). Cipher
 * selection, padding and IV rules: symmetric-crypto.ts. Streamed requests (Init / Final Indicator,
 * Correlation Value): stream-operation.ts. Under a Public Key: RSA-OAEP (asymmetric-crypto.ts).
 */
import { Enum, Mask } from '../kmip/registry.js';
import { encryptRequest, encryptResponse, type CryptographicParameters } from '../kmip/payloads/encrypt.js';
import { runStream, streamPhase } from './stream-operation.js';
import { encryptWith, encryptionIv, ivToGenerate, planCipher, requireData, resolveParameters, withKey } from './symmetric-crypto.js';
import { asymmetricTarget, planRsaCipher, rsaEncrypt, withAsymmetricKey } from './asymmetric-crypto.js';
import type { StoredObject } from '../store/types.js';
import { defineOperation, type OperationContext } from './types.js';

export const encrypt = defineOperation({
  operation: Enum.Operation.Encrypt,
  request: encryptRequest,
  response: encryptResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') return runStream(ctx, req, 'Encrypt', phase);
    const data = requireData(req.data);
    const asymmetric = await asymmetricTarget(ctx, req.uniqueIdentifier);
    if (asymmetric !== undefined) return rsaEncryptWith(ctx, asymmetric, req, data);
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

async function rsaEncryptWith(ctx: OperationContext, obj: StoredObject, req: { cryptographicParameters?: CryptographicParameters | undefined }, data: Uint8Array) {
  return withAsymmetricKey(ctx, obj, Enum.ObjectType.PublicKey, Mask.CryptographicUsageMask.Encrypt, 'protect', ({ key }) => {
    const out = rsaEncrypt(planRsaCipher(resolveParameters(req.cryptographicParameters, obj), key), key, data);
    ctx.idPlaceholder = obj.uid;
    return { uniqueIdentifier: obj.uid, data: out, ivCounterNonce: undefined, correlationValue: undefined, authenticatedEncryptionTag: undefined };
  });
}
