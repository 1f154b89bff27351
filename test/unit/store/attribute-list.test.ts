// The attribute list an object row carries (src/store/prepared.ts encodeAttributeList): one
// Attributes structure of KMIP 1.4 §2.1.1 Attribute structures (Attribute Name, Attribute Index,
// Attribute Value), TTLV-encoded as KMIP 1.4 §9.1.1 says. Expected bytes are written out by hand
// from the tag table (0x42000A Attribute Name, 0x420009 Attribute Index, 0x42000B Attribute Value,
// 0x420008 Attribute: 1.4 §9.1.3.1; 0x420125 Attributes: 2.1 §11.56), not produced by the encoder under test.
import { describe, expect, it } from 'vitest';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { decodeAttributeList, encodeAttributeList, prepareObject, preparedToStored } from '../../../src/store/prepared.js';
import { StoreError } from '../../../src/store/errors.js';
import type { StoredObject } from '../../../src/store/types.js';
import { hex as hexBytes } from '../../support/hex.js';

const hex = (s: string) => Buffer.from(hexBytes(s));

// Attribute Value, Integer 5 (padded to 8 bytes).
const VALUE_INT_5 = '42000B02 00000004 00000005 00000000';
// Attribute Value, Enumeration 3 (AES).
const VALUE_ENUM_3 = '42000B05 00000004 00000003 00000000';

describe('attribute list encoding', () => {
  it('encodes name, index and the stored value bytes of each instance, in the given order', () => {
    const list = encodeAttributeList([
      { name: 'x-a', idx: 0, value: hex(VALUE_INT_5) },
      { name: 'x-b', idx: 2, value: hex(VALUE_ENUM_3) },
    ]);
    // Each Attribute: name item 16 bytes ("x-a" padded to 8), index item 16, value item 16 = 48.
    const expected = hex(
      '42012501 00000070' +
        '42000801 00000030' +
        '42000A07 00000003 782D6100 00000000' +
        '42000902 00000004 00000000 00000000' +
        VALUE_INT_5 +
        '42000801 00000030' +
        '42000A07 00000003 782D6200 00000000' +
        '42000902 00000004 00000002 00000000' +
        VALUE_ENUM_3,
    );
    expect(list.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeAttributeList(list)).toEqual([
      { name: 'x-a', index: 0, value: { tag: Tag.AttributeValue, type: 'Integer', value: 5 } },
      { name: 'x-b', index: 2, value: { tag: Tag.AttributeValue, type: 'Enumeration', value: 3 } },
    ]);
  });

  it('an object without attributes has an empty Attributes structure', () => {
    const list = encodeAttributeList([]);
    expect(list.toString('hex')).toBe(hex('42012501 00000000').toString('hex'));
    expect(decodeAttributeList(list)).toEqual([]);
  });

  it('refuses a list of another shape with a store error', () => {
    // A lone Attribute Value where the list should be.
    expect(() => decodeAttributeList(hex(VALUE_INT_5))).toThrow(StoreError);
    // An Attribute without its index.
    expect(() =>
      decodeAttributeList(hex('42012501 00000028 42000801 00000020 42000A07 00000003 782D6100 00000000' + VALUE_INT_5)),
    ).toThrow(StoreError);
  });

  it('a prepared object carries the list of its attributes, and reads back exactly as given', () => {
    const obj: StoredObject = {
      uid: 'u1',
      tenant: 't',
      objectType: Enum.ObjectType.SymmetricKey,
      state: Enum.State.PreActive,
      version: 3,
      createdAt: 1,
      material: null,
      attributes: [
        { name: 'Name', index: 1, value: { tag: Tag.Name, type: 'Structure', value: [
          { tag: Tag.NameValue, type: 'TextString', value: 'ключ' },
          { tag: Tag.NameType, type: 'Enumeration', value: Enum.NameType.UninterpretedTextString },
        ] } },
        { name: 'CryptographicAlgorithm', index: 0, value: { tag: Tag.AttributeValue, type: 'Enumeration', value: Enum.CryptographicAlgorithm.AES } },
        { name: 'Name', index: 0, value: { tag: Tag.Name, type: 'Structure', value: [
          { tag: Tag.NameValue, type: 'TextString', value: 'k' },
          { tag: Tag.NameType, type: 'Enumeration', value: Enum.NameType.UninterpretedTextString },
        ] } },
        { name: 'x-bytes', index: 0, value: { tag: Tag.AttributeValue, type: 'ByteString', value: Uint8Array.from([1, 2, 3]) } },
      ],
    };
    const p = prepareObject(obj);
    expect(decodeAttributeList(p.attributeList).map((a) => [a.name, a.index])).toEqual([
      ['Name', 1],
      ['CryptographicAlgorithm', 0],
      ['Name', 0],
      ['x-bytes', 0],
    ]);
    const back = preparedToStored(p);
    // Values come back tagged Attribute Value (the tag of a stored value is irrelevant).
    expect(back).toEqual({ ...obj, attributes: obj.attributes.map((a) => ({ ...a, value: { ...a.value, tag: Tag.AttributeValue } })) });
    expect(Object.keys(back)).not.toContain('attributeList');
  });
});
