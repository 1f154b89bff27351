// The attribute models on the wire (KMIP 1.4 §2.1.1 Attribute, §2.1.8 Template-Attribute; 2.1
// §5.1–5.5 Attributes, Attribute Reference, §4.60 Vendor Attribute) ↔ kmipd's stored model.
// Expected trees are written out by hand from the spec tables and the OASIS vectors.
import { describe, expect, it } from 'vitest';
import {
  AttributeSets,
  attributeNameFromText,
  readAttribute,
  readAttributeReference,
  readAttributeValue,
  readRequestAttributes,
  renderAttribute,
  renderAttributeReference,
  renderAttributes,
  sameValue,
} from '../../../src/kmip/attribute-codec.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import type { TtlvNode } from '../../../src/ttlv/types.js';
import { asiValue, attr1, bool, bytes, date, enumeration, int, nameValue, struct, text, v14, v21, vendorAttr } from '../../support/attribute-requests.js';

const v10 = { major: 1, minor: 0 };
const AV = Tag.AttributeValue;
const asValue = (n: TtlvNode): TtlvNode => ({ ...n, tag: AV }) as TtlvNode;

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof KmipError) return `${e.reason}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('reading 1.x Template-Attribute (1.4 §2.1.8)', () => {
  it('reads spec names (any whitespace), custom names, indices, and template Names (SKFF-M-9-14 Create)', () => {
    const payload = [
      enumeration(Tag.ObjectType, Enum.ObjectType.SymmetricKey),
      struct(Tag.TemplateAttribute, [
        nameValue('my-template'),
        attr1('Cryptographic Algorithm', enumeration(AV, Enum.CryptographicAlgorithm.AES)),
        attr1('Cryptographic  Length', int(AV, 128)), // runs of spaces, as the 1.0–1.2 vectors have
        attr1('Name', nameValue('SKFF-M-9-14'), 3),
        attr1('x-ID', text(AV, 'key-1')),
      ]),
    ];
    const { attributes, templateNames } = readRequestAttributes(payload, v14);
    expect(templateNames).toEqual(['my-template']);
    expect(attributes).toEqual([
      { name: 'CryptographicAlgorithm', value: enumeration(AV, Enum.CryptographicAlgorithm.AES) },
      { name: 'CryptographicLength', value: int(AV, 128) },
      { name: 'Name', index: 3, value: asValue(nameValue('SKFF-M-9-14')) },
      { name: 'x-ID', value: text(AV, 'key-1') },
    ]);
  });

  it('reads only the containers asked for (Create Key Pair: common, private, public)', () => {
    const payload = [
      struct(Tag.CommonTemplateAttribute, [attr1('Cryptographic Algorithm', enumeration(AV, Enum.CryptographicAlgorithm.RSA))]),
      struct(Tag.PrivateKeyTemplateAttribute, [attr1('Name', nameValue('priv'))]),
      struct(Tag.PublicKeyTemplateAttribute, [attr1('Name', nameValue('pub'))]),
    ];
    expect(readRequestAttributes(payload, v14, AttributeSets.common).attributes.map((a) => a.name)).toEqual(['CryptographicAlgorithm']);
    expect(readRequestAttributes(payload, v14, AttributeSets.privateKey).attributes[0]?.value).toEqual(asValue(nameValue('priv')));
    expect(readRequestAttributes(payload, v14, AttributeSets.publicKey).attributes[0]?.value).toEqual(asValue(nameValue('pub')));
    expect(readRequestAttributes(payload, v14).attributes).toEqual([]);
  });

  it('a 2.x container in a 1.x request, or the other way round, is Invalid Field', () => {
    expect(reason(() => readRequestAttributes([struct(Tag.Attributes, [])], v14))).toMatch(/^InvalidField/);
    expect(reason(() => readRequestAttributes([struct(Tag.TemplateAttribute, [])], v21))).toMatch(/^InvalidField/);
  });

  it('unknown names, names of other versions, wrong item types and malformed Attributes are Invalid Field naming the attribute', () => {
    expect(reason(() => readAttribute(attr1('Colour', text(AV, 'blue')), v14))).toMatch(/^InvalidField: "Colour" is not an attribute/);
    expect(reason(() => readAttribute(attr1('Quantum Safe', bool(AV, true)), v14))).toMatch(/^InvalidField/); // 2.0+
    expect(reason(() => readAttribute(attr1('Sensitive', bool(AV, true)), { major: 1, minor: 3 }))).toMatch(/^InvalidField/); // 1.4+
    expect(reason(() => readAttribute(attr1('Cryptographic Length', text(AV, '128')), v14))).toBe(
      'InvalidField: Cryptographic Length must be Integer, not TextString',
    );
    expect(reason(() => readAttribute(struct(Tag.Attribute, [text(Tag.AttributeName, 'Name')]), v14))).toMatch(/needs an Attribute Value/);
    expect(reason(() => readAttribute(attr1('Name', nameValue('n'), -1), v14))).toMatch(/must not be negative/);
  });

  it('an enumeration value outside the spec table is Invalid Field; the extension range (8XXXXXXX) is accepted', () => {
    expect(reason(() => readAttribute(attr1('Cryptographic Algorithm', enumeration(AV, 9999)), v14))).toMatch(/^InvalidField/);
    expect(readAttribute(attr1('Cryptographic Algorithm', enumeration(AV, 0x80000001)), v14).value).toEqual(enumeration(AV, 0x80000001));
  });

  it('Operation Policy Name exists in 1.x only; 1.0 names of 1.0-only attributes resolve in 1.0', () => {
    expect(attributeNameFromText('Operation Policy Name', v14)).toBe('OperationPolicyName');
    expect(attributeNameFromText('Operation Policy Name', v21)).toBeUndefined();
    expect(attributeNameFromText('Certificate Identifier', v10)).toBe('CertificateIdentifier');
    expect(attributeNameFromText('Certificate Identifier', v21)).toBeUndefined();
  });

  it('custom names longer than 256 characters are refused', () => {
    expect(attributeNameFromText(`x-${'a'.repeat(254)}`, v14)).toBe(`x-${'a'.repeat(254)}`);
    expect(attributeNameFromText(`x-${'a'.repeat(255)}`, v14)).toBeUndefined();
  });
});

describe('reading 2.x Attributes (2.1 §5.1, §4.60)', () => {
  it('reads typed items and Vendor Attributes of vendor x / y as x-NAME / y-NAME (AX-M-1-21 Create)', () => {
    const payload = [
      struct(Tag.Attributes, [
        int(Tag.CryptographicUsageMask, 12),
        vendorAttr('ID', text(AV, 'AX-M-1-21-key1')),
        nameValue('k'),
        vendorAttr('gen', int(AV, 3), 'y'),
      ]),
    ];
    expect(readRequestAttributes(payload, v21).attributes).toEqual([
      { name: 'CryptographicUsageMask', value: int(AV, 12) },
      { name: 'x-ID', value: text(AV, 'AX-M-1-21-key1') },
      { name: 'Name', value: asValue(nameValue('k')) },
      { name: 'y-gen', value: int(AV, 3) },
    ]);
  });

  it('other vendors are Unsupported Attribute; malformed Vendor Identification or non-attribute tags are Invalid Field', () => {
    expect(reason(() => readAttribute(vendorAttr('x', text(AV, 'v'), 'acme'), v21))).toMatch(/^UnsupportedAttribute/);
    expect(reason(() => readAttribute(vendorAttr('x', text(AV, 'v'), 'a b'), v21))).toMatch(/^InvalidField: Vendor Identification/);
    expect(reason(() => readAttribute(text(Tag.NameValue, 'v'), v21))).toMatch(/^InvalidField: NameValue is not an attribute/);
    expect(reason(() => readAttribute(text(Tag.OperationPolicyName, 'p'), v21))).toMatch(/^InvalidField/); // removed in 2.0
  });

  it('uses the item types of the version: Linked Object Identifier may be an Enumeration in 2.x only', () => {
    const link = (id: TtlvNode) => struct(Tag.Link, [enumeration(Tag.LinkType, Enum.LinkType.ParentLink), id]);
    const placeholder = enumeration(Tag.LinkedObjectIdentifier, Enum.UniqueIdentifier.IDPlaceholder);
    expect(readAttribute(link(placeholder), v21).value).toEqual(asValue(link(placeholder)));
    expect(reason(() => readAttribute(attr1('Link', link(placeholder)), v14))).toMatch(/^InvalidField: LinkedObjectIdentifier in Link must be TextString/);
  });
});

describe('structured attribute values', () => {
  it('checks fields: required ones (full mode), unknown ones, repeats; partial mode (Locate) lets fields out', () => {
    const onlyValue = struct(Tag.Name, [text(Tag.NameValue, 'n')]);
    expect(reason(() => readAttributeValue('Name', onlyValue, v14))).toBe('InvalidField: Name needs NameType');
    expect(readAttributeValue('Name', onlyValue, v14, 'partial')).toEqual(asValue(onlyValue));
    expect(reason(() => readAttributeValue('Name', struct(Tag.Name, [text(Tag.NameValue, 'n'), text(Tag.ObjectGroup, 'g')]), v14))).toMatch(
      /ObjectGroup is not a field of Name/,
    );
    expect(reason(() => readAttributeValue('Name', struct(Tag.Name, [text(Tag.NameValue, 'a'), text(Tag.NameValue, 'b')]), v14, 'partial'))).toMatch(
      /more than once/,
    );
    expect(reason(() => readAttributeValue('Name', text(Tag.Name, 'n'), v14))).toBe('InvalidField: Name must be Structure, not TextString');
  });

  it('Application Specific Information may omit Application Data (1.4 §3.36; TL profile LIBRARY-LTO)', () => {
    expect(readAttributeValue('ApplicationSpecificInformation', asiValue('LIBRARY-LTO'), v14)).toEqual(asValue(asiValue('LIBRARY-LTO')));
    expect(reason(() => readAttributeValue('ApplicationSpecificInformation', struct(Tag.ApplicationSpecificInformation, [text(Tag.ApplicationData, 'd')]), v14))).toMatch(
      /needs ApplicationNamespace/,
    );
  });

  it('puts fields in the spec order, so a value has one encoding', () => {
    const reversed = struct(Tag.Name, [enumeration(Tag.NameType, Enum.NameType.URI), text(Tag.NameValue, 'n')]);
    expect(readAttributeValue('Name', reversed, v14)).toEqual(
      struct(AV, [text(Tag.NameValue, 'n'), enumeration(Tag.NameType, Enum.NameType.URI)]),
    );
  });

  it('custom structures may not nest (1.4 §3.39)', () => {
    expect(readAttributeValue('x-s', struct(AV, [text(Tag.NameValue, 'a'), int(Tag.CryptographicLength, 1)]), v14).type).toBe('Structure');
    expect(reason(() => readAttributeValue('x-s', struct(AV, [struct(Tag.Name, [])]), v14))).toMatch(/nested structures/);
  });

  it('values compare by their canonical bytes, whatever their tags', () => {
    expect(sameValue(text(Tag.NameValue, 'a'), text(AV, 'a'))).toBe(true);
    expect(sameValue(text(AV, 'a'), text(AV, 'b'))).toBe(false);
    expect(sameValue(int(AV, 1), enumeration(AV, 1))).toBe(false);
  });
});

describe('rendering (responses)', () => {
  it('1.x: spec name, Attribute Index only when > 0, value as Attribute Value (AX-M-1-14 GetAttributes)', () => {
    expect(renderAttribute({ name: 'State', index: 0, value: enumeration(AV, Enum.State.Active) }, v14)).toEqual(
      struct(Tag.Attribute, [text(Tag.AttributeName, 'State'), enumeration(AV, Enum.State.Active)]),
    );
    expect(renderAttribute({ name: 'ObjectGroup', index: 2, value: text(AV, 'g') }, v14)).toEqual(
      struct(Tag.Attribute, [text(Tag.AttributeName, 'Object Group'), int(Tag.AttributeIndex, 2), text(AV, 'g')]),
    );
    expect(renderAttribute({ name: 'PKCS_12FriendlyName', index: 0, value: text(AV, 'f') }, v14)).toEqual(
      struct(Tag.Attribute, [text(Tag.AttributeName, 'PKCS#12 Friendly Name'), text(AV, 'f')]),
    );
  });

  it('2.x: the typed item; custom attributes as Vendor Attributes', () => {
    expect(renderAttribute({ name: 'Name', index: 1, value: asValue(nameValue('n')) }, v21)).toEqual(nameValue('n'));
    expect(renderAttribute({ name: 'x-ID', index: 0, value: text(AV, 'v') }, v21)).toEqual(vendorAttr('ID', text(AV, 'v')));
  });

  it('leaves out attributes the version does not define', () => {
    const attrs = [
      { name: 'OperationPolicyName', index: 0, value: text(AV, 'default') },
      { name: 'QuantumSafe', index: 0, value: bool(AV, false) },
      { name: 'Sensitive', index: 0, value: bool(AV, false) },
      { name: 'InitialDate', index: 0, value: date(AV, 1n) },
    ];
    expect(renderAttributes(attrs, v21).map((n) => n.tag)).toEqual([Tag.QuantumSafe, Tag.Sensitive, Tag.InitialDate]);
    expect(renderAttributes(attrs, { major: 1, minor: 3 }).length).toBe(2); // Operation Policy Name, Initial Date
  });
});

describe('attribute references', () => {
  it('1.x Attribute Name text; unknown names read as undefined (Get Attributes then omits them)', () => {
    expect(readAttributeReference(text(Tag.AttributeName, 'Cryptographic Usage Mask'), v14)).toBe('CryptographicUsageMask');
    expect(readAttributeReference(text(Tag.AttributeName, 'x-anything'), v14)).toBe('x-anything');
    expect(readAttributeReference(text(Tag.AttributeName, 'No Such Attribute'), v14)).toBeUndefined();
  });

  it('2.x Attribute Reference: an Enumeration of Tag, or Vendor Identification + Attribute Name', () => {
    expect(readAttributeReference(enumeration(Tag.AttributeReference, Tag.ObjectGroup), v21)).toBe('ObjectGroup');
    expect(readAttributeReference(struct(Tag.AttributeReference, [text(Tag.VendorIdentification, 'x'), text(Tag.AttributeName, 'ID')]), v21)).toBe('x-ID');
    expect(readAttributeReference(enumeration(Tag.AttributeReference, Tag.NameValue), v21)).toBeUndefined();
    expect(reason(() => readAttributeReference(struct(Tag.AttributeReference, [text(Tag.AttributeName, 'ID')]), v21))).toMatch(/^InvalidField/);
  });

  it('renders names as the version does (Get Attribute List)', () => {
    expect(renderAttributeReference('UniqueIdentifier', v14)).toEqual(text(Tag.AttributeName, 'Unique Identifier'));
    expect(renderAttributeReference('UniqueIdentifier', v21)).toEqual(enumeration(Tag.AttributeReference, Tag.UniqueIdentifier));
    expect(renderAttributeReference('x-Barcode', v21)).toEqual(
      struct(Tag.AttributeReference, [text(Tag.VendorIdentification, 'x'), text(Tag.AttributeName, 'Barcode')]),
    );
  });

  it('Byte String custom values survive as they are', () => {
    const v = bytes(AV, Uint8Array.from([0, 1, 255]));
    expect(readAttribute(attr1('x-b', v), v14).value).toEqual(v);
  });
});
