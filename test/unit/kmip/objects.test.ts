// Managed object shapes (KMIP 1.4 §2.1.3–2.1.7, §2.2; 2.1 §2–3): decoded from and encoded to
// bytes written independently of the encoder under test (OASIS use-case hex, PyKMIP's encodings of
// the KMIP test documents, and hand-laid TTLV per the spec tables).
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { certificate, keyBlock, objectFromFields, fieldsFromObject, secretData, symmetricKey, transparentKeyMaterial } from '../../../src/kmip/objects.js';
import { getResponse } from '../../../src/kmip/payloads/get.js';
import { registerRequest } from '../../../src/kmip/payloads/register.js';
import { hex, toHex } from '../../support/hex.js';

const v10 = { version: { major: 1, minor: 0 } };
const v14 = { version: { major: 1, minor: 4 } };
const v21 = { version: { major: 2, minor: 1 } };

/**
 * KMIP 1.0 Use Cases §4.1 step 6, "Client B: Get symmetric key" response (the Response Payload
 * of the OASIS hex): Object Type Symmetric Key, Unique Identifier, Symmetric Key { Key Block {
 * Raw, Key Value { Key Material EF78…E7 }, AES, 128 } }.
 */
const getPayloadHex = `
  42007C 01 000000A0
    420057 05 00000004 00000002 00000000
    420094 07 00000024 32316432386238612D303664662D343363302D623732662D326131363136333361646139 00000000
    42008F 01 00000058
      420040 01 00000050
        420042 05 00000004 00000001 00000000
        420045 01 00000018
          420043 08 00000010 EF7833AB15F5A1EE5874BC0D9BBC4BE7
        420028 05 00000004 00000003 00000000
        42002A 02 00000004 00000080 00000000`;

describe('Get response with a Symmetric Key (KMIP 1.0 Use Cases §4.1 step 6)', () => {
  const payload = decodeTtlv(hex(getPayloadHex));

  it('decodes the Key Block', () => {
    if (payload.type !== 'Structure') throw new Error('not a structure');
    const res = getResponse.decodeChildren(payload.value, v10, Tag.ResponsePayload);
    expect(res.objectType).toBe(Enum.ObjectType.SymmetricKey);
    expect(res.uniqueIdentifier).toBe('21d28b8a-06df-43c0-b72f-2a161633ada9');
    const kb = res.symmetricKey!.keyBlock;
    expect(kb.keyFormatType).toBe(Enum.KeyFormatType.Raw);
    expect(kb.cryptographicAlgorithm).toBe(Enum.CryptographicAlgorithm.AES);
    expect(kb.cryptographicLength).toBe(128);
    expect(kb.keyValue).toMatchObject({ kind: 'plain', keyMaterial: { type: 'ByteString', value: hex('EF7833AB15F5A1EE5874BC0D9BBC4BE7') } });
    const obj = objectFromFields(res, Enum.ObjectType.SymmetricKey);
    expect(obj.objectType).toBe(Enum.ObjectType.SymmetricKey);
  });

  it('encodes it back to the same bytes', () => {
    if (payload.type !== 'Structure') throw new Error('not a structure');
    const res = getResponse.decodeChildren(payload.value, v10, Tag.ResponsePayload);
    const out = encodeTtlv({ tag: Tag.ResponsePayload, type: 'Structure', value: getResponse.encodeChildren(res, v10) });
    expect(toHex(out)).toBe(toHex(hex(getPayloadHex)));
  });
});

describe('Certificate (PyKMIP TestCertificate.encoding_a; 1.4 §2.2.1 Table 45)', () => {
  const bytes = hex('420013 01 00000018 42001D 05 00000004 00000001 00000000 42001E 08 00000000');
  it('round-trips a Certificate with an empty value', () => {
    const c = certificate.decode(decodeTtlv(bytes), v14);
    expect(c).toEqual({ certificateType: Enum.CertificateType.X_509, certificateValue: new Uint8Array(0) });
    expect(toHex(encodeTtlv(certificate.encode(Tag.Certificate, c, v14)))).toBe(toHex(bytes));
  });
});

describe('Key Block variants (1.4 Tables 7, 8, 14; 2.1 §3.1–3.2)', () => {
  it('Transparent Symmetric Key: Key Material is a Structure holding Key (Table 14)', () => {
    const bytes = hex(`
      420040 01 00000048
        420042 05 00000004 00000007 00000000
        420045 01 00000020
          420043 01 00000018
            42003F 08 00000010 000102030405060708090A0B0C0D0E0F
        420028 05 00000004 00000003 00000000`);
    const kb = keyBlock.decode(decodeTtlv(bytes), v14);
    expect(kb.keyValue?.kind).toBe('plain');
    const m = kb.keyValue?.kind === 'plain' ? kb.keyValue.keyMaterial : undefined;
    const t = transparentKeyMaterial.get(Enum.KeyFormatType.TransparentSymmetricKey)!.decode(m!, v14) as { key: Uint8Array };
    expect(toHex(t.key)).toBe('000102030405060708090A0B0C0D0E0F');
    expect(toHex(encodeTtlv(keyBlock.encode(Tag.KeyBlock, kb, v14)))).toBe(toHex(bytes));
  });

  it('a wrapped Key Value is a Byte String beside Key Wrapping Data (Tables 7, 9)', () => {
    const bytes = hex(`
      420040 01 00000060
        420042 05 00000004 00000001 00000000
        420045 08 00000018 1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5
        420046 01 00000028
          42009E 05 00000004 00000001 00000000
          420036 01 00000010
            420094 07 00000003 6B656B0000000000`);
    const kb = keyBlock.decode(decodeTtlv(bytes), v14);
    expect(kb.keyValue).toMatchObject({ kind: 'wrapped' });
    expect(kb.keyWrappingData?.wrappingMethod).toBe(Enum.WrappingMethod.Encrypt);
    expect(kb.keyWrappingData?.encryptionKeyInformation?.uniqueIdentifier).toBe('kek');
    expect(toHex(encodeTtlv(keyBlock.encode(Tag.KeyBlock, kb, v14)))).toBe(toHex(bytes));
  });

  it('Secret Data: Secret Data Type then Key Block (Table 51)', () => {
    const bytes = hex(`
      420085 01 00000040
        420086 05 00000004 00000001 00000000
        420040 01 00000028
          420042 05 00000004 00000002 00000000
          420045 01 00000010
            420043 08 00000008 70617373776F7264`);
    const sd = secretData.decode(decodeTtlv(bytes), v21);
    expect(sd.secretDataType).toBe(Enum.SecretDataType.Password);
    expect(toHex(encodeTtlv(secretData.encode(Tag.SecretData, sd, v21)))).toBe(toHex(bytes));
  });

  it('refuses Key Material that is neither a Byte String nor a Structure', () => {
    const bad = hex(`
      420040 01 00000028
        420042 05 00000004 00000001 00000000
        420045 01 00000010
          420043 02 00000004 00000001 00000000`);
    expect(() => keyBlock.decode(decodeTtlv(bad), v14)).toThrow(KmipError);
  });

  it('requires the Key Format Type (Table 7: Yes)', () => {
    const noFormat = hex('420040 01 00000010 420028 05 00000004 00000003 00000000');
    expect(() => keyBlock.decode(decodeTtlv(noFormat), v14)).toThrow(/KeyFormatType/);
  });
});

describe('Register payload carries exactly one object of its Object Type', () => {
  const sk: TtlvNode = {
    tag: Tag.SymmetricKey,
    type: 'Structure',
    value: [
      {
        tag: Tag.KeyBlock,
        type: 'Structure',
        value: [
          { tag: Tag.KeyFormatType, type: 'Enumeration', value: Enum.KeyFormatType.Raw },
          { tag: Tag.KeyValue, type: 'Structure', value: [{ tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(16) }] },
        ],
      },
    ],
  };
  const objectType = (v: number): TtlvNode => ({ tag: Tag.ObjectType, type: 'Enumeration', value: v });

  it('accepts the matching type', () => {
    const req = registerRequest.decodeChildren([objectType(Enum.ObjectType.SymmetricKey), sk], v14, Tag.RequestPayload);
    expect(objectFromFields(req, Enum.ObjectType.SymmetricKey).objectType).toBe(Enum.ObjectType.SymmetricKey);
  });

  it('refuses a mismatch with Invalid Field (1.4 §11.4 "Object Type does not match")', () => {
    const req = registerRequest.decodeChildren([objectType(Enum.ObjectType.SecretData), sk], v14, Tag.RequestPayload);
    expect(() => objectFromFields(req, Enum.ObjectType.SecretData)).toThrow(expect.objectContaining({ reason: 'InvalidField' }));
  });

  it('refuses a request without an object', () => {
    const req = registerRequest.decodeChildren([objectType(Enum.ObjectType.SymmetricKey)], v14, Tag.RequestPayload);
    expect(() => objectFromFields(req, Enum.ObjectType.SymmetricKey)).toThrow(expect.objectContaining({ reason: 'InvalidField' }));
  });

  it('fieldsFromObject puts the object in its own field only', () => {
    const decoded = symmetricKey.decode(sk, v14);
    const fields = fieldsFromObject({ objectType: Enum.ObjectType.SymmetricKey, value: decoded });
    expect(fields.symmetricKey).toBe(decoded);
    expect(Object.entries(fields).filter(([, v]) => v !== undefined).map(([k]) => k)).toEqual(['symmetricKey']);
  });
});

describe('versions', () => {
  it('a 2.x Get response leaves out the Template field it does not define', () => {
    const fields = fieldsFromObject({ objectType: Enum.ObjectType.Template, value: { attribute: [{ tag: Tag.Attribute, type: 'Structure', value: [] }] } });
    const nodes = getResponse.encodeChildren({ objectType: Enum.ObjectType.Template, uniqueIdentifier: 'u', ...fields }, v21);
    expect(nodes.map((n) => n.tag)).toEqual([Tag.ObjectType, Tag.UniqueIdentifier]);
    const nodes14 = getResponse.encodeChildren({ objectType: Enum.ObjectType.Template, uniqueIdentifier: 'u', ...fields }, v14);
    expect(nodes14.map((n) => n.tag)).toEqual([Tag.ObjectType, Tag.UniqueIdentifier, Tag.Template]);
  });
});
