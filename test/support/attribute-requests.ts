// Request builders and response readers for the attribute and Locate tests (KMIP 1.4 §4.9–4.15,
// 2.1 §6.1.2/3/13/20/21/28/34/51). Payloads are written out as TTLV nodes here, independently of
// the server's payload shapes and attribute codec, so a codec mistake cannot cancel itself out.
import { expect } from 'vitest';
import type { TtlvNode } from '../../src/ttlv/types.js';
import { Enum, Tag, enumValueName } from '../../src/kmip/registry.js';
import type { BatchItemRequest } from '../../src/client/request.js';
import type { ResponseMessage, ResponseBatchItem } from '../../src/kmip/messages.js';
import type { KmipVersion } from '../../src/kmip/version.js';

export const v14: KmipVersion = { major: 1, minor: 4 };
export const v21: KmipVersion = { major: 2, minor: 1 };

const OP = Enum.Operation;
const AV = Tag.AttributeValue;

export const text = (tag: number, value: string): TtlvNode => ({ tag, type: 'TextString', value });
export const enumeration = (tag: number, value: number): TtlvNode => ({ tag, type: 'Enumeration', value });
export const int = (tag: number, value: number): TtlvNode => ({ tag, type: 'Integer', value });
export const bool = (tag: number, value: boolean): TtlvNode => ({ tag, type: 'Boolean', value });
export const bytes = (tag: number, value: Uint8Array): TtlvNode => ({ tag, type: 'ByteString', value });
export const date = (tag: number, value: bigint): TtlvNode => ({ tag, type: 'DateTime', value });
export const struct = (tag: number, value: TtlvNode[]): TtlvNode => ({ tag, type: 'Structure', value });
export const uidNode = (uid: string): TtlvNode => text(Tag.UniqueIdentifier, uid);

/** A 1.x Attribute {Attribute Name, Attribute Index?, Attribute Value}. */
export function attr1(name: string, value: TtlvNode, index?: number): TtlvNode {
  const children = [text(Tag.AttributeName, name)];
  if (index !== undefined) children.push(int(Tag.AttributeIndex, index));
  children.push({ ...value, tag: AV } as TtlvNode);
  return struct(Tag.Attribute, children);
}

/** A 2.x Vendor Attribute (custom attribute, vendor "x"). */
export function vendorAttr(name: string, value: TtlvNode, vendor = 'x'): TtlvNode {
  return struct(Tag.Attribute, [text(Tag.VendorIdentification, vendor), text(Tag.AttributeName, name), { ...value, tag: AV } as TtlvNode]);
}

export const nameValue = (v: string): TtlvNode =>
  struct(Tag.Name, [text(Tag.NameValue, v), enumeration(Tag.NameType, Enum.NameType.UninterpretedTextString)]);
export const asiValue = (ns: string, data?: string): TtlvNode =>
  struct(Tag.ApplicationSpecificInformation, [text(Tag.ApplicationNamespace, ns), ...(data === undefined ? [] : [text(Tag.ApplicationData, data)])]);
export const groupValue = (g: string): TtlvNode => text(Tag.ObjectGroup, g);

/** Create of an AES-256 key: 1.x Template-Attribute of `attrs1` (Attribute items), 2.x Attributes of `attrs2` (typed items). */
export function createKey1(extra: TtlvNode[] = []): BatchItemRequest {
  return {
    operation: OP.Create,
    payload: [
      enumeration(Tag.ObjectType, Enum.ObjectType.SymmetricKey),
      struct(Tag.TemplateAttribute, [
        attr1('Cryptographic Algorithm', enumeration(AV, Enum.CryptographicAlgorithm.AES)),
        attr1('Cryptographic Length', int(AV, 256)),
        attr1('Cryptographic Usage Mask', int(AV, 12)),
        ...extra,
      ]),
    ],
  };
}

export function createKey2(extra: TtlvNode[] = []): BatchItemRequest {
  return {
    operation: OP.Create,
    payload: [
      enumeration(Tag.ObjectType, Enum.ObjectType.SymmetricKey),
      struct(Tag.Attributes, [
        enumeration(Tag.CryptographicAlgorithm, Enum.CryptographicAlgorithm.AES),
        int(Tag.CryptographicLength, 256),
        int(Tag.CryptographicUsageMask, 12),
        ...extra,
      ]),
    ],
  };
}

export const req = {
  getAttributes1: (uid: string | undefined, names: string[]): BatchItemRequest => ({
    operation: OP.GetAttributes,
    payload: [...(uid === undefined ? [] : [uidNode(uid)]), ...names.map((n) => text(Tag.AttributeName, n))],
  }),
  getAttributes2: (uid: string | undefined, refs: TtlvNode[]): BatchItemRequest => ({
    operation: OP.GetAttributes,
    payload: [...(uid === undefined ? [] : [uidNode(uid)]), ...refs],
  }),
  getAttributeList: (uid: string | undefined): BatchItemRequest => ({
    operation: OP.GetAttributeList,
    payload: uid === undefined ? [] : [uidNode(uid)],
  }),
  add1: (uid: string, attribute: TtlvNode): BatchItemRequest => ({ operation: OP.AddAttribute, payload: [uidNode(uid), attribute] }),
  add2: (uid: string, typed: TtlvNode): BatchItemRequest => ({
    operation: OP.AddAttribute,
    payload: [uidNode(uid), struct(Tag.NewAttribute, [typed])],
  }),
  modify1: (uid: string, attribute: TtlvNode): BatchItemRequest => ({ operation: OP.ModifyAttribute, payload: [uidNode(uid), attribute] }),
  modify2: (uid: string, typed: TtlvNode, current?: TtlvNode): BatchItemRequest => ({
    operation: OP.ModifyAttribute,
    payload: [uidNode(uid), ...(current === undefined ? [] : [struct(Tag.CurrentAttribute, [current])]), struct(Tag.NewAttribute, [typed])],
  }),
  delete1: (uid: string, name: string, index?: number): BatchItemRequest => ({
    operation: OP.DeleteAttribute,
    payload: [uidNode(uid), text(Tag.AttributeName, name), ...(index === undefined ? [] : [int(Tag.AttributeIndex, index)])],
  }),
  delete2: (uid: string, by: { current: TtlvNode } | { reference: TtlvNode }): BatchItemRequest => ({
    operation: OP.DeleteAttribute,
    payload: [uidNode(uid), 'current' in by ? struct(Tag.CurrentAttribute, [by.current]) : by.reference],
  }),
  set2: (uid: string, typed: TtlvNode): BatchItemRequest => ({ operation: OP.SetAttribute, payload: [uidNode(uid), struct(Tag.NewAttribute, [typed])] }),
  adjust2: (uid: string, reference: TtlvNode, type: number, value?: TtlvNode): BatchItemRequest => ({
    operation: OP.AdjustAttribute,
    payload: [uidNode(uid), reference, enumeration(Tag.AdjustmentType, type), ...(value === undefined ? [] : [{ ...value, tag: Tag.AdjustmentValue } as TtlvNode])],
  }),
  locate1: (filters: TtlvNode[], fields: TtlvNode[] = []): BatchItemRequest => ({ operation: OP.Locate, payload: [...fields, ...filters] }),
  locate2: (typed: TtlvNode[], fields: TtlvNode[] = []): BatchItemRequest => ({
    operation: OP.Locate,
    payload: [...fields, struct(Tag.Attributes, typed)],
  }),
};

export const refTag = (tag: number): TtlvNode => enumeration(Tag.AttributeReference, tag);
export const refVendor = (name: string, vendor = 'x'): TtlvNode =>
  struct(Tag.AttributeReference, [text(Tag.VendorIdentification, vendor), text(Tag.AttributeName, name)]);

/** The only batch item, which must have succeeded. */
export function ok(res: ResponseMessage, i = 0): TtlvNode[] {
  const item = res.batchItems[i] as ResponseBatchItem;
  expect(item, 'batch item').toBeDefined();
  expect(
    { status: enumValueName('ResultStatus', item.resultStatus), reason: item.resultReason && enumValueName('ResultReason', item.resultReason), message: item.resultMessage },
  ).toEqual({ status: 'Success', reason: undefined, message: undefined });
  return item.responsePayload ?? [];
}

/** The reason a batch item failed with (its XML name). */
export function failure(res: ResponseMessage, i = 0): string | undefined {
  const item = res.batchItems[i] as ResponseBatchItem;
  expect(enumValueName('ResultStatus', item.resultStatus)).toBe('OperationFailed');
  return item.resultReason === undefined ? undefined : enumValueName('ResultReason', item.resultReason);
}

export function uidOf(payload: TtlvNode[]): string {
  const n = payload.find((c) => c.tag === Tag.UniqueIdentifier);
  if (n?.type !== 'TextString') throw new Error('no Unique Identifier in the payload');
  return n.value;
}

export function uidsOf(payload: TtlvNode[]): string[] {
  return payload.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => (c.type === 'TextString' ? c.value : ''));
}

/** 1.x response Attribute items as {name, index, value}. */
export function attributes1(payload: TtlvNode[]): { name: string; index: number; value: TtlvNode }[] {
  return payload
    .filter((c) => c.tag === Tag.Attribute && c.type === 'Structure')
    .map((c) => {
      const kids = (c as Extract<TtlvNode, { type: 'Structure' }>).value;
      const name = kids.find((k) => k.tag === Tag.AttributeName);
      const index = kids.find((k) => k.tag === Tag.AttributeIndex);
      const value = kids.find((k) => k.tag === Tag.AttributeValue);
      return {
        name: name?.type === 'TextString' ? name.value : '',
        index: index?.type === 'Integer' ? index.value : 0,
        value: value as TtlvNode,
      };
    });
}

/** The children of a 2.x response's Attributes structure. */
export function attributes2(payload: TtlvNode[]): TtlvNode[] {
  const s = payload.find((c) => c.tag === Tag.Attributes);
  expect(s?.type).toBe('Structure');
  return s?.type === 'Structure' ? s.value : [];
}

export function located(payload: TtlvNode[]): number | undefined {
  const n = payload.find((c) => c.tag === Tag.LocatedItems);
  return n?.type === 'Integer' ? n.value : undefined;
}
