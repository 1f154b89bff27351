/**
 * Encrypt, Decrypt, MAC and MAC Verify in pieces (KMIP 1.4 §4.29–4.30, §4.33–4.34; 2.1 §6.1.17,
 * §6.1.11, §6.1.30–6.1.31): Init Indicator true
 * starts a stream and the response carries a Correlation Value; requests with that Correlation
 * Value continue it; Final Indicator true ends it (the response then carries the remaining output
 * and, for GCM encryption, the tag, and no Correlation Value, as CS-BC-M-GCM-3 and
 * TC-STREAM-ENCDEC-1 record). A piece that yields no output, the last one included, has no Data
 * (TC-STREAM-ENC-1).
 *
 * The key is checked like a single-shot request when the stream starts and again, by its Unique
 * Identifier, on every later piece: a key revoked mid-stream stops the stream. Parameters, IV and
 * Authenticated Encryption Additional Data belong to the first piece; the tag of a GCM decryption
 * to the last. Any failure ends the stream.
 */
import type { Cipher, Decipher } from 'node:crypto';
import { KmipError } from '../kmip/errors.js';
import { Enum, Mask } from '../kmip/registry.js';
import type { CryptographicParameters } from '../kmip/payloads/encrypt.js';
import type { TtlvNode } from '../ttlv/types.js';
import { requireUse, type UsePurpose } from './key-use.js';
import { resolveUid, uidNode } from './object-lookup.js';
import { loadOnline } from './online-object.js';
import {
  continueCipher,
  hmacHash,
  macMatches,
  startHmac,
  decryptionIv,
  encryptionIv,
  finishCipher,
  ivToGenerate,
  planCipher,
  requireStreamable,
  resolveParameters,
  startCipher,
  withKey,
} from './symmetric-crypto.js';
import type { OperationContext } from './types.js';

/** Operations that accept Init / Final Indicator and Correlation Value; Query reports streaming from it. */
export const STREAMED_OPERATIONS: readonly number[] = [
  Enum.Operation.Encrypt,
  Enum.Operation.Decrypt,
  Enum.Operation.MAC,
  Enum.Operation.MACVerify,
  Enum.Operation.Sign,
  Enum.Operation.SignatureVerify,
];

export type StreamPhase = 'single' | 'init' | 'continue';

interface StreamFields {
  uniqueIdentifier?: TtlvNode | undefined;
  cryptographicParameters?: CryptographicParameters | undefined;
  data?: Uint8Array | undefined;
  ivCounterNonce?: Uint8Array | undefined;
  correlationValue?: Uint8Array | undefined;
  initIndicator?: boolean | undefined;
  finalIndicator?: boolean | undefined;
  authenticatedEncryptionAdditionalData?: Uint8Array | undefined;
  authenticatedEncryptionTag?: Uint8Array | undefined;
}

/** Which kind of request this is; contradictory indicators are Invalid Field. */
export function streamPhase(req: StreamFields): StreamPhase {
  if (req.correlationValue !== undefined) {
    if (req.initIndicator === true) throw new KmipError('InvalidField', 'Init Indicator starts a stream; a Correlation Value continues one: not both');
    return 'continue';
  }
  if (req.initIndicator === true) return req.finalIndicator === true ? 'single' : 'init';
  if (req.initIndicator === false || req.finalIndicator === false) {
    throw new KmipError('InvalidField', 'a piece of a streamed operation needs the Correlation Value the first piece returned');
  }
  return 'single';
}

export interface StreamResult {
  uniqueIdentifier: string;
  data: Buffer | undefined;
  ivCounterNonce: Buffer | undefined;
  correlationValue: Uint8Array | undefined;
  authenticatedEncryptionTag: Buffer | undefined;
}

type Operation = 'Encrypt' | 'Decrypt';

const USE: Record<Operation, { usage: number; purpose: UsePurpose; direction: 'encrypt' | 'decrypt' }> = {
  Encrypt: { usage: Mask.CryptographicUsageMask.Encrypt, purpose: 'protect', direction: 'encrypt' },
  Decrypt: { usage: Mask.CryptographicUsageMask.Decrypt, purpose: 'process', direction: 'decrypt' },
};

const owner = (ctx: OperationContext): string => ctx.principal.fingerprint;
const nonEmpty = (b: Buffer): Buffer | undefined => (b.length > 0 ? b : undefined);

/** The first piece: checks and reveals the key, makes the context, registers the stream. */
export async function startStream(ctx: OperationContext, req: StreamFields, operation: Operation): Promise<StreamResult> {
  const use = USE[operation];
  ctx.streams.admit(owner(ctx));
  if (req.authenticatedEncryptionTag !== undefined) throw new KmipError('InvalidField', 'the Authenticated Encryption Tag belongs to the last piece');
  return withKey(ctx, req.uniqueIdentifier, use.usage, use.purpose, async ({ obj, key, algorithm }) => {
    const plan = planCipher(algorithm, key.length, resolveParameters(req.cryptographicParameters, obj));
    requireStreamable(plan);
    let iv: Buffer | null;
    let returned = false;
    if (use.direction === 'encrypt') {
      const n = ivToGenerate(plan, req.ivCounterNonce);
      ({ iv, returned } = encryptionIv(plan, req.ivCounterNonce, n > 0 ? await ctx.keys.random(n) : undefined));
    } else {
      iv = decryptionIv(plan, req.ivCounterNonce);
    }
    const context = startCipher(plan, key, iv, req.authenticatedEncryptionAdditionalData, use.direction);
    const out = continueCipher(context, req.data);
    const correlation = await ctx.keys.random(16);
    ctx.streams.open(correlation, { owner: owner(ctx), operation, uid: obj.uid, usage: use.usage, context, tagLength: plan.tagLength });
    ctx.idPlaceholder = obj.uid;
    return {
      uniqueIdentifier: obj.uid,
      data: nonEmpty(out),
      ivCounterNonce: returned && iv !== null ? iv : undefined,
      correlationValue: correlation,
      authenticatedEncryptionTag: undefined,
    };
  });
}

/** A later piece, or the last one (Final Indicator). */
export async function continueStream(ctx: OperationContext, req: StreamFields, operation: Operation): Promise<StreamResult> {
  const correlation = req.correlationValue!;
  const stream = ctx.streams.take(owner(ctx), correlation, operation);
  try {
    if (req.uniqueIdentifier !== undefined && resolveUid(ctx, req.uniqueIdentifier) !== stream.uid) {
      throw new KmipError('InvalidField', 'the Unique Identifier is not the key this stream started with');
    }
    if (req.ivCounterNonce !== undefined || req.authenticatedEncryptionAdditionalData !== undefined) {
      throw new KmipError('InvalidField', 'the IV/Counter/Nonce and Additional Data belong to the first piece of a stream');
    }
    const obj = await loadOnline(ctx, uidNode(stream.uid));
    requireUse(ctx.version, obj, stream.usage, USE[operation].purpose, ctx.now());
    ctx.idPlaceholder = stream.uid;
    const context = stream.context;
    if (!('final' in context)) throw new Error('an Encrypt/Decrypt stream holds an HMAC context');
    const out = continueCipher(context, req.data);
    if (req.finalIndicator !== true) {
      if (req.authenticatedEncryptionTag !== undefined) throw new KmipError('InvalidField', 'the Authenticated Encryption Tag belongs to the last piece');
      return { uniqueIdentifier: stream.uid, data: nonEmpty(out), ivCounterNonce: undefined, correlationValue: correlation, authenticatedEncryptionTag: undefined };
    }
    const gcm = stream.tagLength !== undefined;
    const last = finishCipher(context, gcm, USE[operation].direction, req.authenticatedEncryptionTag);
    ctx.streams.close(correlation);
    const data = Buffer.concat([out, last.data]);
    out.fill(0);
    last.data.fill(0);
    return { uniqueIdentifier: stream.uid, data: nonEmpty(data), ivCounterNonce: undefined, correlationValue: undefined, authenticatedEncryptionTag: last.tag };
  } catch (err) {
    ctx.streams.close(correlation);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// MAC and MAC Verify (1.4 §4.33–4.34; TC-STREAM-MAC-1-14): the same pieces over an HMAC context.
// MAC Verify takes the MAC Data with the first or the last piece.

type MacOperation = 'MAC' | 'MACVerify';

interface MacStreamFields extends StreamFields {
  macData?: Uint8Array | undefined;
}

export interface MacStreamResult {
  uniqueIdentifier: string;
  correlationValue: Uint8Array | undefined;
  /** MAC, last piece. */
  macData: Buffer | undefined;
  /** MAC Verify, last piece. */
  valid: boolean | undefined;
}

const MAC_USE: Record<MacOperation, { usage: number; purpose: UsePurpose }> = {
  MAC: { usage: Mask.CryptographicUsageMask.MACGenerate, purpose: 'protect' },
  MACVerify: { usage: Mask.CryptographicUsageMask.MACVerify, purpose: 'process' },
};

export async function runMacStream(ctx: OperationContext, req: MacStreamFields, operation: MacOperation, phase: Exclude<StreamPhase, 'single'>): Promise<MacStreamResult> {
  const use = MAC_USE[operation];
  if (phase === 'init') {
    ctx.streams.admit(owner(ctx));
    return withKey(ctx, req.uniqueIdentifier, use.usage, use.purpose, async ({ obj, key, algorithm }) => {
      const context = startHmac(hmacHash(algorithm, resolveParameters(req.cryptographicParameters, obj)), key);
      if (req.data !== undefined) context.update(req.data);
      const correlation = await ctx.keys.random(16);
      const expectedMac = operation === 'MACVerify' && req.macData !== undefined ? Uint8Array.from(req.macData) : undefined;
      ctx.streams.open(correlation, { owner: owner(ctx), operation, uid: obj.uid, usage: use.usage, context, tagLength: undefined, expectedMac });
      ctx.idPlaceholder = obj.uid;
      return { uniqueIdentifier: obj.uid, correlationValue: correlation, macData: undefined, valid: undefined };
    });
  }
  const correlation = req.correlationValue!;
  const stream = ctx.streams.take(owner(ctx), correlation, operation);
  try {
    if (req.uniqueIdentifier !== undefined && resolveUid(ctx, req.uniqueIdentifier) !== stream.uid) {
      throw new KmipError('InvalidField', 'the Unique Identifier is not the key this stream started with');
    }
    const obj = await loadOnline(ctx, uidNode(stream.uid));
    requireUse(ctx.version, obj, stream.usage, use.purpose, ctx.now());
    ctx.idPlaceholder = stream.uid;
    const context = stream.context;
    if ('final' in context) throw new Error('a MAC stream holds a cipher context');
    if (req.data !== undefined) context.update(req.data);
    if (req.finalIndicator !== true) return { uniqueIdentifier: stream.uid, correlationValue: correlation, macData: undefined, valid: undefined };
    const mac = context.digest();
    ctx.streams.close(correlation);
    if (operation === 'MAC') return { uniqueIdentifier: stream.uid, correlationValue: undefined, macData: mac, valid: undefined };
    const expected = req.macData ?? stream.expectedMac;
    if (expected === undefined) throw new KmipError('MissingData', 'MAC Data is required, with the first or the last piece');
    return { uniqueIdentifier: stream.uid, correlationValue: undefined, macData: undefined, valid: macMatches(mac, expected) };
  } catch (err) {
    ctx.streams.close(correlation);
    throw err;
  }
}

/** The streamed path of Encrypt or Decrypt, for phases other than 'single'. */
export function runStream(ctx: OperationContext, req: StreamFields, operation: Operation, phase: Exclude<StreamPhase, 'single'>): Promise<StreamResult> {
  return phase === 'init' ? startStream(ctx, req, operation) : continueStream(ctx, req, operation);
}
