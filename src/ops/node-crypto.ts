/**
 * What the operations that compute with node:crypto share: a Buffer view of request bytes (no
 * copy, so zeroing the view zeroes the original), and the one mapping of node:crypto errors to
 * KMIP Cryptographic Failure.
 */
import { KmipError } from '../kmip/errors.js';

/** A Buffer over the same memory as `b`. */
export const bufferView = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Runs a node:crypto computation; its errors (whose text may describe inputs) become a generic Cryptographic Failure. */
export function runCrypto<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof KmipError) throw err;
    throw new KmipError('CryptographicFailure', 'the cryptographic operation failed', err instanceof Error ? err.message : undefined);
  }
}
