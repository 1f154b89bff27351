/**
 * Handlers that read and change attributes and find objects (KMIP 1.4 §4.9–4.15, 2.1 §6.1):
 * Locate, Get Attributes, Get Attribute List, Add/Modify/Delete Attribute (1.x), Set/Adjust
 * Attribute (2.x). One module per operation; this list is what the handler table picks up.
 */
import type { OperationHandler } from './types.js';

export const attributeOperations: readonly OperationHandler[] = [];
