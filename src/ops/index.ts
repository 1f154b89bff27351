/**
 * The handler table: one module per operation, keyed by Operation value. Operations not in the
 * table answer Operation Not Supported (dispatch/executor.ts).
 */
import { discoverVersions } from './discover-versions.js';
import { createQuery, type ServerFacts } from './query.js';
import { interop } from './interop.js';
import { log } from './log.js';
import type { HandlerTable, OperationHandler } from './types.js';
import { objectOperations, supportedObjectTypes } from './object-operations.js';
import { attributeOperations } from './attribute-operations.js';

export interface HandlerTableOptions {
  vendorIdentification: string;
  serverVersion: string;
  /** Include the Interop operation (test deployments only: KMIP 2.1 §6.1.26). */
  interop?: boolean;
}

/** Builds the table; `extra` handlers (later operations, or test doubles) join the built-in ones. */
export function createHandlerTable(options: HandlerTableOptions, extra: readonly OperationHandler[] = []): HandlerTable {
  const table = new Map<number, OperationHandler>();
  const facts: ServerFacts = {
    vendorIdentification: options.vendorIdentification,
    serverVersion: options.serverVersion,
    operations: () => [...table.keys()],
    objectTypes: () => [...supportedObjectTypes],
  };
  const builtIn = [discoverVersions, createQuery(facts), log, ...(options.interop ? [interop] : []), ...objectOperations, ...attributeOperations];
  for (const h of [...builtIn, ...extra]) table.set(h.operation, h);
  return table;
}
