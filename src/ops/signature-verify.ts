/**
 * Signature Verify (KMIP 1.4 §4.32, §11.32; 2.1 §6.1.52): checks a signature over Data or
 * Digested Data with a managed Public Key whose Cryptographic Usage Mask allows Verify, in a state
 * that may process (key-use.ts). The answer is the Validity Indicator: Valid, or Invalid for a
 * signature that does not verify or parameters that cannot describe one by this key. Streamed
 * requests: signature-streams.ts.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask } from '../kmip/registry.js';
import { signatureVerifyRequest, signatureVerifyResponse } from '../kmip/payloads/sign.js';
import { isMismatch, planSignature, signatureParameters, verifyWith, withAsymmetricKey } from './asymmetric-crypto.js';
import { loadOnline } from './online-object.js';
import { signatureInput } from './sign.js';
import { runSignatureStream } from './signature-streams.js';
import { streamPhase } from './stream-operation.js';
import { defineOperation } from './types.js';

const VI = Enum.ValidityIndicator;

export const signatureVerify = defineOperation({
  operation: Enum.Operation.SignatureVerify,
  request: signatureVerifyRequest,
  response: signatureVerifyResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') {
      const r = await runSignatureStream(ctx, req, 'SignatureVerify', phase);
      return { uniqueIdentifier: r.uniqueIdentifier, validityIndicator: r.validityIndicator, data: undefined, correlationValue: r.correlationValue };
    }
    const input = signatureInput(req);
    const signature = req.signatureData;
    if (signature === undefined) throw new KmipError('MissingData', 'Signature Data is required');
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    return withAsymmetricKey(ctx, obj, Enum.ObjectType.PublicKey, Mask.CryptographicUsageMask.Verify, 'process', async ({ key }) => {
      let valid: boolean;
      try {
        const plan = planSignature(signatureParameters(req.cryptographicParameters, obj), key, 'digest' in input);
        valid = await verifyWith(plan, key, input, signature, ctx.keys);
      } catch (e) {
        if (!isMismatch(e)) throw e;
        valid = false;
      }
      ctx.idPlaceholder = obj.uid;
      return { uniqueIdentifier: obj.uid, validityIndicator: valid ? VI.Valid : VI.Invalid, data: undefined, correlationValue: undefined };
    });
  },
});
