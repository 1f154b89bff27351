// Full KMIP messages printed as hex in the OASIS KMIP 1.0 Use Cases and KMIP 1.1 Test Cases
// (as carried by NLnetLabs/kmip-protocol), and the byte strings of PyKMIP's unit tests:
// every well-formed one must decode and re-encode to the identical bytes, every malformed
// one must be refused with a TtlvError.
import { describe, expect, it } from 'vitest';
import { TtlvError, decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { StructureNode, TtlvErrorCode, TtlvNode } from '../../../src/ttlv/index.js';
import { hex, toHex } from '../../support/hex.js';
import { readVectorJson, vectorsDir } from '../../support/vectors-dir.js';

interface MessageSummary {
  top_level: 'RequestMessage' | 'ResponseMessage';
  length_bytes: number;
  protocol_version: string;
}
interface NlnetlabsFile {
  count: number;
  vectors: { id: string; direction: string; hex: string; decoded: MessageSummary }[];
}
interface PykmipEntry {
  source: { path: string; line: number };
  context: string;
  variable: string | null;
  hex: string;
  well_formed: boolean;
  decoded?: MessageSummary;
}
interface PykmipFile {
  messages: PykmipEntry[];
  structures: PykmipEntry[];
}

// Tag numbers from KMIP 1.4 §9.1.3.1 (Table 289), written out because ttlv/ knows no names.
const T = {
  RequestMessage: 0x420078,
  ResponseMessage: 0x42007b,
  RequestHeader: 0x420077,
  ResponseHeader: 0x42007a,
  ProtocolVersion: 0x420069,
  ProtocolVersionMajor: 0x42006a,
  ProtocolVersionMinor: 0x42006b,
  Authentication: 0x42000c,
  Credential: 0x420023,
  CredentialType: 0x420024,
  CredentialValue: 0x420025,
  Username: 0x420099,
  Password: 0x4200a1,
  BatchCount: 0x42000d,
  BatchItem: 0x42000f,
  Operation: 0x42005c,
  RequestPayload: 0x420079,
  ObjectType: 0x420057,
} as const;

function child(node: TtlvNode, tag: number): TtlvNode {
  if (node.type !== 'Structure') throw new Error(`0x${node.tag.toString(16)} is not a Structure`);
  const found = node.value.find((c) => c.tag === tag);
  if (!found) throw new Error(`no child 0x${tag.toString(16)} in 0x${node.tag.toString(16)}`);
  return found;
}

function protocolVersion(message: TtlvNode): string {
  const header = child(message, message.tag === T.RequestMessage ? T.RequestHeader : T.ResponseHeader);
  const version = child(header, T.ProtocolVersion);
  return `${child(version, T.ProtocolVersionMajor).value as number}.${child(version, T.ProtocolVersionMinor).value as number}`;
}

function expectRoundTrip(hexText: string): TtlvNode {
  const bytes = hex(hexText);
  const tree = decodeTtlv(bytes);
  expect(toHex(encodeTtlv(tree))).toBe(toHex(bytes));
  return tree;
}

function expectSummary(tree: TtlvNode, summary: MessageSummary): void {
  expect(tree.tag).toBe(T[summary.top_level]);
  expect(tree.type).toBe('Structure');
  expect(protocolVersion(tree)).toBe(summary.protocol_version);
}

function expectTtlvError(hexText: string, code: TtlvErrorCode, offset: number): void {
  let thrown: unknown;
  try {
    decodeTtlv(hex(hexText));
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TtlvError);
  expect({ code: (thrown as TtlvError).code, offset: (thrown as TtlvError).offset }).toEqual({ code, offset });
}

const vectors = vectorsDir();
const skipNote = vectors.available ? '' : ` (skipped: ${vectors.reason})`;

describe.skipIf(!vectors.available)(`NLnetLabs transcription of the KMIP 1.0 Use Cases / 1.1 Test Cases${skipNote}`, () => {
  const file = vectors.available
    ? readVectorJson<NlnetlabsFile>(vectors.dir, 'ttlv-hex/nlnetlabs-kmip-1.0-usecases-1.1-testcases.json')
    : { count: 0, vectors: [] };

  it('has all 75 messages', () => {
    expect(file.vectors).toHaveLength(75);
  });

  for (const v of file.vectors) {
    it(`${v.id} round-trips byte-exact`, () => {
      const tree = expectRoundTrip(v.hex);
      expect(hex(v.hex).length).toBe(v.decoded.length_bytes);
      expectSummary(tree, v.decoded);
    });
  }

  it('Use Case 11.1 step 1 (Create request of client A) has the fields the use case prints', () => {
    const v = file.vectors.find((x) => x.id === 'kmip_1_0_usecase_11_1_step_1_client_a_create_request_symmetric_key');
    expect(v).toBeDefined();
    const message = decodeTtlv(hex(v!.hex)) as StructureNode;
    expect(message.tag).toBe(0x420078);
    expect(message.value.map((c) => c.tag)).toEqual([T.RequestHeader, T.BatchItem]);

    const header = child(message, T.RequestHeader);
    const version = child(header, T.ProtocolVersion);
    expect(child(version, T.ProtocolVersionMajor)).toEqual({ tag: 0x42006a, type: 'Integer', value: 1 });
    expect(child(version, T.ProtocolVersionMinor)).toEqual({ tag: 0x42006b, type: 'Integer', value: 0 });
    const credential = child(child(header, T.Authentication), T.Credential);
    expect(child(credential, T.CredentialType)).toEqual({ tag: T.CredentialType, type: 'Enumeration', value: 1 });
    const credentialValue = child(credential, T.CredentialValue);
    expect(child(credentialValue, T.Username)).toEqual({ tag: T.Username, type: 'TextString', value: 'Fred' });
    expect(child(credentialValue, T.Password)).toEqual({ tag: T.Password, type: 'TextString', value: 'password1' });
    expect(child(header, T.BatchCount)).toEqual({ tag: T.BatchCount, type: 'Integer', value: 1 });

    const item = child(message, T.BatchItem);
    expect(child(item, T.Operation)).toEqual({ tag: T.Operation, type: 'Enumeration', value: 1 }); // Create
    expect(child(child(item, T.RequestPayload), T.ObjectType)).toEqual({ tag: T.ObjectType, type: 'Enumeration', value: 2 }); // Symmetric Key
  });
});

/**
 * PyKMIP negative-test encodings that the vector file marks well_formed: the extractor's walk
 * checks framing (headers, lengths, nesting) but not the value rules of §9.1.1.3/§9.1.1.4.
 * Each breaks one of those rules on purpose, so a strict decoder must refuse it.
 */
const markedWellFormedButMalformed: Record<string, { code: TtlvErrorCode; offset: number; why: string }> = {
  'core/primitives/test_boolean.py:108': { code: 'InvalidBoolean', offset: 8, why: 'Boolean value 0x02 (test_read_bad_value)' },
  'core/primitives/test_byte_string.py:140': { code: 'NonZeroPadding', offset: 11, why: 'Byte String 010203 padded with FF (test_read_on_invalid_padding)' },
  'core/primitives/test_enumeration.py:43': { code: 'BadLength', offset: 0, why: 'Enumeration of length 0 (encoding_bad_length)' },
  'core/primitives/test_enumeration.py:46': { code: 'NonZeroPadding', offset: 12, why: 'Enumeration padded with 000000FF (encoding_bad_padding)' },
  'core/primitives/test_integer.py:144': { code: 'BadLength', offset: 0, why: 'Integer of length 0 (test_read_on_invalid_length)' },
  'core/primitives/test_integer.py:157': { code: 'NonZeroPadding', offset: 12, why: 'Integer padded with FFFFFFFF (test_read_on_invalid_padding)' },
  'core/primitives/test_interval.py:38': { code: 'BadLength', offset: 0, why: 'Interval of length 5 (encoding_bad_length)' },
  'core/primitives/test_interval.py:41': { code: 'NonZeroPadding', offset: 12, why: 'Interval padded with 000000FF (encoding_bad_padding)' },
  'core/primitives/test_long_integer.py:167': { code: 'BadLength', offset: 0, why: 'Long Integer of length 0 (test_read_on_invalid_length)' },
  'core/primitives/test_text_string.py:137': { code: 'NonZeroPadding', offset: 19, why: '"Hello World" padded with FF (test_read_on_invalid_padding)' },
};

/**
 * Every entry marked well_formed=false, with why it is malformed. None turned out to be
 * well-formed TTLV: four are hand-edited payloads whose outer length was not updated after
 * fields were removed (they walk cleanly once the length is corrected), four were cut short
 * where PyKMIP appends the certificate bytes from another variable, the rest break a rule
 * on purpose.
 */
const markedMalformed: Record<string, { code: TtlvErrorCode; offset: number; why: string }> = {
  'services/test_kmip_client.py:1605': {
    code: 'LengthExceedsParent', offset: 88,
    why: 'Batch Item declares 128 bytes but its message has 40 left (response_no_payload)',
  },
  'core/messages/payloads/test_create.py:1179': {
    code: 'Truncated', offset: 0,
    why: 'Response Payload declares 80 bytes, holds 64: Unique Identifier removed, length kept',
  },
  'core/messages/payloads/test_get.py:806': {
    code: 'Truncated', offset: 0,
    why: 'Response Payload declares 160 bytes, holds 152: Object Type removed, length kept',
  },
  'core/messages/payloads/test_get_attribute_list.py:476': {
    code: 'Truncated', offset: 0,
    why: 'Response Payload declares 208 bytes, holds 192 (manual KMIP 2.0 conversion)',
  },
  'core/messages/payloads/test_get_attributes.py:98': {
    code: 'Truncated', offset: 0,
    why: 'Request Payload declares 208 bytes, holds 192 (manual KMIP 2.0 conversion)',
  },
  'core/messages/payloads/test_register.py:131': {
    code: 'Truncated', offset: 0,
    why: 'extract ends at the Certificate Value header (length 0x316); PyKMIP appends the bytes from another variable',
  },
  'core/messages/payloads/test_register.py:162': { code: 'Truncated', offset: 0, why: 'as test_register.py:131' },
  'core/messages/payloads/test_register.py:189': { code: 'Truncated', offset: 0, why: 'as test_register.py:131' },
  'core/messages/payloads/test_register.py:211': { code: 'Truncated', offset: 0, why: 'as test_register.py:131' },
  'core/misc/test_server_information.py:36': {
    code: 'BadLength', offset: 0,
    why: 'Structure of length 4 holding raw bytes: a Structure length is a multiple of 8',
  },
  'core/primitives/test_base.py:200': { code: 'UnknownType', offset: 0, why: 'type byte 0x00' },
  'core/primitives/test_base.py:123': { code: 'UnknownType', offset: 0, why: 'type byte 0x00' },
  'core/primitives/test_big_integer.py:68': { code: 'BadLength', offset: 0, why: 'Big Integer of length 257' },
  'core/primitives/test_boolean.py:97': { code: 'Truncated', offset: 0, why: 'Boolean header without its 8-byte value' },
};

function pykmipKey(e: PykmipEntry): string {
  return `${e.source.path.replace(/^kmip\/tests\/unit\//, '')}:${e.source.line}`;
}

describe.skipIf(!vectors.available)(`PyKMIP unit-test encodings${skipNote}`, () => {
  const file = vectors.available
    ? readVectorJson<PykmipFile>(vectors.dir, 'ttlv-hex/pykmip-unit-test-encodings.json')
    : { messages: [], structures: [] };
  const all = [...file.messages, ...file.structures];

  it('has 16 messages and 316 structures, keyed uniquely by file and line', () => {
    expect(file.messages).toHaveLength(16);
    expect(file.structures).toHaveLength(316);
    expect(new Set(all.map(pykmipKey)).size).toBe(all.length);
  });

  it('documents every entry marked well_formed=false, and only those', () => {
    const marked = all.filter((e) => e.well_formed === false).map(pykmipKey).sort();
    expect(marked).toEqual(Object.keys(markedMalformed).sort());
  });

  for (const e of all) {
    const key = pykmipKey(e);
    const name = `${key} ${e.context} ${e.variable ?? ''}`;
    const malformed = markedMalformed[key] ?? markedWellFormedButMalformed[key];
    if (malformed) {
      it(`${name} is refused: ${malformed.why}`, () => {
        expect(e.well_formed).toBe(key in markedWellFormedButMalformed);
        expectTtlvError(e.hex, malformed.code, malformed.offset);
      });
    } else {
      it(`${name} round-trips byte-exact`, () => {
        expect(e.well_formed).toBe(true);
        const tree = expectRoundTrip(e.hex);
        if (e.decoded) expectSummary(tree, e.decoded);
      });
    }
  }
});
