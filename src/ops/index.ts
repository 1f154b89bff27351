/**
 * The handler table: one module per operation, keyed by Operation value. Operations not in the
 * table answer Operation Not Supported (dispatch/executor.ts).
 */
import { discoverVersions } from './discover-versions.js';
import { createQuery, type ServerFacts } from './query.js';
import type { HandlerTable, OperationHandler } from './types.js';
import { objectOperations, supportedObjectTypes } from './object-operations.js';
import { attributeOperations } from './attribute-operations.js';

export interface HandlerTableOptions {
  vendorIdentification: string;
  serverVersion: string;
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
  for (const h of [discoverVersions, createQuery(facts), ...objectOperations, ...attributeOperations, ...extra]) table.set(h.operation, h);
  return table;
}
