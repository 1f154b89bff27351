// Human-readable TTLV tree (names per KMIP Additional Message Encodings v1.0 §6.1.3). The input is
// the MSGENC-XML-M-1-10 response hex the spec prints (§7.1.1), decoded by the codec.
import { describe, expect, it } from 'vitest';
import { decodeTtlv, type TtlvNode } from '../../../src/ttlv/index.js';
import { ttlvToText } from '../../../src/kmip/encodings/text.js';
import { Tag } from '../../../src/kmip/registry.js';
import { hex } from '../../support/hex.js';

const TOO_LARGE_RESPONSE_HEX = `
  42007b01000000a042007a0100000048420069010000002042006a02000000040000000100000000
  42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004
  000000010000000042000f010000004842005c0500000004000000180000000042007f0500000004
  000000010000000042007e0500000004000000020000000042007d0700000009544f4f5f4c415247
  4500000000000000`;

const key: TtlvNode = {
  tag: Tag.KeyBlock,
  type: 'Structure',
  value: [
    { tag: Tag.KeyFormatType, type: 'Enumeration', value: 1 },
    {
      tag: Tag.KeyValue,
      type: 'Structure',
      value: [{ tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(32).fill(0xab) }],
    },
    { tag: Tag.CryptographicUsageMask, type: 'Integer', value: 12 },
    { tag: Tag.Modulus, type: 'BigInteger', value: (1n << 1023n) + 1n },
  ],
};

describe('ttlvToText', () => {
  it('writes a named, indented tree with enumerations by name and dates in ISO form', () => {
    expect(ttlvToText(decodeTtlv(hex(TOO_LARGE_RESPONSE_HEX)))).toBe(
      [
        'ResponseMessage (Structure)',
        '  ResponseHeader (Structure)',
        '    ProtocolVersion (Structure)',
        '      ProtocolVersionMajor (Integer) 1',
        '      ProtocolVersionMinor (Integer) 0',
        '    TimeStamp (DateTime) 2013-06-26T09:09:17+00:00',
        '    BatchCount (Integer) 1',
        '  BatchItem (Structure)',
        '    Operation (Enumeration) Query',
        '    ResultStatus (Enumeration) OperationFailed',
        '    ResultReason (Enumeration) ResponseTooLarge',
        '    ResultMessage (TextString) "TOO_LARGE"',
      ].join('\n'),
    );
  });

  it('writes byte strings as hex and masks symbolically', () => {
    const lines = ttlvToText(key).split('\n');
    expect(lines[1]).toBe('  KeyFormatType (Enumeration) Raw');
    expect(lines[3]).toBe(`    KeyMaterial (ByteString) ${'ab'.repeat(32)}`);
    expect(lines[4]).toBe('  CryptographicUsageMask (Integer) Encrypt|Decrypt');
    expect(lines[5]).toMatch(/^ {2}Modulus \(BigInteger\) 0x(00){8}80{254}1$/);
  });

  it('elides key material for debug logs', () => {
    const text = ttlvToText(key, { elideBytes: true });
    expect(text).toContain('    KeyMaterial (ByteString) ByteString[32 bytes]');
    expect(text).toContain('  Modulus (BigInteger) BigInteger[136 bytes]');
    expect(text).not.toContain('abab');
  });

  it('labels unknown tags and unnamed values in hex, and honours indent', () => {
    const node: TtlvNode = {
      tag: 0x540001,
      type: 'Structure',
      value: [
        { tag: Tag.OpaqueDataType, type: 'Enumeration', value: 0x80000001 },
        { tag: 0x540002, type: 'TextString', value: 'line\nbreak' },
        { tag: Tag.UsageLimitsCount, type: 'LongInteger', value: -3n },
        { tag: Tag.Offset, type: 'Interval', value: 60 },
        { tag: Tag.Sensitive, type: 'Boolean', value: false },
        { tag: Tag.TimeStamp, type: 'DateTimeExtended', value: 1n },
      ],
    };
    expect(ttlvToText(node, { indent: 4 })).toBe(
      [
        '0x540001 (Structure)',
        '    OpaqueDataType (Enumeration) 0x80000001',
        '    0x540002 (TextString) "line\\nbreak"',
        '    UsageLimitsCount (LongInteger) -3',
        '    Offset (Interval) 60',
        '    Sensitive (Boolean) false',
        '    TimeStamp (DateTimeExtended) 1970-01-01T00:00:00.000001+00:00',
      ].join('\n'),
    );
  });

  it('names a 1.x AttributeValue through its AttributeName', () => {
    const attr: TtlvNode = {
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.AttributeName, type: 'TextString', value: 'State' },
        { tag: Tag.AttributeValue, type: 'Enumeration', value: 2 },
      ],
    };
    expect(ttlvToText(attr).split('\n')[2]).toBe('  AttributeValue (Enumeration) Active');
  });
});
