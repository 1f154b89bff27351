/**
 * Sign and Signature Verify in pieces (KMIP 1.4 §4.31–4.32 Init Indicator, Final Indicator,
 * Correlation Value; 2.1 §6.1.51–6.1.52), on the stream table of crypto-streams.ts.
 *
 * A stream holds only the running hash of the data, nothing secret: the key is checked (state,
 * usage mask, object type) when the stream starts and again on every piece, and the private key
 * is revealed only on the last piece, which signs (or verifies) the finished digest exactly as
 * Digested Data is (asymmetric-crypto.ts). Parameters belong to the first piece, and so does the
 * Signature Data of a verification (TC-STREAM-SIGNVFY-1-14 sends it there). A scheme that signs
 * without a hash (raw PKCS#1 over a digest) cannot be streamed.
 */
import { createHash, type Hash } from 'node:crypto';
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask } from '../kmip/registry.js';
import type { CryptographicParameters } from '../kmip/payloads/encrypt.js';
import type { TtlvNode } from '../ttlv/types.js';
import { hashName, isMismatch, planSignature, signWith, signatureParameters, verifyWith, withAsymmetricKey, type SignaturePlan } from './asymmetric-crypto.js';
import { requireUse } from './key-use.js';
import { resolveUid, uidNode } from './object-lookup.js';
import { loadOnline } from './online-object.js';
import type { StreamPhase } from './stream-operation.js';
import type { OperationContext } from './types.js';

type Operation = 'Sign' | 'SignatureVerify';

interface SignatureStreamFields {
  uniqueIdentifier?: TtlvNode | undefined;
  cryptographicParameters?: CryptographicParameters | undefined;
  data?: Uint8Array | undefined;
  digestedData?: Uint8Array | undefined;
  signatureData?: Uint8Array | undefined;
  correlationValue?: Uint8Array | undefined;
  finalIndicator?: boolean | undefined;
}

export interface SignatureStreamResult {
  uniqueIdentifier: string;
  correlationValue: Uint8Array | undefined;
  /** Sign, last piece. */
  signatureData?: Buffer;
  /** Signature Verify, last piece. */
  validityIndicator?: number;
}

const USE: Record<Operation, { objectType: number; usage: number; purpose: 'protect' | 'process' }> = {
  Sign: { objectType: Enum.ObjectType.PrivateKey, usage: Mask.CryptographicUsageMask.Sign, purpose: 'protect' },
  SignatureVerify: { objectType: Enum.ObjectType.PublicKey, usage: Mask.CryptographicUsageMask.Verify, purpose: 'process' },
};

/** What a stream needs beyond the table's entry, keyed by its hash context (whose identity the table keeps). */
const pending = new WeakMap<Hash, { plan: SignaturePlan; signature: Uint8Array | undefined; mismatch: boolean }>();

const owner = (ctx: OperationContext): string => ctx.principal.fingerprint;

async function start(ctx: OperationContext, req: SignatureStreamFields, operation: Operation): Promise<SignatureStreamResult> {
  const use = USE[operation];
  if (req.digestedData !== undefined) throw new KmipError('InvalidField', 'Digested Data is one whole digest: it cannot be streamed');
  if (operation === 'Sign' && req.signatureData !== undefined) throw new KmipError('InvalidField', 'Sign takes no Signature Data');
  ctx.streams.admit(owner(ctx));
  const obj = await loadOnline(ctx, req.uniqueIdentifier);
  return withAsymmetricKey(ctx, obj, use.objectType, use.usage, use.purpose, async ({ key }) => {
    let plan: SignaturePlan | undefined;
    let mismatch = false;
    try {
      plan = planSignature(signatureParameters(req.cryptographicParameters, obj), key, false);
    } catch (e) {
      // As single-shot: parameters that cannot describe this key's signature verify as Invalid.
      if (operation !== 'SignatureVerify' || !isMismatch(e)) throw e;
      mismatch = true;
    }
    const hash = createHash(plan === undefined ? 'sha256' : hashName(plan));
    if (req.data !== undefined) hash.update(req.data);
    pending.set(hash, { plan: plan ?? { scheme: 'pkcs1', hash: undefined, saltLength: undefined }, signature: req.signatureData, mismatch });
    const correlation = await ctx.keys.random(16);
    ctx.streams.open(correlation, { owner: owner(ctx), operation, uid: obj.uid, usage: use.usage, context: hash, tagLength: undefined });
    ctx.idPlaceholder = obj.uid;
    return { uniqueIdentifier: obj.uid, correlationValue: correlation };
  });
}

async function next(ctx: OperationContext, req: SignatureStreamFields, operation: Operation): Promise<SignatureStreamResult> {
  const use = USE[operation];
  const correlation = req.correlationValue!;
  const stream = ctx.streams.take(owner(ctx), correlation, operation);
  try {
    if (req.uniqueIdentifier !== undefined && resolveUid(ctx, req.uniqueIdentifier) !== stream.uid) {
      throw new KmipError('InvalidField', 'the Unique Identifier is not the key this stream started with');
    }
    if (req.cryptographicParameters !== undefined || req.digestedData !== undefined) {
      throw new KmipError('InvalidField', 'Cryptographic Parameters belong to the first piece of a stream, and Digested Data cannot be streamed');
    }
    const hash = stream.context as Hash;
    const state = pending.get(hash);
    if (state === undefined) throw new Error('signature stream without its plan');
    if (req.signatureData !== undefined) {
      if (operation === 'Sign' || state.signature !== undefined) throw new KmipError('InvalidField', 'the Signature Data is given once, in a Signature Verify stream');
      state.signature = req.signatureData;
    }
    const obj = await loadOnline(ctx, uidNode(stream.uid));
    requireUse(ctx.version, obj, use.usage, use.purpose, ctx.now());
    ctx.idPlaceholder = stream.uid;
    if (req.data !== undefined) hash.update(req.data);
    if (req.finalIndicator !== true) return { uniqueIdentifier: stream.uid, correlationValue: correlation };

    // Digest before closing: closing finalises whatever context the stream still holds.
    const digest = hash.digest();
    ctx.streams.close(correlation);
    if (operation === 'Sign') {
      const signatureData = await withAsymmetricKey(ctx, obj, use.objectType, use.usage, use.purpose, ({ key }) => signWith(state.plan, key, { digest }, ctx.keys));
      return { uniqueIdentifier: stream.uid, correlationValue: undefined, signatureData };
    }
    if (state.signature === undefined) throw new KmipError('MissingData', 'Signature Data is required');
    const signature = state.signature;
    const valid =
      !state.mismatch &&
      (await withAsymmetricKey(ctx, obj, use.objectType, use.usage, use.purpose, ({ key }) => verifyWith(state.plan, key, { digest }, signature, ctx.keys)));
    return { uniqueIdentifier: stream.uid, correlationValue: undefined, validityIndicator: valid ? Enum.ValidityIndicator.Valid : Enum.ValidityIndicator.Invalid };
  } catch (err) {
    ctx.streams.close(correlation);
    throw err;
  }
}

/** The streamed path of Sign or Signature Verify, for phases other than 'single'. */
export function runSignatureStream(ctx: OperationContext, req: SignatureStreamFields, operation: Operation, phase: Exclude<StreamPhase, 'single'>): Promise<SignatureStreamResult> {
  return phase === 'init' ? start(ctx, req, operation) : next(ctx, req, operation);
}
