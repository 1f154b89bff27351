// Request builders and response readers for the object lifecycle tests (KMIP 1.4 §4.1–4.23,
// 2.1 §6.1): payloads are written out as TTLV nodes here, independently of the server's payload
// codecs, so a codec mistake cannot cancel itself out.
import { expect } from 'vitest';
import type { TtlvNode } from '../../src/ttlv/types.js';
import { Enum, Tag, enumValueName, tagInfo } from '../../src/kmip/registry.js';
import type { BatchItemRequest } from '../../src/client/request.js';
import type { ResponseMessage } from '../../src/kmip/messages.js';
import type { KmipVersion } from '../../src/kmip/version.js';

export const v14: KmipVersion = { major: 1, minor: 4 };
export const v21: KmipVersion = { major: 2, minor: 1 };
export const isV2 = (v: KmipVersion): boolean => v.major >= 2;

const OP = Enum.Operation;

export const text = (tag: number, value: string): TtlvNode => ({ tag, type: 'TextString', value });
export const enumeration = (tag: number, value: number): TtlvNode => ({ tag, type: 'Enumeration', value });
export const int = (tag: number, value: number): TtlvNode => ({ tag, type: 'Integer', value });
export const bytes = (tag: number, value: Uint8Array): TtlvNode => ({ tag, type: 'ByteString', value });
export const date = (tag: number, value: bigint): TtlvNode => ({ tag, type: 'DateTime', value });
export const struct = (tag: number, value: TtlvNode[]): TtlvNode => ({ tag, type: 'Structure', value });
export const uidNode = (uid: string): TtlvNode => text(Tag.UniqueIdentifier, uid);

/** One attribute as a typed item (its XML name is the tag's). */
export type Attr = TtlvNode;

export const attr = {
  algorithm: (v: number) => enumeration(Tag.CryptographicAlgorithm, v),
  length: (v: number) => int(Tag.CryptographicLength, v),
  mask: (v: number) => int(Tag.CryptographicUsageMask, v),
  activationDate: (v: bigint) => date(Tag.ActivationDate, v),
  deactivationDate: (v: bigint) => date(Tag.DeactivationDate, v),
  processStartDate: (v: bigint) => date(Tag.ProcessStartDate, v),
  protectStopDate: (v: bigint) => date(Tag.ProtectStopDate, v),
  name: (v: string) => struct(Tag.Name, [text(Tag.NameValue, v), enumeration(Tag.NameType, Enum.NameType.UninterpretedTextString)]),
  sensitive: (v: boolean): TtlvNode => ({ tag: Tag.Sensitive, type: 'Boolean', value: v }),
  usageLimits: (total: bigint) =>
    struct(Tag.UsageLimits, [
      { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: total },
      enumeration(Tag.UsageLimitsUnit, Enum.UsageLimitsUnit.Object),
    ]),
};

/** The attributes container of `version`: 1.x Template-Attribute of Attribute structures, 2.x Attributes of typed items. */
export function attributes(version: KmipVersion, items: readonly Attr[]): TtlvNode {
  if (isV2(version)) return struct(Tag.Attributes, [...items]);
  return struct(
    Tag.TemplateAttribute,
    items.map((item) =>
      struct(Tag.Attribute, [text(Tag.AttributeName, tagInfo(item.tag)!.name), { ...item, tag: Tag.AttributeValue } as TtlvNode]),
    ),
  );
}

export function keyBlock(kft: number, material: TtlvNode, algorithm?: number, length?: number): TtlvNode {
  const children: TtlvNode[] = [enumeration(Tag.KeyFormatType, kft), struct(Tag.KeyValue, [{ ...material, tag: Tag.KeyMaterial } as TtlvNode])];
  if (algorithm !== undefined) children.push(enumeration(Tag.CryptographicAlgorithm, algorithm));
  if (length !== undefined) children.push(int(Tag.CryptographicLength, length));
  return struct(Tag.KeyBlock, children);
}

export const ops = {
  create(version: KmipVersion, objectType: number, items: readonly Attr[]): BatchItemRequest {
    return { operation: OP.Create, payload: [enumeration(Tag.ObjectType, objectType), attributes(version, items)] };
  },
  createKey(version: KmipVersion, algorithm: number, length: number, mask: number, more: readonly Attr[] = []): BatchItemRequest {
    return ops.create(version, Enum.ObjectType.SymmetricKey, [attr.algorithm(algorithm), attr.length(length), attr.mask(mask), ...more]);
  },
  register(version: KmipVersion, objectType: number, object: TtlvNode, items: readonly Attr[]): BatchItemRequest {
    return { operation: OP.Register, payload: [enumeration(Tag.ObjectType, objectType), attributes(version, items), object] };
  },
  registerKey(version: KmipVersion, material: Uint8Array, mask: number, more: readonly Attr[] = [], algorithm: number = Enum.CryptographicAlgorithm.AES): BatchItemRequest {
    const kb = keyBlock(Enum.KeyFormatType.Raw, bytes(Tag.KeyMaterial, material), algorithm, material.length * 8);
    return ops.register(version, Enum.ObjectType.SymmetricKey, struct(Tag.SymmetricKey, [kb]), [attr.mask(mask), ...more]);
  },
  registerSecret(version: KmipVersion, material: Uint8Array, kft: number = Enum.KeyFormatType.Opaque, more: readonly Attr[] = []): BatchItemRequest {
    const sd = struct(Tag.SecretData, [enumeration(Tag.SecretDataType, Enum.SecretDataType.Password), keyBlock(kft, bytes(Tag.KeyMaterial, material))]);
    return ops.register(version, Enum.ObjectType.SecretData, sd, more);
  },
  get(uid: string | undefined, extra: readonly TtlvNode[] = []): BatchItemRequest {
    return { operation: OP.Get, payload: [...(uid === undefined ? [] : [uidNode(uid)]), ...extra] };
  },
  activate: (uid?: string): BatchItemRequest => ({ operation: OP.Activate, payload: uid === undefined ? [] : [uidNode(uid)] }),
  destroy: (uid?: string): BatchItemRequest => ({ operation: OP.Destroy, payload: uid === undefined ? [] : [uidNode(uid)] }),
  archive: (uid?: string): BatchItemRequest => ({ operation: OP.Archive, payload: uid === undefined ? [] : [uidNode(uid)] }),
  recover: (uid?: string): BatchItemRequest => ({ operation: OP.Recover, payload: uid === undefined ? [] : [uidNode(uid)] }),
  revoke(uid: string | undefined, code: number, occurred?: bigint): BatchItemRequest {
    const payload: TtlvNode[] = uid === undefined ? [] : [uidNode(uid)];
    payload.push(struct(Tag.RevocationReason, [enumeration(Tag.RevocationReasonCode, code)]));
    if (occurred !== undefined) payload.push(date(Tag.CompromiseOccurrenceDate, occurred));
    return { operation: OP.Revoke, payload };
  },
  rekey(version: KmipVersion, uid: string | undefined, offset?: number, items: readonly Attr[] = []): BatchItemRequest {
    const payload: TtlvNode[] = uid === undefined ? [] : [uidNode(uid)];
    if (offset !== undefined) payload.push({ tag: Tag.Offset, type: 'Interval', value: offset });
    if (items.length > 0) payload.push(attributes(version, items));
    return { operation: OP.ReKey, payload };
  },
  check(uid: string | undefined, fields: readonly TtlvNode[]): BatchItemRequest {
    return { operation: OP.Check, payload: [...(uid === undefined ? [] : [uidNode(uid)]), ...fields] };
  },
  getAttributes(version: KmipVersion, uid: string, names: readonly string[]): BatchItemRequest {
    const refs = names.map((n) =>
      isV2(version) ? enumeration(Tag.AttributeReference, Tag[n as keyof typeof Tag]) : text(Tag.AttributeName, tagInfo(Tag[n as keyof typeof Tag])!.name),
    );
    return { operation: OP.GetAttributes, payload: [uidNode(uid), ...refs] };
  },
};

// ---------------------------------------------------------------------------------------------
// Reading responses

export type Item = ResponseMessage['batchItems'][number];

export function reasonName(item: Item): string | undefined {
  return item.resultReason === undefined ? undefined : enumValueName('ResultReason', item.resultReason);
}

/** The item's payload, after asserting success (the failure reason shows in the assertion). */
export function okPayload(res: ResponseMessage, i = 0): TtlvNode[] {
  const item = res.batchItems[i];
  expect(item, `batch item ${i}`).toBeDefined();
  expect({ status: item!.resultStatus, reason: reasonName(item!), message: item!.resultMessage }).toMatchObject({ status: Enum.ResultStatus.Success });
  return item!.responsePayload ?? [];
}

/** Asserts failure with `reason` (a ResultReason name). */
export function expectFailure(res: ResponseMessage, reason: string, i = 0): void {
  const item = res.batchItems[i];
  expect(item, `batch item ${i}`).toBeDefined();
  expect({ status: item!.resultStatus, reason: reasonName(item!) }).toEqual({ status: Enum.ResultStatus.OperationFailed, reason });
}

export function child(nodes: readonly TtlvNode[] | TtlvNode, tag: number): TtlvNode | undefined {
  const list = Array.isArray(nodes) ? nodes : (nodes as TtlvNode).type === 'Structure' ? ((nodes as TtlvNode).value as TtlvNode[]) : [];
  return list.find((n) => n.tag === tag);
}

export function children(nodes: readonly TtlvNode[] | TtlvNode, tag: number): TtlvNode[] {
  const list = Array.isArray(nodes) ? nodes : (nodes as TtlvNode).type === 'Structure' ? ((nodes as TtlvNode).value as TtlvNode[]) : [];
  return list.filter((n) => n.tag === tag);
}

/** Follows a path of tags through nested structures. */
export function at(nodes: readonly TtlvNode[], ...path: number[]): TtlvNode | undefined {
  let cur: readonly TtlvNode[] | TtlvNode = nodes;
  let found: TtlvNode | undefined;
  for (const tag of path) {
    found = child(cur, tag);
    if (found === undefined) return undefined;
    cur = found;
  }
  return found;
}

export function uidOf(payload: readonly TtlvNode[]): string {
  const n = child(payload, Tag.UniqueIdentifier);
  if (n?.type !== 'TextString') throw new Error('no Unique Identifier in the payload');
  return n.value;
}

/** The Key Material bytes of a Get response (Raw / Opaque formats). */
export function materialOf(payload: readonly TtlvNode[], objectTag: number = Tag.SymmetricKey): Uint8Array {
  const m = at(payload, objectTag, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial);
  if (m?.type !== 'ByteString') throw new Error('no Byte String Key Material in the payload');
  return m.value;
}

/**
 * Attribute values from a Get Attributes response, by XML name, for either version: 1.x Attribute
 * structures, 2.x an Attributes structure of typed items.
 */
export function attributeValues(payload: readonly TtlvNode[], name: string): TtlvNode[] {
  const tag = Tag[name as keyof typeof Tag];
  const v2 = child(payload, Tag.Attributes);
  if (v2 !== undefined) return children(v2, tag);
  const spec = tagInfo(tag)!.name;
  return children(payload, Tag.Attribute)
    .filter((a) => {
      const n = child(a, Tag.AttributeName);
      return n?.type === 'TextString' && n.value === spec;
    })
    .map((a) => child(a, Tag.AttributeValue)!);
}
