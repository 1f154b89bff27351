/**
 * Decrypt (KMIP 1.4 §4.30; 2.1 §6.1.11): symmetric decryption under a managed key whose Cryptographic
 * Usage Mask allows Decrypt, in a state that may process (key-use.ts). A GCM tag that does not
 * verify is Cryptographic Failure. Under a Private Key: RSA-OAEP (asymmetric-crypto.ts). The
 * plaintext is zeroed once the response is encoded. Streamed requests: stream-operation.ts.
 */
import { Enum, Mask } from '../kmip/registry.js';
import { decryptRequest, decryptResponse } from '../kmip/payloads/decrypt.js';
import { zeroAfterEncode } from './key-material.js';
import { runStream, streamPhase } from './stream-operation.js';
import { decryptWith, decryptionIv, planCipher, requireData, resolveParameters, withKey } from './symmetric-crypto.js';
import { asymmetricTarget, planRsaCipher, rsaDecrypt, withAsymmetricKey } from './asymmetric-crypto.js';
import { defineOperation } from './types.js';

export const decrypt = defineOperation({
  operation: Enum.Operation.Decrypt,
  request: decryptRequest,
  response: zeroAfterEncode(decryptResponse),
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') {
      const r = await runStream(ctx, req, 'Decrypt', phase);
      return { uniqueIdentifier: r.uniqueIdentifier, data: r.data, correlationValue: r.correlationValue, plaintexts: r.data === undefined ? [] : [r.data] };
    }
    const data = requireData(req.data);
    const asymmetric = await asymmetricTarget(ctx, req.uniqueIdentifier);
    if (asymmetric !== undefined) {
      return withAsymmetricKey(ctx, asymmetric, Enum.ObjectType.PrivateKey, Mask.CryptographicUsageMask.Decrypt, 'process', ({ key }) => {
        const plain = rsaDecrypt(planRsaCipher(resolveParameters(req.cryptographicParameters, asymmetric), key), key, data);
        ctx.idPlaceholder = asymmetric.uid;
        return { uniqueIdentifier: asymmetric.uid, data: plain, correlationValue: undefined, plaintexts: [plain] };
      });
    }
    return withKey(ctx, req.uniqueIdentifier, Mask.CryptographicUsageMask.Decrypt, 'process', ({ obj, key, algorithm }) => {
      const plan = planCipher(algorithm, key.length, resolveParameters(req.cryptographicParameters, obj));
      const iv = decryptionIv(plan, req.ivCounterNonce);
      const plain = decryptWith(plan, key, iv, data, req.authenticatedEncryptionAdditionalData, req.authenticatedEncryptionTag);
      ctx.idPlaceholder = obj.uid;
      return { uniqueIdentifier: obj.uid, data: plain, correlationValue: undefined, plaintexts: [plain] };
    });
  },
});
