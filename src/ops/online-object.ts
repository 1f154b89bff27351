/**
 * The object an operation acts on, on-line (KMIP 1.4 §4 introduction: "any archived object SHALL
 * first be made available by a Recover operation"; §4.21: a destroyed Template is gone with all
 * its meta-data). Builds on object-lookup.ts (ID Placeholder, the version's not-found reason).
 */
import type { TtlvNode } from '../ttlv/types.js';
import { Enum } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { atLeast } from '../kmip/version.js';
import type { StoredObject } from '../store/types.js';
import { loadObject, objectNotFound, resolveUid } from './object-lookup.js';
import { isArchived } from './object-attributes.js';
import type { OperationContext } from './types.js';

export interface LoadOptions {
  /** Recover reaches archived objects; everything else is refused them. */
  archived?: 'allow' | 'refuse';
}

export async function loadOnline(ctx: OperationContext, given: TtlvNode | undefined, options: LoadOptions = {}): Promise<StoredObject> {
  const uid = resolveUid(ctx, given);
  const obj = await loadObject(ctx, uid);
  // A destroyed Template is gone with its meta-data; Templates do not exist at all in 2.x (2.1 §2).
  if (obj.objectType === Enum.ObjectType.Template && (obj.material === null || atLeast(ctx.version, 2, 0))) throw objectNotFound(ctx.version);
  if (options.archived !== 'allow' && isArchived(obj)) {
    throw new KmipError('ObjectArchived', 'the object is archived; recover it first');
  }
  return obj;
}
