/**
 * Handlers that read and change attributes and find objects (KMIP 1.4 §4.9–4.15, 2.1 §6.1):
 * Locate, Get Attributes, Get Attribute List, Add/Modify/Delete Attribute (1.x and 2.x forms),
 * Set/Adjust Attribute (2.x). One module per operation; this list is what the handler table picks up.
 */
import { addAttribute } from './add-attribute.js';
import { adjustAttribute } from './adjust-attribute.js';
import { deleteAttribute } from './delete-attribute.js';
import { getAttributeList } from './get-attribute-list.js';
import { getAttributes } from './get-attributes.js';
import { locate } from './locate.js';
import { modifyAttribute } from './modify-attribute.js';
import { setAttribute } from './set-attribute.js';
import type { OperationHandler } from './types.js';

export const attributeOperations: readonly OperationHandler[] = [
  locate,
  getAttributes,
  getAttributeList,
  addAttribute,
  modifyAttribute,
  deleteAttribute,
  setAttribute,
  adjustAttribute,
];
