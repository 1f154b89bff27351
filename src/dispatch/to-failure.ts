/**
 * The one mapping from errors to KMIP results (STYLE.md "Errors"; KMIP 1.4 §11, 2.1 §11).
 * Nothing else turns an exception into a Result Reason. Client-facing text is generic unless
 * the error was written for clients (KmipError); details go to the log.
 */
import { Enum } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { TtlvError } from '../ttlv/errors.js';

export interface Failure {
  reason: number;
  message: string;
  /** How loudly to log it: client mistakes are info, server faults are error. */
  level: 'info' | 'warn' | 'error';
  /** Log-only explanation. */
  detail?: string;
}

/** Errors that carry a code naming an HSM failure (src/hsm/errors.ts), matched by name to keep layers apart. */
interface NamedCodedError extends Error {
  code?: unknown;
}

export function toFailure(err: unknown): Failure {
  if (err instanceof KmipError) {
    return { reason: Enum.ResultReason[err.reason], message: err.message, level: 'info', detail: err.detail };
  }
  if (err instanceof TtlvError) {
    return { reason: Enum.ResultReason.InvalidMessage, message: 'Invalid message', level: 'info', detail: err.message };
  }
  if (err instanceof Error && err.name === 'HsmError') {
    const code = String((err as NamedCodedError).code ?? 'unknown');
    return { reason: Enum.ResultReason.CryptographicFailure, message: 'Cryptographic failure', level: 'error', detail: `${code}: ${err.message}` };
  }
  if (err instanceof Error && err.name === 'StoreConflict') {
    return { reason: Enum.ResultReason.GeneralFailure, message: 'The object was changed concurrently; retry the request', level: 'warn', detail: err.message };
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { reason: Enum.ResultReason.GeneralFailure, message: 'General failure', level: 'error', detail };
}
