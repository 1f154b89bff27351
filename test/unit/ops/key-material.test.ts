// Key material handling without an HSM (KMIP 1.4 §2.1.3–2.1.7, §3.17, §4.11): splitting an object
// into secret and meta record, joining it back, Get's format conversions, the Digest, and the
// zeroing of revealed buffers once a response is encoded.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import type { ManagedObject } from '../../../src/kmip/objects.js';
import { getResponse } from '../../../src/kmip/payloads/get.js';
import { fieldsFromObject } from '../../../src/kmip/objects.js';
import { convertFormat, decodeMeta, digestOf, encodeMeta, joinObject, splitObject, zeroAfterEncode } from '../../../src/ops/key-material.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';

const KF = Enum.KeyFormatType;
const OT = Enum.ObjectType;
const v14 = { version: { major: 1, minor: 4 } };

function rawKey(bytes: Uint8Array): ManagedObject {
  return {
    objectType: OT.SymmetricKey,
    value: {
      keyBlock: {
        keyFormatType: KF.Raw,
        keyCompressionType: undefined,
        keyValue: { kind: 'plain', keyMaterial: { tag: Tag.KeyMaterial, type: 'ByteString', value: bytes }, attribute: [], attributes: undefined },
        cryptographicAlgorithm: Enum.CryptographicAlgorithm.AES,
        cryptographicLength: bytes.length * 8,
        keyWrappingData: undefined,
      },
    },
  };
}

const material = (o: ManagedObject) => ('keyBlock' in o.value && o.value.keyBlock.keyValue?.kind === 'plain' ? o.value.keyBlock.keyValue.keyMaterial : undefined);

describe('split / join', () => {
  it('the meta record holds no key material, and joins back to the same object', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
    const obj = rawKey(key);
    const { secret, skeleton } = splitObject(obj);
    expect(Buffer.from(secret).equals(Buffer.from(key))).toBe(true);
    const meta = encodeMeta(skeleton);
    expect(Buffer.from(meta).includes(Buffer.from(key))).toBe(false);
    const back = joinObject(decodeMeta(OT.SymmetricKey, meta), Uint8Array.from(key));
    expect(back).toEqual(obj);
  });

  it('a Transparent key’s secret is the TTLV of its Key Material structure', () => {
    const transparent: ManagedObject = {
      objectType: OT.SymmetricKey,
      value: {
        keyBlock: {
          keyCompressionType: undefined,
          cryptographicAlgorithm: Enum.CryptographicAlgorithm.AES,
          cryptographicLength: 128,
          keyWrappingData: undefined,
          keyFormatType: KF.TransparentSymmetricKey,
          keyValue: {
            kind: 'plain',
            keyMaterial: { tag: Tag.KeyMaterial, type: 'Structure', value: [{ tag: Tag.Key, type: 'ByteString', value: new Uint8Array(16).fill(5) }] },
            attribute: [],
            attributes: undefined,
          },
        },
      },
    };
    const { secret, skeleton } = splitObject(transparent);
    // Tag 420043, Structure, length 0x18, then Key 42003F ByteString of 16 bytes.
    expect(Buffer.from(secret.subarray(0, 8)).toString('hex')).toBe('4200430100000018');
    expect(joinObject(decodeMeta(OT.SymmetricKey, encodeMeta(skeleton)), secret)).toEqual(transparent);
  });
});

describe('Get formats (convertFormat)', () => {
  it('Raw → Transparent Symmetric Key → Raw', () => {
    const key = new Uint8Array(16).fill(7);
    const t = convertFormat(rawKey(key), KF.TransparentSymmetricKey, []);
    expect(material(t)).toEqual({ tag: Tag.KeyMaterial, type: 'Structure', value: [{ tag: Tag.Key, type: 'ByteString', value: key }] });
    const created: Uint8Array[] = [];
    const r = convertFormat(t, KF.Raw, created);
    expect(material(r)).toMatchObject({ type: 'ByteString', value: key });
    expect(created).toHaveLength(1);
  });

  it('refuses conversions it does not define: Key Format Type Not Supported', () => {
    expect(() => convertFormat(rawKey(new Uint8Array(16)), KF.PKCS_1, [])).toThrow(expect.objectContaining({ reason: 'KeyFormatTypeNotSupported' }));
  });

  it('leaves the object alone when no format is asked for', () => {
    const obj = rawKey(new Uint8Array(16));
    expect(convertFormat(obj, undefined, [])).toBe(obj);
  });
});

describe('Digest (1.4 §3.17, 2.1 §4.21)', () => {
  it('is SHA-256 of the Raw bytes, with Key Format Type Raw', () => {
    const key = new Uint8Array(16).fill(3);
    const d = digestOf(rawKey(key))!;
    expect(Buffer.from(d.value).toString('hex')).toBe(createHash('sha256').update(key).digest('hex'));
    expect(d.keyFormatType).toBe(KF.Raw);
  });

  it('is not kept for Secret Data (a password digest would allow offline guessing)', () => {
    const key = rawKey(new Uint8Array(8));
    if (!('keyBlock' in key.value)) throw new Error('no key block');
    const sd: ManagedObject = { objectType: OT.SecretData, value: { secretDataType: Enum.SecretDataType.Password, keyBlock: key.value.keyBlock } };
    expect(digestOf(sd)).toBeUndefined();
  });
});

describe('zeroAfterEncode', () => {
  it('encodes a copy of the material, then zeroes the revealed buffer', () => {
    const secret = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const codec = zeroAfterEncode(getResponse);
    const nodes = codec.encodeChildren({ objectType: OT.SymmetricKey, uniqueIdentifier: 'u', ...fieldsFromObject(rawKey(secret)), plaintexts: [secret] }, v14);
    expect(secret.every((b) => b === 0)).toBe(true);
    const sk = nodes.find((n) => n.tag === Tag.SymmetricKey)!;
    const kb = sk.type === 'Structure' ? sk.value[0]! : undefined;
    const kv = kb?.type === 'Structure' ? kb.value.find((n) => n.tag === Tag.KeyValue) : undefined;
    const km = kv?.type === 'Structure' ? kv.value[0] : undefined;
    expect(km?.type === 'ByteString' && Array.from(km.value)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('lists the copies it puts into the response, for the message encoder to zero', () => {
    const secret = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const secrets: Uint8Array[] = [];
    const codec = zeroAfterEncode(getResponse);
    const nodes = codec.encodeChildren({ objectType: OT.SymmetricKey, uniqueIdentifier: 'u', ...fieldsFromObject(rawKey(secret)), plaintexts: [secret] }, { ...v14, secrets });
    const byteStrings: Uint8Array[] = [];
    const walk = (n: TtlvNode): void => {
      if (n.type === 'ByteString') byteStrings.push(n.value);
      else if (n.type === 'Structure') n.value.forEach(walk);
    };
    nodes.forEach(walk);
    // Every Byte String of the response is one of the listed copies (the very same buffer).
    expect(byteStrings.length).toBeGreaterThan(0);
    for (const b of byteStrings) expect(secrets.includes(b)).toBe(true);
    expect(secrets.some((b) => Array.from(b).join() === Array.from({ length: 16 }, (_, i) => i + 1).join())).toBe(true);
  });

  it('zeroes even when encoding fails', () => {
    const secret = new Uint8Array(8).fill(9);
    const codec = zeroAfterEncode(getResponse);
    expect(() => codec.encodeChildren({ objectType: OT.SymmetricKey, uniqueIdentifier: undefined as unknown as string, ...fieldsFromObject(rawKey(secret)), plaintexts: [secret] }, v14)).not.toThrow();
    expect(secret.every((b) => b === 0)).toBe(true);
  });
});
