// KMIP JSON encoding (KMIP Additional Message Encodings v1.0 §4.1). Expected bytes are the hex the
// spec prints under MSGENC-JSON-M-1-10 (§5.1.1); value examples are those of §4.1.6.
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv, type TtlvNode } from '../../../src/ttlv/index.js';
import { EncodingError } from '../../../src/kmip/encodings/encoding-error.js';
import { jsonTextToTtlv, jsonToTtlv, ttlvToJson, ttlvToJsonText } from '../../../src/kmip/encodings/json.js';
import { Tag } from '../../../src/kmip/registry.js';
import { hex, toHex } from '../../support/hex.js';

// MSGENC-JSON-M-1-10, TIME 0 request, as the spec writes it (hex Integers, no Structure types).
const QUERY_REQUEST_JSON = `{"tag":"RequestMessage", "value":[
  {"tag":"RequestHeader", "value":[
    {"tag":"ProtocolVersion", "value":[
      {"tag":"ProtocolVersionMajor", "type":"Integer", "value":"0x00000001"},
      {"tag":"ProtocolVersionMinor", "type":"Integer", "value":"0x00000000"}
    ]},
    {"tag":"MaximumResponseSize", "type":"Integer", "value":"0x00000100"},
    {"tag":"BatchCount", "type":"Integer", "value":"0x00000001"}
  ]},
  {"tag":"BatchItem", "value":[
    {"tag":"Operation", "type":"Enumeration", "value":"Query"},
    {"tag":"RequestPayload", "value":[
      {"tag":"QueryFunction", "type":"Enumeration", "value":"QueryOperations"},
      {"tag":"QueryFunction", "type":"Enumeration", "value":"QueryObjects"}
    ]}
  ]}
]}`;

const QUERY_REQUEST_HEX = `
  42007801000000904200770100000048420069010000002042006a02000000040000000100000000
  42006b020000000400000000000000004200500200000004000001000000000042000d0200000004
  000000010000000042000f010000003842005c050000000400000018000000004200790100000020
  4200740500000004000000010000000042007405000000040000000200000000`;

// The TIME 0 response.
const TOO_LARGE_RESPONSE_JSON = `{"tag":"ResponseMessage", "value":[
  {"tag":"ResponseHeader", "value":[
    {"tag":"ProtocolVersion", "value":[
      {"tag":"ProtocolVersionMajor", "type":"Integer", "value":"0x00000001"},
      {"tag":"ProtocolVersionMinor", "type":"Integer", "value":"0x00000000"}
    ]},
    {"tag":"TimeStamp", "type":"DateTime", "value":"2013-06-26T09:09:17+00:00"},
    {"tag":"BatchCount", "type":"Integer", "value":"0x00000001"}
  ]},
  {"tag":"BatchItem", "value":[
    {"tag":"Operation", "type":"Enumeration", "value":"Query"},
    {"tag":"ResultStatus", "type":"Enumeration", "value":"OperationFailed"},
    {"tag":"ResultReason", "type":"Enumeration", "value":"ResponseTooLarge"},
    {"tag":"ResultMessage", "type":"TextString", "value":"TOO_LARGE"}
  ]}
]}`;

const TOO_LARGE_RESPONSE_HEX = `
  42007b01000000a042007a0100000048420069010000002042006a02000000040000000100000000
  42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004
  000000010000000042000f010000004842005c0500000004000000180000000042007f0500000004
  000000010000000042007e0500000004000000020000000042007d0700000009544f4f5f4c415247
  4500000000000000`;

function errorOf(f: () => unknown): EncodingError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(EncodingError);
    return err as EncodingError;
  }
  throw new Error('expected an EncodingError');
}

const scalar = (json: object): TtlvNode => jsonToTtlv(json);

describe('MSGENC-JSON-M-1-10 (§5.1.1): JSON ↔ the spec hex', () => {
  it('encodes the spec JSON to the spec bytes', () => {
    expect(toHex(encodeTtlv(jsonTextToTtlv(QUERY_REQUEST_JSON)))).toBe(toHex(hex(QUERY_REQUEST_HEX)));
    expect(toHex(encodeTtlv(jsonTextToTtlv(TOO_LARGE_RESPONSE_JSON)))).toBe(toHex(hex(TOO_LARGE_RESPONSE_HEX)));
  });

  it('writes the spec bytes as JSON the spec would accept: same tags and structure, Integers as Numbers', () => {
    const json = ttlvToJson(decodeTtlv(hex(TOO_LARGE_RESPONSE_HEX)));
    expect(json).toEqual({
      tag: 'ResponseMessage',
      value: [
        {
          tag: 'ResponseHeader',
          value: [
            {
              tag: 'ProtocolVersion',
              value: [
                { tag: 'ProtocolVersionMajor', type: 'Integer', value: 1 },
                { tag: 'ProtocolVersionMinor', type: 'Integer', value: 0 },
              ],
            },
            { tag: 'TimeStamp', type: 'DateTime', value: '2013-06-26T09:09:17+00:00' },
            { tag: 'BatchCount', type: 'Integer', value: 1 },
          ],
        },
        {
          tag: 'BatchItem',
          value: [
            { tag: 'Operation', type: 'Enumeration', value: 'Query' },
            { tag: 'ResultStatus', type: 'Enumeration', value: 'OperationFailed' },
            { tag: 'ResultReason', type: 'Enumeration', value: 'ResponseTooLarge' },
            { tag: 'ResultMessage', type: 'TextString', value: 'TOO_LARGE' },
          ],
        },
      ],
    });
    expect(jsonTextToTtlv(ttlvToJsonText(decodeTtlv(hex(QUERY_REQUEST_HEX))))).toEqual(decodeTtlv(hex(QUERY_REQUEST_HEX)));
  });
});

describe('§4.1.6 examples', () => {
  it('tags: name or 0x hex; unknown tags written as hex; name property ignored (§4.1.6.1)', () => {
    const date = { tag: Tag.ActivationDate, type: 'DateTime', value: 978307200n };
    expect(scalar({ tag: '0x420001', type: 'DateTime', value: '2001-01-01T10:00:00+10:00' })).toEqual(date);
    expect(scalar({ tag: 'ActivationDate', type: 'DateTime', value: '2001-01-01T10:00:00+10:00' })).toEqual(date);
    expect(scalar({ tag: 'IVCounterNonce', type: 'ByteString', value: 'a1b2c3d4' })).toEqual({
      tag: Tag.IVCounterNonce,
      type: 'ByteString',
      value: new Uint8Array([0xa1, 0xb2, 0xc3, 0xd4]),
    });
    expect(scalar({ tag: 'PrivateKeyTemplateAttribute', type: 'Structure', value: [] })).toEqual({
      tag: Tag.PrivateKeyTemplateAttribute,
      type: 'Structure',
      value: [],
    });
    const ext = scalar({ tag: '0x54FFFF', name: 'SomeExtension', type: 'Integer', value: '0x00000001' });
    expect(ext).toEqual({ tag: 0x54ffff, type: 'Integer', value: 1 });
    expect(ttlvToJson(ext)).toEqual({ tag: '0x54ffff', type: 'Integer', value: 1 });
    expect(() => scalar({ tag: 'WELL_KNOWN_EXTENSION', type: 'TextString', value: 'x' })).toThrow(EncodingError);
  });

  it('Structure: type optional, value an array or null (§4.1.6.2)', () => {
    expect(scalar({ tag: 'ProtocolVersion', value: [{ tag: 'ProtocolVersionMajor', type: 'Integer', value: 1 }] })).toEqual({
      tag: Tag.ProtocolVersion,
      type: 'Structure',
      value: [{ tag: Tag.ProtocolVersionMajor, type: 'Integer', value: 1 }],
    });
    expect(scalar({ tag: 'ProtocolVersion', value: null })).toEqual({ tag: Tag.ProtocolVersion, type: 'Structure', value: [] });
    expect(ttlvToJson({ tag: Tag.ProtocolVersion, type: 'Structure', value: [] })).toEqual({ tag: 'ProtocolVersion', value: [] });
  });

  it('Integer: Number or hex (§4.1.6.3); masks with | (§4.1.6.4)', () => {
    expect(scalar({ tag: 'BatchCount', type: 'Integer', value: 10 })).toEqual({ tag: Tag.BatchCount, type: 'Integer', value: 10 });
    expect(scalar({ tag: 'BatchCount', type: 'Integer', value: '0x0000000A' })).toMatchObject({ value: 10 });
    expect(scalar({ tag: 'BatchCount', type: 'Integer', value: '0xffffffff' })).toMatchObject({ value: -1 });
    for (const value of ['0x0000100c', 'Encrypt|Decrypt|CertificateSign', 'CertificateSign|0x00000004|0x0000008', 'CertificateSign|0x0000000c']) {
      expect(scalar({ tag: 'CryptographicUsageMask', type: 'Integer', value })).toEqual({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x100c });
    }
    expect(ttlvToJson({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x100c })).toEqual({
      tag: 'CryptographicUsageMask',
      type: 'Integer',
      value: 'Encrypt|Decrypt|CertificateSign',
    });
    expect(() => scalar({ tag: 'BatchCount', type: 'Integer', value: 1.5 })).toThrow(EncodingError);
    expect(() => scalar({ tag: 'BatchCount', type: 'Integer', value: '10' })).toThrow(EncodingError);
    expect(() => scalar({ tag: 'BatchCount', type: 'Integer', value: 2 ** 31 })).toThrow(EncodingError);
  });

  it('Long Integer: Number, or hex at 2^52 and beyond (§4.1.6.5)', () => {
    expect(scalar({ tag: '0x540001', type: 'LongInteger', value: '0xfffffffffffffffe' })).toEqual({ tag: 0x540001, type: 'LongInteger', value: -2n });
    expect(scalar({ tag: '0x540001', type: 'LongInteger', value: -2 })).toEqual({ tag: 0x540001, type: 'LongInteger', value: -2n });
    const big = scalar({ tag: 'UsageLimitsCount', type: 'LongInteger', value: '0x1000000000000000' });
    expect(big).toEqual({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: 1n << 60n });
    expect(ttlvToJson(big).value).toBe('0x1000000000000000');
    expect(ttlvToJson({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: (1n << 52n) - 1n }).value).toBe(2 ** 52 - 1);
    expect(ttlvToJson({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: -(1n << 52n) }).value).toBe('0xfff0000000000000');
    expect(() => scalar({ tag: 'UsageLimitsCount', type: 'LongInteger', value: 2 ** 60 })).toThrow(EncodingError);
  });

  it('Big Integer: Number or sign-extended hex (§4.1.6.6)', () => {
    expect(scalar({ tag: 'Modulus', type: 'BigInteger', value: 0 })).toEqual({ tag: Tag.Modulus, type: 'BigInteger', value: 0n });
    expect(scalar({ tag: 'Modulus', type: 'BigInteger', value: '0x0000000000000000' })).toMatchObject({ value: 0n });
    expect(scalar({ tag: 'Modulus', type: 'BigInteger', value: '0xffffffffffffffff' })).toMatchObject({ value: -1n });
    expect(ttlvToJson({ tag: Tag.Modulus, type: 'BigInteger', value: 255n }).value).toBe('0x00000000000000ff');
  });

  it('Enumeration: Number, hex or CamelCase name (§4.1.6.7)', () => {
    for (const json of [
      { tag: '0x420057', type: 'Enumeration', value: 2 },
      { tag: 'ObjectType', type: 'Enumeration', value: '0x00000002' },
      { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
    ]) {
      expect(scalar(json)).toEqual({ tag: Tag.ObjectType, type: 'Enumeration', value: 2 });
    }
    expect(ttlvToJson({ tag: Tag.ObjectType, type: 'Enumeration', value: 2 }).value).toBe('SymmetricKey');
    expect(ttlvToJson({ tag: Tag.ObjectType, type: 'Enumeration', value: 0x80000000 }).value).toBe('0x80000000');
    expect(() => scalar({ tag: 'ObjectType', type: 'Enumeration', value: -1 })).toThrow(EncodingError);
  });

  it('Boolean, Text String, Byte String, Date-Time, Interval (§4.1.6.8–12)', () => {
    expect(scalar({ tag: 'BatchOrderOption', type: 'Boolean', value: true })).toEqual({ tag: Tag.BatchOrderOption, type: 'Boolean', value: true });
    expect(scalar({ tag: 'BatchOrderOption', type: 'Boolean', value: '0x0000000000000001' })).toMatchObject({ value: true });
    expect(() => scalar({ tag: 'BatchOrderOption', type: 'Boolean', value: 'true' })).toThrow(EncodingError);
    expect(scalar({ tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Algorithm' })).toMatchObject({ value: 'Cryptographic Algorithm' });
    expect(scalar({ tag: 'MACSignature', type: 'ByteString', value: 'C50F77' })).toMatchObject({ value: new Uint8Array([0xc5, 0x0f, 0x77]) });
    // The §4.1.6.11 hex example is 2001-01-01T10:00:00 UTC.
    const archive = scalar({ tag: 'ArchiveDate', type: 'DateTime', value: '0x000000003a505520' });
    expect(archive).toEqual({ tag: Tag.ArchiveDate, type: 'DateTime', value: 0x3a505520n });
    expect(ttlvToJson(archive).value).toBe('2001-01-01T10:00:00+00:00');
    expect(scalar({ tag: 'ArchiveDate', type: 'DateTime', value: '2001-01-01T10:00:00+10:00' })).toMatchObject({ value: 978307200n });
    expect(scalar({ tag: 'Offset', type: 'Interval', value: 27 })).toEqual({ tag: Tag.Offset, type: 'Interval', value: 27 });
    expect(scalar({ tag: 'Offset', type: 'Interval', value: '0x0000001b' })).toMatchObject({ value: 27 });
  });

  it('every item type survives TTLV → JSON text → TTLV', () => {
    const node: TtlvNode = {
      tag: Tag.RequestMessage,
      type: 'Structure',
      value: [
        { tag: Tag.BatchCount, type: 'Integer', value: -5 },
        { tag: Tag.UsageLimitsCount, type: 'LongInteger', value: -(1n << 63n) },
        { tag: Tag.Modulus, type: 'BigInteger', value: -(1n << 200n) },
        { tag: Tag.ObjectType, type: 'Enumeration', value: 0xffffffff },
        { tag: Tag.BatchOrderOption, type: 'Boolean', value: false },
        { tag: Tag.ApplicationData, type: 'TextString', value: 'Ω "x"\n' },
        { tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array([0, 1, 255]) },
        { tag: Tag.ArchiveDate, type: 'DateTime', value: -(1n << 63n) },
        { tag: Tag.Offset, type: 'Interval', value: 0xffffffff },
        { tag: Tag.TimeStamp, type: 'DateTimeExtended', value: 1_700_000_000_123_456n },
        { tag: 0x540001, type: 'Structure', value: [{ tag: 0x540002, type: 'TextString', value: '' }] },
      ],
    };
    expect(jsonTextToTtlv(ttlvToJsonText(node))).toEqual(node);
  });
});

describe('1.x AttributeValue and 2.x AttributeReference', () => {
  it('names values by the sibling AttributeName, and tags by name', () => {
    const attr = jsonToTtlv({
      tag: 'Attribute',
      value: [
        { tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Usage Mask' },
        { tag: 'AttributeValue', type: 'Integer', value: 'Decrypt|Encrypt' },
      ],
    });
    expect(attr.type === 'Structure' && attr.value[1]).toEqual({ tag: Tag.AttributeValue, type: 'Integer', value: 12 });
    expect(ttlvToJson(attr).value).toEqual([
      { tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Usage Mask' },
      { tag: 'AttributeValue', type: 'Integer', value: 'Encrypt|Decrypt' },
    ]);
    expect(scalar({ tag: 'AttributeReference', type: 'Enumeration', value: 'UniqueIdentifier' })).toMatchObject({ value: Tag.UniqueIdentifier });
  });
});

describe('errors carry the path', () => {
  it.each([
    [[], '/?', 'must be an object'],
    [{ tag: 'RequestMessage', value: [{ tag: 'Nope', type: 'Integer', value: 1 }] }, '/RequestMessage/Nope', 'unknown tag'],
    [
      { tag: 'RequestMessage', value: [{ tag: 'BatchItem' }, { tag: 'BatchItem', value: [{ tag: 'Operation', type: 'Enumeration', value: 'Nope' }] }] },
      '/RequestMessage/BatchItem[2]/Operation',
      'not a valid Enumeration',
    ],
    [{ tag: 'BatchCount', type: 'Integer' }, '/BatchCount', 'value missing'],
    [{ tag: 'BatchCount', type: 'integer', value: 1 }, '/BatchCount', 'unknown item type'],
    [{ tag: 'BatchItem', value: {} }, '/BatchItem', 'must be an array'],
    [{ tag: 7, value: [] }, '/?', 'tag must be a string'],
  ])('%j', (json, where, reason) => {
    const e = errorOf(() => jsonToTtlv(json));
    expect(e.format).toBe('json');
    expect(e.path).toBe(where);
    expect(e.reason).toContain(reason);
  });

  it('reports text that is not JSON', () => {
    expect(errorOf(() => jsonTextToTtlv('{"tag":')).reason).toContain('not JSON');
  });
});
