// KMIP XML encoding (KMIP Additional Message Encodings v1.0 §6.1). Expected bytes are the hex the
// spec prints under MSGENC-XML-M-1-10 (§7.1.1); value examples are those of §6.1.6.
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv, type TtlvNode } from '../../../src/ttlv/index.js';
import { EncodingError } from '../../../src/kmip/encodings/encoding-error.js';
import {
  formatXml,
  parseXml,
  ttlvToXml,
  ttlvToXmlElement,
  xmlDocumentElements,
  xmlDocumentMessages,
  xmlToTtlv,
  type XmlValueSite,
} from '../../../src/kmip/encodings/xml.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';
import { hex, toHex } from '../../support/hex.js';
import { QUERY_REQUEST_HEX_LINES, QUERY_REQUEST_XML } from '../../support/msgenc-examples.js';

const QUERY_REQUEST_HEX = QUERY_REQUEST_HEX_LINES.join('\n');

// MSGENC-XML-M-1-10, TIME 0 response (lines 0018–0032).
const TOO_LARGE_RESPONSE_XML = `<ResponseMessage>
  <ResponseHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="0"/>
    </ProtocolVersion>
    <TimeStamp type="DateTime" value="2013-06-26T09:09:17+00:00"/>
    <BatchCount type="Integer" value="1"/>
  </ResponseHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Query"/>
    <ResultStatus type="Enumeration" value="OperationFailed"/>
    <ResultReason type="Enumeration" value="ResponseTooLarge"/>
    <ResultMessage type="TextString" value="TOO_LARGE"/>
  </BatchItem>
</ResponseMessage>`;

const TOO_LARGE_RESPONSE_HEX = `
  42007b01000000a042007a0100000048420069010000002042006a02000000040000000100000000
  42006b0200000004000000000000000042009209000000080000000051caafbd42000d0200000004
  000000010000000042000f010000004842005c0500000004000000180000000042007f0500000004
  000000010000000042007e0500000004000000020000000042007d0700000009544f4f5f4c415247
  4500000000000000`;

function one(xml: string): TtlvNode {
  const roots = parseXml(xml);
  expect(roots).toHaveLength(1);
  return xmlToTtlv(roots[0]!);
}

function errorOf(f: () => unknown): EncodingError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(EncodingError);
    return err as EncodingError;
  }
  throw new Error('expected an EncodingError');
}

describe('MSGENC-XML-M-1-10 (§7.1.1): XML ↔ the spec hex', () => {
  it('encodes the Query request to the spec bytes', () => {
    expect(toHex(encodeTtlv(one(QUERY_REQUEST_XML)))).toBe(toHex(hex(QUERY_REQUEST_HEX)));
  });

  it('encodes the Response Too Large response to the spec bytes', () => {
    expect(toHex(encodeTtlv(one(TOO_LARGE_RESPONSE_XML)))).toBe(toHex(hex(TOO_LARGE_RESPONSE_HEX)));
  });

  it('writes the spec bytes back as the spec XML, character for character', () => {
    expect(ttlvToXml(decodeTtlv(hex(QUERY_REQUEST_HEX)))).toBe(QUERY_REQUEST_XML);
    expect(ttlvToXml(decodeTtlv(hex(TOO_LARGE_RESPONSE_HEX)))).toBe(TOO_LARGE_RESPONSE_XML);
  });

  it('writes one line with indent 0', () => {
    expect(ttlvToXml(decodeTtlv(hex(QUERY_REQUEST_HEX)), { indent: 0 })).toBe(QUERY_REQUEST_XML.replace(/\n\s*/g, ''));
  });
});

describe('§6.1.6 element forms', () => {
  const activation = { tag: Tag.ActivationDate, type: 'DateTime', value: 978307200n } as const; // 2001-01-01T00:00:00Z

  it('reads the generic TTLV form and the named form alike', () => {
    expect(one('<TTLV tag="0x420001" name="ActivationDate" type="DateTime" value="2001-01-01T10:00:00+10:00"/>')).toEqual(activation);
    expect(one('<TTLV tag="0x420001" type="DateTime" value="2001-01-01T10:00:00+10:00"/>')).toEqual(activation);
    expect(one('<ActivationDate type="DateTime" value="2001-01-01T10:00:00+10:00"/>')).toEqual(activation);
    expect(one('<ActivationDate xmlns="urn:oasis:tc:kmip:xmlns" type="DateTime" value="2001-01-01T10:00:00+10:00"/>')).toEqual(activation);
    expect(one('<k:ActivationDate xmlns:k="urn:oasis:tc:kmip:xmlns" type="DateTime" value="2001-01-01T00:00:00Z"/>')).toEqual(activation);
    // The tag attribute may also hold a normalised name (§6.1.6.1).
    expect(one('<TTLV tag="ActivationDate" type="DateTime" value="2001-01-01T00:00:00Z"/>')).toEqual(activation);
  });

  it('uses the TTLV form for tags the registry does not know', () => {
    const ext = one('<TTLV tag="0x54FFFF" name="SomeExtension" type="DateTime" value="2001-01-01T10:00:00+10:00"/>');
    expect(ext).toEqual({ ...activation, tag: 0x54ffff });
    expect(ttlvToXml(ext)).toBe('<TTLV tag="0x54ffff" type="DateTime" value="2001-01-01T00:00:00+00:00"/>');
    expect(one('<TTLV tag="0x545352" type="TextString" value="This is an extension"/>')).toEqual({
      tag: 0x545352,
      type: 'TextString',
      value: 'This is an extension',
    });
  });

  it('reads Structures with or without type, and empty ones (§6.1.6.2)', () => {
    const version = {
      tag: Tag.ProtocolVersion,
      type: 'Structure',
      value: [
        { tag: Tag.ProtocolVersionMajor, type: 'Integer', value: 1 },
        { tag: Tag.ProtocolVersionMinor, type: 'Integer', value: 0 },
      ],
    };
    const body = '<ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="0"/>';
    expect(one(`<ProtocolVersion type="Structure">${body}</ProtocolVersion>`)).toEqual(version);
    expect(one(`<ProtocolVersion>\n  ${body}\n</ProtocolVersion>`)).toEqual(version);
    expect(one('<PrivateKeyTemplateAttribute type="Structure"/>')).toEqual({ tag: Tag.PrivateKeyTemplateAttribute, type: 'Structure', value: [] });
    expect(ttlvToXml({ tag: Tag.PrivateKeyTemplateAttribute, type: 'Structure', value: [] })).toBe('<PrivateKeyTemplateAttribute/>');
  });
});

describe('§6.1.6 value forms', () => {
  it('Integer: xsd:int (§6.1.6.3), also 32-bit hex (§6.1.1)', () => {
    expect(one('<BatchCount type="Integer" value="10"/>')).toEqual({ tag: Tag.BatchCount, type: 'Integer', value: 10 });
    expect(one('<BatchCount type="Integer" value="0xffffffff"/>')).toMatchObject({ value: -1 });
    expect(one('<BatchCount type="Integer" value="-2147483648"/>')).toMatchObject({ value: -2147483648 });
    expect(() => one('<BatchCount type="Integer" value="2147483648"/>')).toThrow(EncodingError);
    expect(() => one('<BatchCount type="Integer" value="Encrypt"/>')).toThrow(EncodingError);
  });

  it('Integer masks: every §6.1.6.4 example is 0x100c; written symbolically', () => {
    for (const value of ['0x0000100c', 'Encrypt Decrypt CertificateSign', 'CertificateSign 0x00000004 0x0000008', 'CertificateSign 0x0000000c']) {
      expect(one(`<CryptographicUsageMask type="Integer" value="${value}"/>`)).toEqual({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x100c });
    }
    expect(ttlvToXml({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x100c })).toBe(
      '<CryptographicUsageMask type="Integer" value="Encrypt Decrypt CertificateSign"/>',
    );
    // Bits without a name stay visible as one hex component; zero stays a number.
    expect(ttlvToXml({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x40000004 })).toContain('value="Encrypt 0x40000000"');
    expect(ttlvToXml({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0 })).toContain('value="0"');
    expect(ttlvToXml({ tag: Tag.StorageStatusMask, type: 'Integer', value: 3 })).toContain('value="OnLineStorage ArchivalStorage"');
    expect(() => one('<CryptographicUsageMask type="Integer" value="Encrypt Bogus"/>')).toThrow(EncodingError);
  });

  it('Long Integer: xsd:long (§6.1.6.5), including the x540001 element form', () => {
    expect(one('<x540001 type="LongInteger" value="-2"/>')).toEqual({ tag: 0x540001, type: 'LongInteger', value: -2n });
    expect(one('<UsageLimitsCount type="LongInteger" value="1152921504606846976"/>')).toEqual({
      tag: Tag.UsageLimitsCount,
      type: 'LongInteger',
      value: 1n << 60n,
    });
    expect(ttlvToXml({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: -(1n << 63n) })).toContain('value="-9223372036854775808"');
    expect(() => one('<UsageLimitsCount type="LongInteger" value="9223372036854775808"/>')).toThrow(EncodingError);
  });

  it('Big Integer: two\'s complement hexBinary, sign-extended to 8-byte multiples (§6.1.6.6)', () => {
    expect(one('<Modulus type="BigInteger" value="0000000000000000"/>')).toEqual({ tag: Tag.Modulus, type: 'BigInteger', value: 0n });
    expect(one('<Modulus type="BigInteger" value="FFFFFFFFFFFFFFFF"/>')).toMatchObject({ value: -1n });
    expect(one('<Modulus type="BigInteger" value="00000000000000008000000000000000"/>')).toMatchObject({ value: 1n << 63n });
    const write = (value: bigint) => ttlvToXmlElement({ tag: Tag.Modulus, type: 'BigInteger', value }).attrs['value'];
    expect(write(0n)).toBe('0000000000000000');
    expect(write(-1n)).toBe('ffffffffffffffff');
    expect(write(1n << 63n)).toBe('00000000000000008000000000000000');
    expect(write(-(1n << 63n))).toBe('8000000000000000');
  });

  it('Enumeration: CamelCase name or hex (§6.1.6.7); unnamed values written as hex', () => {
    expect(one('<ObjectType type="Enumeration" value="0x00000002"/>')).toEqual({ tag: Tag.ObjectType, type: 'Enumeration', value: 2 });
    expect(one('<ObjectType type="Enumeration" value="SymmetricKey"/>')).toEqual({ tag: Tag.ObjectType, type: 'Enumeration', value: 2 });
    expect(ttlvToXml({ tag: Tag.ObjectType, type: 'Enumeration', value: 2 })).toBe('<ObjectType type="Enumeration" value="SymmetricKey"/>');
    expect(ttlvToXml({ tag: Tag.OpaqueDataType, type: 'Enumeration', value: 0x80000001 })).toContain('value="0x80000001"');
    expect(ttlvToXml({ tag: 0x540002, type: 'Enumeration', value: 7 })).toBe('<TTLV tag="0x540002" type="Enumeration" value="0x00000007"/>');
    // Decimal is not an Enumeration form; a name from another enumeration is not this one's.
    expect(() => one('<ObjectType type="Enumeration" value="2"/>')).toThrow(EncodingError);
    expect(() => one('<ObjectType type="Enumeration" value="AES"/>')).toThrow(EncodingError);
  });

  it('Boolean, Text String, Byte String, Date-Time, Interval (§6.1.6.8–12)', () => {
    expect(one('<BatchOrderOption type="Boolean" value="true"/>')).toEqual({ tag: Tag.BatchOrderOption, type: 'Boolean', value: true });
    expect(one('<BatchOrderOption type="Boolean" value="0"/>')).toMatchObject({ value: false });
    expect(one('<AttributeName type="TextString" value="Cryptographic Algorithm"/>')).toEqual({
      tag: Tag.AttributeName,
      type: 'TextString',
      value: 'Cryptographic Algorithm',
    });
    const mac = one('<MACSignature type="ByteString" value="C50F77"/>');
    expect(mac).toEqual({ tag: Tag.MACSignature, type: 'ByteString', value: new Uint8Array([0xc5, 0x0f, 0x77]) });
    expect(ttlvToXml(mac)).toBe('<MACSignature type="ByteString" value="c50f77"/>');
    expect(one('<ArchiveDate type="DateTime" value="2001-01-01T10:00:00+10:00"/>')).toEqual({ tag: Tag.ArchiveDate, type: 'DateTime', value: 978307200n });
    expect(one('<Offset type="Interval" value="27"/>')).toEqual({ tag: Tag.Offset, type: 'Interval', value: 27 });
    expect(() => one('<MACSignature type="ByteString" value="C50F7"/>')).toThrow(EncodingError);
    expect(() => one('<ArchiveDate type="DateTime" value="2001-02-30T00:00:00Z"/>')).toThrow(EncodingError);
  });

  it('Date-Time: fractions truncated, no zone read as UTC, any signed 64-bit value written', () => {
    expect(one('<ArchiveDate type="DateTime" value="1969-12-31T23:59:59.9Z"/>')).toMatchObject({ value: -1n });
    expect(one('<ArchiveDate type="DateTime" value="2001-01-01T00:00:00"/>')).toMatchObject({ value: 978307200n });
    const write = (value: bigint) => ttlvToXmlElement({ tag: Tag.ArchiveDate, type: 'DateTime', value }).attrs['value']!;
    expect(write(0n)).toBe('1970-01-01T00:00:00+00:00');
    expect(write(951782400n)).toBe('2000-02-29T00:00:00+00:00');
    expect(write(-62135596800n)).toBe('0001-01-01T00:00:00+00:00');
    for (const value of [(1n << 63n) - 1n, -(1n << 63n), -62135596801n, 253402300800n]) {
      expect(one(`<ArchiveDate type="DateTime" value="${write(value)}"/>`)).toMatchObject({ value });
    }
  });

  it('Date-Time Extended: xsd:dateTime with microseconds', () => {
    const node = { tag: Tag.TimeStamp, type: 'DateTimeExtended', value: 978307200_000_001n } as const;
    expect(ttlvToXml(node)).toBe('<TimeStamp type="DateTimeExtended" value="2001-01-01T00:00:00.000001+00:00"/>');
    expect(one(ttlvToXml(node))).toEqual(node);
    expect(one('<TimeStamp type="DateTimeExtended" value="1969-12-31T23:59:59.999999Z"/>')).toMatchObject({ value: -1n });
  });
});

describe('enumerations named by context', () => {
  it('1.x AttributeValue takes the enumeration or mask of its sibling AttributeName', () => {
    const attr = one(`<Attribute>
      <AttributeName type="TextString" value="Cryptographic Algorithm"/>
      <AttributeValue type="Enumeration" value="AES"/>
    </Attribute>`);
    expect(attr).toEqual({
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Algorithm' },
        { tag: Tag.AttributeValue, type: 'Enumeration', value: Enum.CryptographicAlgorithm.AES },
      ],
    });
    expect(ttlvToXml(attr)).toContain('<AttributeValue type="Enumeration" value="AES"/>');
    // The value may come first, and 1.0–1.2 vectors put runs of spaces in the name.
    const mask = one(`<Attribute><AttributeValue type="Integer" value="Decrypt Encrypt"/>
      <AttributeName type="TextString" value="Cryptographic   Usage Mask"/></Attribute>`);
    expect(mask.type === 'Structure' && mask.value[0]).toEqual({ tag: Tag.AttributeValue, type: 'Integer', value: 12 });
    expect(ttlvToXml(mask)).toContain('<AttributeValue type="Integer" value="Encrypt Decrypt"/>');
  });

  it('an AttributeValue of a custom or vendor attribute has no names', () => {
    expect(() => one('<Attribute><AttributeName type="TextString" value="x-mine"/><AttributeValue type="Enumeration" value="AES"/></Attribute>')).toThrow(
      EncodingError,
    );
    const vendor: TtlvNode = {
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.VendorIdentification, type: 'TextString', value: 'x' },
        { tag: Tag.AttributeName, type: 'TextString', value: 'State' },
        { tag: Tag.AttributeValue, type: 'Enumeration', value: 1 },
      ],
    };
    expect(ttlvToXml(vendor)).toContain('<AttributeValue type="Enumeration" value="0x00000001"/>');
  });

  it('2.x AttributeReference values are tag names (Tag Enumeration)', () => {
    const ref = one('<AttributeReference type="Enumeration" value="CryptographicAlgorithm"/>');
    expect(ref).toEqual({ tag: Tag.AttributeReference, type: 'Enumeration', value: Tag.CryptographicAlgorithm });
    expect(ttlvToXml(ref)).toBe('<AttributeReference type="Enumeration" value="CryptographicAlgorithm"/>');
    expect(ttlvToXml({ tag: Tag.AttributeReference, type: 'Enumeration', value: 0x540001 })).toContain('value="0x00540001"');
  });
});

describe('XML reader', () => {
  it('handles the prolog, comments, self-closing tags, single quotes and references', () => {
    const roots = parseXml(`\uFEFF<?xml version="1.0" encoding="UTF-8"?>
<!-- header -->
<A x='1' y="&lt;&amp;&gt;&quot;&apos;&#913;&#x3A9;">
  <B/><!-- c --><C z="a\tb\r\nc"></C>
  free text is ignored <![CDATA[ <also> ]]>
</A>`);
    expect(roots).toEqual([
      {
        name: 'A',
        attrs: { x: '1', y: `<&>"'ΑΩ` },
        children: [
          { name: 'B', attrs: {}, children: [] },
          { name: 'C', attrs: { z: 'a b c' }, children: [] },
        ],
      },
    ]);
    expect(parseXml('<A/><B/>').map((e) => e.name)).toEqual(['A', 'B']);
  });

  it('keeps tab, newline and markup characters through a write and a read', () => {
    const node = { tag: Tag.ApplicationData, type: 'TextString', value: 'a\tb\nc\r"<&>\' Ω 😀' } as const;
    expect(one(ttlvToXml(node))).toEqual(node);
    expect(formatXml({ name: 'A', attrs: { v: 'a\nb' }, children: [] })).toBe('<A v="a&#10;b"/>');
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    const e = errorOf(() => ttlvToXml({ tag: Tag.ApplicationData, type: 'TextString', value: 'a\u0001' }));
    expect(e.path).toBe('/ApplicationData');
    expect(() => parseXml('<A v="&#1;"/>')).toThrow(EncodingError);
  });

  it.each([
    ['<A></B>', '</B> does not match <A>', 'line 1, column 4'],
    ['<A>\n  <B>\n</A>', '</A> does not match <B>', 'line 3, column 1'],
    ['<A x="1" x="2"/>', 'attribute x given twice', 'line 1, column 10'],
    ['<A x="&nbsp;"/>', 'unknown entity &nbsp;', undefined],
    ['<A x="a & b"/>', "'&' must start", undefined],
    ['<A x="<"/>', "'<' in the value", undefined],
    ['<A x=1/>', 'needs a quoted value', undefined],
    ['<A', 'unterminated start tag', undefined],
    ['<A>', '<A> is not closed', undefined],
    ['<!DOCTYPE A><A/>', 'DOCTYPE', undefined],
    ['text<A/>', 'text outside any element', undefined],
    ['<A/></A>', '</A> closes nothing', undefined],
    ['<A/><?xml version="1.0"?>', 'XML declaration must come first', undefined],
    ['<!-- open', 'unterminated comment', undefined],
  ])('rejects %j', (xml, reason, where) => {
    const e = errorOf(() => parseXml(xml));
    expect(e.format).toBe('xml');
    expect(e.reason).toContain(reason);
    if (where) expect(e.path).toBe(where);
  });

  it('tolerates stray top-level end tags only when asked', () => {
    expect(parseXml('<KMIP/>\n</KMIP>', { allowStrayEndTags: true })).toHaveLength(1);
  });
});

describe('conversion errors carry the element path', () => {
  it.each([
    ['<RequestMessage><Bogus type="Integer" value="1"/></RequestMessage>', '/RequestMessage/Bogus', 'unknown tag name Bogus'],
    [
      '<RequestMessage><BatchItem/><BatchItem><Operation type="Enumeration" value="Nope"/></BatchItem></RequestMessage>',
      '/RequestMessage/BatchItem[2]/Operation',
      '"Nope" is not a valid Enumeration',
    ],
    ['<BatchCount type="Integer"/>', '/BatchCount', 'value attribute missing'],
    ['<BatchCount type="Int" value="1"/>', '/BatchCount', 'unknown item type'],
    ['<BatchItem value="1"/>', '/BatchItem', 'a Structure has no value attribute'],
    ['<BatchCount type="Integer" value="1"><A/></BatchCount>', '/BatchCount', 'no child elements'],
    ['<TTLV type="Integer" value="1"/>', '/TTLV', 'needs a tag attribute'],
    ['<TTLV tag="0x5401" type="Integer" value="1"/>', '/TTLV', 'unknown tag'],
  ])('%s', (xml, where, reason) => {
    const e = errorOf(() => one(xml));
    expect(e.path).toBe(where);
    expect(e.reason).toContain(reason);
    expect(e.message).toContain(where);
  });
});

describe('xmlDocumentMessages', () => {
  const doc = `<KMIP>
<!-- OASIS header -->
#
# free text some vector files carry
#
${QUERY_REQUEST_XML}
${TOO_LARGE_RESPONSE_XML.replace('2013-06-26T09:09:17+00:00', '$NOW').replace('TOO_LARGE', '$MESSAGE')}
</KMIP>
</KMIP>`;

  it('returns the messages of a <KMIP> document, substituting placeholders through mapValue', () => {
    const sites: XmlValueSite[] = [];
    const messages = xmlDocumentMessages(doc, {
      mapValue: (value, site) => {
        if (value.startsWith('$')) sites.push(site);
        return value === '$NOW' ? '2013-06-26T09:09:17+00:00' : value === '$MESSAGE' ? 'TOO_LARGE' : value;
      },
    });
    expect(messages.map((m) => toHex(encodeTtlv(m)))).toEqual([toHex(hex(QUERY_REQUEST_HEX)), toHex(hex(TOO_LARGE_RESPONSE_HEX))]);
    expect(sites.map((s) => [s.path, s.type, s.tag])).toEqual([
      ['/KMIP/ResponseMessage/ResponseHeader/TimeStamp', 'DateTime', Tag.TimeStamp],
      ['/KMIP/ResponseMessage/BatchItem/ResultMessage', 'TextString', Tag.ResultMessage],
    ]);
    expect(xmlDocumentElements(doc).map((e) => e.name)).toEqual(['RequestMessage', 'ResponseMessage']);
  });

  it('names the failing element, and can be strict about stray end tags', () => {
    const e = errorOf(() => xmlDocumentMessages(doc));
    expect(e.path).toBe('/KMIP/ResponseMessage/ResponseHeader/TimeStamp');
    expect(() => xmlDocumentMessages(doc, { allowStrayEndTags: false })).toThrow(/closes nothing/);
  });

  it('accepts bare top-level messages without a <KMIP> wrapper', () => {
    expect(xmlDocumentMessages(`${QUERY_REQUEST_XML}\n${QUERY_REQUEST_XML}`)).toHaveLength(2);
  });
});
