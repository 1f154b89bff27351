/**
 * Sign (KMIP 1.4 §4.31, §11.31; 2.1 §6.1.51): a signature over Data, or over Digested Data the
 * client hashed itself, with a managed Private Key that is Active and whose Cryptographic Usage
 * Mask allows Sign. Schemes and defaults: asymmetric-crypto.ts. Streaming (Init/Final Indicator)
 * goes through signature-streams.ts.
 */
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask } from '../kmip/registry.js';
import { signRequest, signResponse } from '../kmip/payloads/sign.js';
import { planSignature, signWith, signatureParameters, withAsymmetricKey } from './asymmetric-crypto.js';
import { loadOnline } from './online-object.js';
import { runSignatureStream } from './signature-streams.js';
import { streamPhase } from './stream-operation.js';
import { defineOperation } from './types.js';

export const sign = defineOperation({
  operation: Enum.Operation.Sign,
  request: signRequest,
  response: signResponse,
  async handle(ctx, req) {
    const phase = streamPhase(req);
    if (phase !== 'single') {
      const r = await runSignatureStream(ctx, req, 'Sign', phase);
      return { uniqueIdentifier: r.uniqueIdentifier, signatureData: r.signatureData, correlationValue: r.correlationValue };
    }
    const input = signatureInput(req);
    const obj = await loadOnline(ctx, req.uniqueIdentifier);
    return withAsymmetricKey(ctx, obj, Enum.ObjectType.PrivateKey, Mask.CryptographicUsageMask.Sign, 'protect', async ({ key }) => {
      const plan = planSignature(signatureParameters(req.cryptographicParameters, obj), key, 'digest' in input);
      const signatureData = await signWith(plan, key, input, ctx.keys);
      ctx.idPlaceholder = obj.uid;
      return { uniqueIdentifier: obj.uid, signatureData, correlationValue: undefined };
    });
  },
});

/** Data or Digested Data, exactly one of them (1.4 Table 214). */
export function signatureInput(req: { data?: Uint8Array | undefined; digestedData?: Uint8Array | undefined }): { data: Uint8Array } | { digest: Uint8Array } {
  if (req.data !== undefined && req.digestedData !== undefined) throw new KmipError('InvalidField', 'give either Data or Digested Data, not both');
  if (req.digestedData !== undefined) return { digest: req.digestedData };
  if (req.data === undefined) throw new KmipError('MissingData', 'Data or Digested Data is required');
  return { data: req.data };
}
