/**
 * Streamed Encrypt and Decrypt (KMIP 1.4 §4.29–4.30 Init Indicator, Final Indicator, Correlation
 * Value; 2.1 §6.1.17, §6.1.11): the cipher contexts of operations in progress, between requests.
 *
 * One table per server (the executor owns it and hands it to handlers through OperationContext),
 * entries owned by the principal that started them: a Correlation Value presented by another
 * principal is unknown to it. The Correlation Value is 16 random bytes from the HSM, opaque to the
 * client. The table is bounded: at most `maxPerPrincipal` streams per principal and `maxTotal`
 * overall (a new stream beyond either is refused with a clear message, never evicting another
 * client's work), and a stream idle longer than `idleMs` is dropped. Expiry is checked whenever the
 * table is used, so no timer keeps the process alive.
 *
 * What a stream holds: the node:crypto cipher or HMAC context (OpenSSL's key schedule inside it)
 * and nothing else secret; the revealed key bytes are zeroed as soon as the context is made. A dropped
 * or finished context is finalised so OpenSSL's buffers are released; the key schedule itself is
 * freed with the context by the garbage collector, which node offers no way to hasten.
 */
import { KmipError } from '../kmip/errors.js';
import type { Cipher, Decipher, Hash, Hmac } from 'node:crypto';

export interface StreamLimits {
  maxPerPrincipal: number;
  maxTotal: number;
  idleMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxPerPrincipal: 32, maxTotal: 1024, idleMs: 5 * 60_000 };

/** A cipher context (Encrypt, Decrypt) or an HMAC context (MAC, MAC Verify). */
export type StreamContext = Cipher | Decipher | Hmac | Hash;

export interface CryptoStream {
  readonly owner: string;
  readonly operation: 'Encrypt' | 'Decrypt' | 'MAC' | 'MACVerify' | 'Sign' | 'SignatureVerify';
  /** The key's Unique Identifier: a continuation naming another key is refused. */
  readonly uid: string;
  /** Key usage is checked again on every chunk (the key may have been revoked meanwhile). */
  readonly usage: number;
  /** A cipher or HMAC context, or for Sign / Signature Verify the running hash of the data (signature-streams.ts). */
  readonly context: StreamContext;
  /** GCM: the tag length to produce or expect. */
  readonly tagLength: number | undefined;
  /** MAC Verify: the MAC Data given with the first piece, if any (a copy). */
  readonly expectedMac?: Uint8Array | undefined;
  lastUsed: number;
}

export class CryptoStreams {
  readonly #streams = new Map<string, CryptoStream>();
  readonly #limits: StreamLimits;
  readonly #clock: () => number;

  constructor(limits: Partial<StreamLimits> = {}, clock: () => number = Date.now) {
    this.#limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
    this.#clock = clock;
  }

  /** Streams in progress (after dropping expired ones). */
  get size(): number {
    this.#sweep();
    return this.#streams.size;
  }

  /** Refuses a new stream for `owner` when a limit is reached. Call before making the context. */
  admit(owner: string): void {
    this.#sweep();
    if (this.#streams.size >= this.#limits.maxTotal) {
      throw new KmipError('IllegalOperation', 'too many streamed cryptographic operations are in progress on this server; finish or abandon some');
    }
    let mine = 0;
    for (const s of this.#streams.values()) if (s.owner === owner) mine++;
    if (mine >= this.#limits.maxPerPrincipal) {
      throw new KmipError('IllegalOperation', `this client already has ${mine} streamed operations in progress, the most allowed; finish one first`);
    }
  }

  /** Registers a stream under its Correlation Value. */
  open(correlation: Uint8Array, stream: Omit<CryptoStream, 'lastUsed'>): void {
    this.admit(stream.owner);
    this.#streams.set(key(correlation), { ...stream, lastUsed: this.#clock() });
  }

  /** The stream `owner` continues, or Invalid Field when it is unknown, expired or another's. */
  take(owner: string, correlation: Uint8Array, operation: CryptoStream['operation']): CryptoStream {
    this.#sweep();
    const s = this.#streams.get(key(correlation));
    if (s === undefined || s.owner !== owner || s.operation !== operation) {
      throw new KmipError('InvalidField', `the Correlation Value names no ${operation} in progress for this client (unknown, finished or expired)`);
    }
    s.lastUsed = this.#clock();
    return s;
  }

  /** Ends a stream (finished or failed). */
  close(correlation: Uint8Array): void {
    const k = key(correlation);
    const s = this.#streams.get(k);
    this.#streams.delete(k);
    if (s !== undefined) release(s);
  }

  #sweep(): void {
    const oldest = this.#clock() - this.#limits.idleMs;
    for (const [k, s] of this.#streams) {
      if (s.lastUsed < oldest) {
        this.#streams.delete(k);
        release(s);
      }
    }
  }
}

const key = (correlation: Uint8Array): string => Buffer.from(correlation.buffer, correlation.byteOffset, correlation.byteLength).toString('hex');

/** Finalises an abandoned context so OpenSSL clears its buffered input; output is discarded and zeroed. */
function release(s: CryptoStream): void {
  try {
    const c = s.context;
    ('final' in c ? c.final() : c.digest()).fill(0);
  } catch {
    // An unfinished GCM decrypt or misaligned input fails to finalise: nothing to keep either way.
  }
}
