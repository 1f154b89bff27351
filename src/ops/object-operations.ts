/**
 * Handlers for the managed-object lifecycle (KMIP 1.4 §4.1–4.21, 2.1 §6.1): Create, Register,
 * Get, Activate, Revoke, Destroy, ReKey, Check, Archive, Recover. One module per operation;
 * this list is what the handler table picks up.
 */
import type { OperationHandler } from './types.js';

export const objectOperations: readonly OperationHandler[] = [];

/** Object Type values the server can store (reported by Query Objects). */
export const supportedObjectTypes: readonly number[] = [];
