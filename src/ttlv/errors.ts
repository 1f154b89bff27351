/**
 * Typed TTLV decoding errors. Every violation of the encoding rules (KMIP 1.4 §9.1.1)
 * becomes a TtlvError with a stable code and the byte offset where it was found.
 * The message layer turns these into Invalid Message; the code and offset go to the log only.
 */

export const TtlvErrorCode = {
  /** Fewer bytes than a header or the declared value length needs. */
  Truncated: 'Truncated',
  /** A fixed-size type with the wrong length, or a Big Integer whose length is not a multiple of 8. */
  BadLength: 'BadLength',
  /** A child item runs past the end of its parent Structure. */
  LengthExceedsParent: 'LengthExceedsParent',
  /** Padding bytes are not zero. */
  NonZeroPadding: 'NonZeroPadding',
  /** The type byte is not a known item type. */
  UnknownType: 'UnknownType',
  /** Structures nested deeper than the configured maximum. */
  TooDeep: 'TooDeep',
  /** The message is larger than the configured maximum. */
  TooLarge: 'TooLarge',
  /** A Text String that is not valid UTF-8. */
  InvalidUtf8: 'InvalidUtf8',
  /** A Boolean whose value is neither 0 nor 1. */
  InvalidBoolean: 'InvalidBoolean',
  /** Bytes left after the top-level item. */
  TrailingBytes: 'TrailingBytes',
  /** A value that cannot be encoded (encoder side: out of range, wrong JS type). */
  InvalidValue: 'InvalidValue',
  /** The top-level item is not what the caller required (e.g. not a Structure). */
  UnexpectedType: 'UnexpectedType',
} as const;

export type TtlvErrorCode = (typeof TtlvErrorCode)[keyof typeof TtlvErrorCode];

export class TtlvError extends Error {
  override readonly name = 'TtlvError';
  constructor(
    readonly code: TtlvErrorCode,
    readonly offset: number,
    detail?: string,
  ) {
    super(`${code} at offset ${offset}${detail ? `: ${detail}` : ''}`);
  }
}
