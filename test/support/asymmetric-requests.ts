// Request builders for the asymmetric operations (KMIP 1.4 §4.2, §4.5, §4.31–4.32; 2.1 §6.1.9,
// §6.1.47, §6.1.51–6.1.52), written as TTLV nodes independently of the server's payload codecs.
import type { TtlvNode } from '../../src/ttlv/types.js';
import { Enum, Tag, tagInfo } from '../../src/kmip/registry.js';
import type { BatchItemRequest } from '../../src/client/request.js';
import type { KmipVersion } from '../../src/kmip/version.js';
import { type Attr, bytes, enumeration, isV2, struct, text, uidNode } from './lifecycle-requests.js';

const OP = Enum.Operation;

type Containers = { common?: readonly Attr[]; privateKey?: readonly Attr[]; publicKey?: readonly Attr[] };

function container(version: KmipVersion, v1Tag: number, v2Tag: number, items: readonly Attr[]): TtlvNode {
  if (isV2(version)) return struct(v2Tag, [...items]);
  return struct(
    v1Tag,
    items.map((item) => struct(Tag.Attribute, [text(Tag.AttributeName, tagInfo(item.tag)!.name), { ...item, tag: Tag.AttributeValue } as TtlvNode])),
  );
}

function containers(version: KmipVersion, c: Containers): TtlvNode[] {
  const out: TtlvNode[] = [];
  if (c.common) out.push(container(version, Tag.CommonTemplateAttribute, Tag.CommonAttributes, c.common));
  if (c.privateKey) out.push(container(version, Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes, c.privateKey));
  if (c.publicKey) out.push(container(version, Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes, c.publicKey));
  return out;
}

export const curveParams = (curve: number): TtlvNode => struct(Tag.CryptographicDomainParameters, [enumeration(Tag.RecommendedCurve, curve)]);

export interface SignParams {
  hashing?: number;
  algorithm?: number;
  padding?: number;
  digitalSignatureAlgorithm?: number;
}

export function cryptoParams(p: SignParams & { maskGeneratorHashing?: number }): TtlvNode {
  const c: TtlvNode[] = [];
  if (p.padding !== undefined) c.push(enumeration(Tag.PaddingMethod, p.padding));
  if (p.hashing !== undefined) c.push(enumeration(Tag.HashingAlgorithm, p.hashing));
  if (p.digitalSignatureAlgorithm !== undefined) c.push(enumeration(Tag.DigitalSignatureAlgorithm, p.digitalSignatureAlgorithm));
  if (p.algorithm !== undefined) c.push(enumeration(Tag.CryptographicAlgorithm, p.algorithm));
  if (p.maskGeneratorHashing !== undefined) c.push(enumeration(Tag.MaskGeneratorHashingAlgorithm, p.maskGeneratorHashing));
  return struct(Tag.CryptographicParameters, c);
}

const optUid = (uid: string | undefined): TtlvNode[] => (uid === undefined ? [] : [uidNode(uid)]);

export const asym = {
  createKeyPair(version: KmipVersion, c: Containers): BatchItemRequest {
    return { operation: OP.CreateKeyPair, payload: containers(version, c) };
  },
  rekeyKeyPair(version: KmipVersion, privateUid: string | undefined, c: Containers = {}, offset?: number): BatchItemRequest {
    const payload: TtlvNode[] = privateUid === undefined ? [] : [text(Tag.PrivateKeyUniqueIdentifier, privateUid)];
    if (offset !== undefined) payload.push({ tag: Tag.Offset, type: 'Interval', value: offset });
    return { operation: OP.ReKeyKeyPair, payload: [...payload, ...containers(version, c)] };
  },
  sign(uid: string | undefined, params: TtlvNode | undefined, data: { data?: Uint8Array; digested?: Uint8Array }): BatchItemRequest {
    const payload = [...optUid(uid), ...(params ? [params] : [])];
    if (data.data) payload.push(bytes(Tag.Data, data.data));
    if (data.digested) payload.push(bytes(Tag.DigestedData, data.digested));
    return { operation: OP.Sign, payload };
  },
  verify(uid: string | undefined, params: TtlvNode | undefined, data: { data?: Uint8Array; digested?: Uint8Array }, signature: Uint8Array): BatchItemRequest {
    const payload = [...optUid(uid), ...(params ? [params] : [])];
    if (data.data) payload.push(bytes(Tag.Data, data.data));
    if (data.digested) payload.push(bytes(Tag.DigestedData, data.digested));
    payload.push(bytes(Tag.SignatureData, signature));
    return { operation: OP.SignatureVerify, payload };
  },
  encrypt(uid: string, params: TtlvNode | undefined, data: Uint8Array): BatchItemRequest {
    return { operation: OP.Encrypt, payload: [uidNode(uid), ...(params ? [params] : []), bytes(Tag.Data, data)] };
  },
  decrypt(uid: string, params: TtlvNode | undefined, data: Uint8Array): BatchItemRequest {
    return { operation: OP.Decrypt, payload: [uidNode(uid), ...(params ? [params] : []), bytes(Tag.Data, data)] };
  },
  getAs(uid: string | undefined, keyFormatType: number): BatchItemRequest {
    return { operation: OP.Get, payload: [...optUid(uid), enumeration(Tag.KeyFormatType, keyFormatType)] };
  },
};

export function textOf(payload: readonly TtlvNode[], tag: number): string {
  const n = payload.find((c) => c.tag === tag);
  if (n?.type !== 'TextString') throw new Error(`no ${tagInfo(tag)?.name} in the payload`);
  return n.value;
}

export function bytesOf(payload: readonly TtlvNode[], tag: number): Uint8Array {
  const n = payload.find((c) => c.tag === tag);
  if (n?.type !== 'ByteString') throw new Error(`no ${tagInfo(tag)?.name} in the payload`);
  return n.value;
}
