/**
 * The requests the load generator sends (KMIP 1.2 §4.1 Create, §4.9 Locate, §4.11 Get, §4.19
 * Activate, §4.20 Revoke, §4.21 Destroy, §4.26 Discover Versions) and how their responses are read.
 * Version 1.2 is the one both kmipd and the PyKMIP 0.10 server accept, with 1.x Template-Attribute
 * attributes named as the spec tables write them ("Cryptographic Algorithm").
 */
import { Enum, Mask, Tag, enumValueName, tagInfo } from '../../kmip/registry.js';
import type { KmipVersion } from '../../kmip/version.js';
import type { TtlvNode } from '../../ttlv/types.js';
import { encodeRequest, parseResponse, type BatchItemRequest } from '../../client/request.js';

export const BENCH_VERSION: KmipVersion = { major: 1, minor: 2 };

const text = (tag: number, value: string): TtlvNode => ({ tag, type: 'TextString', value });
const enumeration = (tag: number, value: number): TtlvNode => ({ tag, type: 'Enumeration', value });
const integer = (tag: number, value: number): TtlvNode => ({ tag, type: 'Integer', value });
const struct = (tag: number, value: TtlvNode[]): TtlvNode => ({ tag, type: 'Structure', value });

/** A 1.x Attribute structure: the spec name of the value's tag, and the value. */
function attribute(value: TtlvNode): TtlvNode {
  const name = tagInfo(value.tag)?.name;
  if (name === undefined) throw new Error(`no attribute name for tag ${value.tag}`);
  return struct(Tag.Attribute, [text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvNode]);
}

const nameValue = (name: string): TtlvNode =>
  struct(Tag.Name, [text(Tag.NameValue, name), enumeration(Tag.NameType, Enum.NameType.UninterpretedTextString)]);

function one(item: BatchItemRequest): Buffer {
  return encodeRequest(BENCH_VERSION, [item]);
}

/** Create of an AES-256 key usable for Encrypt and Decrypt, with a Name. */
export function createRequest(name: string): Buffer {
  const mask = Mask.CryptographicUsageMask.Encrypt | Mask.CryptographicUsageMask.Decrypt;
  return one({
    operation: Enum.Operation.Create,
    payload: [
      enumeration(Tag.ObjectType, Enum.ObjectType.SymmetricKey),
      struct(Tag.TemplateAttribute, [
        attribute(enumeration(Tag.CryptographicAlgorithm, Enum.CryptographicAlgorithm.AES)),
        attribute(integer(Tag.CryptographicLength, 256)),
        attribute(integer(Tag.CryptographicUsageMask, mask)),
        attribute(nameValue(name)),
      ]),
    ],
  });
}

export function getRequest(uid: string): Buffer {
  return one({ operation: Enum.Operation.Get, payload: [text(Tag.UniqueIdentifier, uid)] });
}

export function locateByNameRequest(name: string): Buffer {
  return one({ operation: Enum.Operation.Locate, payload: [attribute(nameValue(name))] });
}

export function activateRequest(uid: string): Buffer {
  return one({ operation: Enum.Operation.Activate, payload: [text(Tag.UniqueIdentifier, uid)] });
}

export function revokeRequest(uid: string): Buffer {
  return one({
    operation: Enum.Operation.Revoke,
    payload: [
      text(Tag.UniqueIdentifier, uid),
      struct(Tag.RevocationReason, [enumeration(Tag.RevocationReasonCode, Enum.RevocationReasonCode.CessationOfOperation)]),
    ],
  });
}

export function destroyRequest(uid: string): Buffer {
  return one({ operation: Enum.Operation.Destroy, payload: [text(Tag.UniqueIdentifier, uid)] });
}

export function discoverVersionsRequest(): Buffer {
  return one({ operation: Enum.Operation.DiscoverVersions, payload: [] });
}

/** What one response said: success with the identifiers it carried, or the failure's reason name. */
export type Outcome = { ok: true; uids: string[] } | { ok: false; reason: string };

export function readOutcome(bytes: Uint8Array): Outcome {
  let message;
  try {
    message = parseResponse(bytes);
  } catch (err) {
    return { ok: false, reason: `UnreadableResponse` };
  }
  const item = message.batchItems[0];
  if (item === undefined) return { ok: false, reason: 'NoBatchItem' };
  if (item.resultStatus !== Enum.ResultStatus.Success) {
    const reason = item.resultReason === undefined ? undefined : enumValueName('ResultReason', item.resultReason);
    return { ok: false, reason: reason ?? `ResultStatus${item.resultStatus}` };
  }
  const uids: string[] = [];
  for (const child of item.responsePayload ?? []) {
    if (child.tag === Tag.UniqueIdentifier && child.type === 'TextString') uids.push(child.value);
  }
  return { ok: true, uids };
}
