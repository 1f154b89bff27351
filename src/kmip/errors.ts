/**
 * The one error type that carries a KMIP Result Reason (KMIP 1.4 §11, KMIP 2.1 §11 "Error Handling").
 * Raised by the schema layer and by operation handlers; turned into a response only by
 * dispatch/to-failure.ts. `message` is written for clients; `detail` goes to the log only.
 */
import type { Enum } from './registry.js';

export type ResultReasonName = keyof typeof Enum.ResultReason;

export class KmipError extends Error {
  override readonly name = 'KmipError';
  constructor(
    readonly reason: ResultReasonName,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export const invalidMessage = (message: string, detail?: string) => new KmipError('InvalidMessage', message, detail);
export const invalidField = (message: string, detail?: string) => new KmipError('InvalidField', message, detail);
export const missingData = (message: string, detail?: string) => new KmipError('MissingData', message, detail);
