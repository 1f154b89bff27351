/**
 * Finding the managed object a request names (KMIP 1.4 §2.1.1 / §4 "If omitted, then the ID
 * Placeholder value is used"; 2.1 §6.1 the same, plus the Unique Identifier enumeration of
 * 2.1 §11.57 whose ID Placeholder value means the same).
 *
 * Everything goes through the batch's tenant-scoped unit of work, so another tenant's object is
 * exactly as absent as one that never existed. The reason is the version's: Item Not Found in
 * 1.x (1.4 §11.13–11.17), Object Not Found in 2.x (2.1 §6.1.x tables; OASIS BL-M-4-21).
 */
import { Enum, Tag } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { atLeast, type KmipVersion } from '../kmip/version.js';
import type { TtlvNode } from '../ttlv/types.js';
import type { StoredObject } from '../store/types.js';
import type { OperationContext } from './types.js';

/** The identifier a request means: the one given, or the ID Placeholder when it is omitted. */
export function resolveUid(ctx: Pick<OperationContext, 'idPlaceholder'>, given: TtlvNode | string | undefined): string {
  if (typeof given === 'string') return given;
  if (given === undefined) return placeholder(ctx);
  if (given.type === 'TextString') return given.value;
  if (given.type === 'Enumeration' && given.value === Enum.UniqueIdentifier.IDPlaceholder) return placeholder(ctx);
  throw new KmipError('FeatureNotSupported', 'only a Text String Unique Identifier or ID Placeholder is supported here');
}

function placeholder(ctx: Pick<OperationContext, 'idPlaceholder'>): string {
  if (ctx.idPlaceholder === undefined) {
    throw new KmipError('MissingData', 'no Unique Identifier was given and the ID Placeholder is empty');
  }
  return ctx.idPlaceholder;
}

export function objectNotFound(version: KmipVersion): KmipError {
  return new KmipError(atLeast(version, 2, 0) ? 'ObjectNotFound' : 'ItemNotFound', 'No object with the specified Unique Identifier exists');
}

/** Loads the object through the batch's unit of work, or fails as the version says a missing object fails. */
export async function loadObject(ctx: Pick<OperationContext, 'unit' | 'version'>, uid: string): Promise<StoredObject> {
  const obj = await ctx.unit.get(uid);
  if (obj === undefined) throw objectNotFound(ctx.version);
  return obj;
}

/** The Unique Identifier item of a response. */
export function uidNode(uid: string): TtlvNode {
  return { tag: Tag.UniqueIdentifier, type: 'TextString', value: uid };
}
