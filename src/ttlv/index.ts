/**
 * Public API of the TTLV codec (KMIP 1.4 §9.1 "TTLV Encoding"): item types and nodes,
 * typed errors, strict decoding, canonical encoding and stream framing. No KMIP names, no I/O.
 */
export * from './types.js';
export * from './errors.js';
export { decodeTtlv, readHeader, encodedItemLength } from './decode.js';
export type { TtlvHeader } from './decode.js';
export { encodeTtlv, encodeStructureHeader } from './encode.js';
export { TtlvFramer } from './framer.js';
export type { TtlvFramerOptions } from './framer.js';
