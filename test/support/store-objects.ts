/**
 * Helpers for object-store tests: temp database files and managed objects built by hand
 * (KMIP 1.4 §2.2 objects with §3 attributes), with Enum/Tag values from the registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Enum, Tag } from '../../src/kmip/registry.js';
import type { NewObject, StoredAttribute, StoredMaterial } from '../../src/store/index.js';
import type { TtlvNode } from '../../src/ttlv/types.js';

export function tempDir(prefix = 'kmipd-store-'): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const nameValue = (text: string): TtlvNode => ({
  tag: Tag.Name,
  type: 'Structure',
  value: [
    { tag: Tag.NameValue, type: 'TextString', value: text },
    { tag: Tag.NameType, type: 'Enumeration', value: Enum.NameType.UninterpretedTextString },
  ],
});

export const asiValue = (namespace: string, data: string): TtlvNode => ({
  tag: Tag.ApplicationSpecificInformation,
  type: 'Structure',
  value: [
    { tag: Tag.ApplicationNamespace, type: 'TextString', value: namespace },
    { tag: Tag.ApplicationData, type: 'TextString', value: data },
  ],
});

export const linkValue = (linkType: number, target: string): TtlvNode => ({
  tag: Tag.Link,
  type: 'Structure',
  value: [
    { tag: Tag.LinkType, type: 'Enumeration', value: linkType },
    { tag: Tag.LinkedObjectIdentifier, type: 'TextString', value: target },
  ],
});

export const enumValue = (v: number): TtlvNode => ({ tag: Tag.AttributeValue, type: 'Enumeration', value: v });
export const intValue = (v: number): TtlvNode => ({ tag: Tag.AttributeValue, type: 'Integer', value: v });
export const textValue = (v: string): TtlvNode => ({ tag: Tag.AttributeValue, type: 'TextString', value: v });
export const dateValue = (seconds: bigint): TtlvNode => ({ tag: Tag.AttributeValue, type: 'DateTime', value: seconds });

export function material(kekVersion = 1, seed = 1): StoredMaterial {
  return {
    kekVersion,
    wrapped: Buffer.alloc(40, seed),
    mac: Buffer.alloc(32, seed + 1),
    meta: Uint8Array.from([seed, 2, 3]),
  };
}

/** An AES-256 symmetric key in Pre-Active state with a Name and the usual algorithm attributes. */
export function symmetricKey(
  uid: string,
  tenant: string,
  name: string,
  opts: { createdAt?: number; extra?: StoredAttribute[]; kekVersion?: number; state?: number } = {},
): NewObject {
  return {
    uid,
    tenant,
    objectType: Enum.ObjectType.SymmetricKey,
    state: opts.state ?? Enum.State.PreActive,
    createdAt: opts.createdAt ?? Date.now(),
    material: material(opts.kekVersion ?? 1),
    attributes: [
      { name: 'Name', index: 0, value: nameValue(name) },
      { name: 'CryptographicAlgorithm', index: 0, value: enumValue(Enum.CryptographicAlgorithm.AES) },
      { name: 'CryptographicLength', index: 0, value: intValue(256) },
      ...(opts.extra ?? []),
    ],
  };
}
