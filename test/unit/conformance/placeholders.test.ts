// Placeholder grammar, $NOW offsets and the text a binding is spliced back as
// (src/conformance/placeholders.ts), plus what vector-file.ts makes of whole files.
import { describe, expect, it } from 'vitest';
import { leafKey, leafText, literalKey, neutralText, nowText, parsePlaceholder, type LeafNode } from '../../../src/conformance/placeholders.js';
import { parseVectorFile } from '../../../src/conformance/vector-file.js';
import { parseXml, xmlToTtlv } from '../../../src/kmip/encodings/xml.js';
import { parseIsoMicros } from '../../../src/kmip/encodings/lexical.js';
import { Tag } from '../../../src/kmip/registry.js';
import { ItemType, type ItemTypeName } from '../../../src/ttlv/index.js';
import { bytes, en, ok, req, reqItem, resp, symmetricKey, uid, vector } from './fake-kmip.js';

describe('parsePlaceholder', () => {
  it('reads $NOW with and without offsets', () => {
    expect(parsePlaceholder('$NOW')).toEqual({ kind: 'now', text: '$NOW', offsetSeconds: 0 });
    expect(parsePlaceholder('$NOW-3600')).toEqual({ kind: 'now', text: '$NOW-3600', offsetSeconds: -3600 });
    expect(parsePlaceholder('$NOW+20')).toEqual({ kind: 'now', text: '$NOW+20', offsetSeconds: 20 });
  });

  it('tells identifiers from server-chosen values', () => {
    expect(parsePlaceholder('$UNIQUE_IDENTIFIER_0')?.kind).toBe('identifier');
    expect(parsePlaceholder('$UNIQUE_IDENTIFIER_12')?.kind).toBe('identifier');
    expect(parsePlaceholder('$UNIQUE_IDENTIFIER')?.kind).toBe('identifier');
    expect(parsePlaceholder('$IV_COUNTER_NONCE')?.kind).toBe('server-value');
    expect(parsePlaceholder('$DATA_25')?.kind).toBe('server-value');
  });

  it('leaves literals alone', () => {
    expect(parsePlaceholder('SKLC-M-1-14')).toBeUndefined();
    expect(parsePlaceholder('$lower')).toBeUndefined();
    expect(parsePlaceholder('$NOW-')).toBeUndefined();
    expect(parsePlaceholder('x$NOW')).toBeUndefined();
  });
});

describe('nowText', () => {
  const t = Date.UTC(2024, 4, 1, 12, 0, 0, 250);

  it('writes the current time plus the offset', () => {
    expect(nowText('DateTime', 0, t)).toBe('2024-05-01T12:00:00+00:00');
    expect(nowText('DateTime', -3600, t)).toBe('2024-05-01T11:00:00+00:00');
    expect(nowText('DateTime', 20, t)).toBe('2024-05-01T12:00:20+00:00');
  });

  it('keeps milliseconds for Date-Time Extended', () => {
    expect(parseIsoMicros(nowText('DateTimeExtended', -1, t)!)).toBe(BigInt(t - 1000) * 1000n);
  });

  it('refuses other item types', () => {
    expect(nowText('Integer', 0, t)).toBeUndefined();
  });
});

describe('leafText round-trips through the XML reader', () => {
  const cases: LeafNode[] = [
    { tag: Tag.CryptographicLength, type: 'Integer', value: -5 },
    { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: -(1n << 40n) },
    { tag: Tag.Modulus, type: 'BigInteger', value: -(1n << 70n) },
    { tag: Tag.ObjectType, type: 'Enumeration', value: 0x80000001 },
    { tag: Tag.Sensitive, type: 'Boolean', value: true },
    { tag: Tag.UniqueIdentifier, type: 'TextString', value: ' spaced & <odd> ' },
    { tag: Tag.Data, type: 'ByteString', value: new Uint8Array([0, 0xff, 0x10]) },
    { tag: Tag.ActivationDate, type: 'DateTime', value: 946684800n },
    { tag: Tag.ActivationDate, type: 'DateTimeExtended', value: 946684800123456n },
    { tag: Tag.LeaseTime, type: 'Interval', value: 4294967295 },
  ];
  for (const node of cases) {
    it(node.type, () => {
      const el = { name: 'TTLV', attrs: { tag: `0x${node.tag.toString(16)}`, type: node.type, value: leafText(node) }, children: [] };
      expect(xmlToTtlv(el)).toEqual(node);
    });
  }

  it('has a neutral value every item type parses', () => {
    for (const type of Object.keys(ItemType) as ItemTypeName[]) {
      if (type === 'Structure') continue;
      expect(() => xmlToTtlv({ name: 'TTLV', attrs: { tag: '0x540000', type, value: neutralText(type) }, children: [] })).not.toThrow();
    }
  });
});

describe('literal keys', () => {
  it('match byte strings regardless of hex case', () => {
    const node: LeafNode = { tag: Tag.IVCounterNonce, type: 'ByteString', value: new Uint8Array([0xff, 0x02]) };
    expect(literalKey('ByteString', 'FF02')).toBe(leafKey(node));
  });

  it('exist only for strings', () => {
    expect(literalKey('Integer', '5')).toBeUndefined();
  });
});

describe('parseVectorFile', () => {
  const create = req(reqItem('Create', en('ObjectType', 'SymmetricKey')));
  const created = resp([ok('Create', en('ObjectType', 'SymmetricKey') + uid('$UNIQUE_IDENTIFIER_0'))]);

  it('pairs requests with expected responses and reads the version', () => {
    const vf = parseVectorFile(vector(create, created, create, created), '/x/SKLC-M-1-14.xml');
    expect(vf.skip).toBeUndefined();
    expect(vf.id).toBe('SKLC-M-1-14');
    expect(vf.steps.map((s) => s.index)).toEqual([1, 2]);
    expect(vf.version).toEqual({ major: 1, minor: 4 });
  });

  it('skips server-to-client operations', () => {
    const put = req(reqItem('Put', uid('$UNIQUE_IDENTIFIER_0') + en('PutFunction', 'New')));
    expect(parseVectorFile(vector(create, created, put, resp([ok('Put', '')])), 'TC-NP-1-14.xml').skip).toMatch(/server-to-client operation Put/);
  });

  it('skips files whose messages are out of order, unpaired or unreadable', () => {
    expect(parseVectorFile(vector(create, create, created, created), 'a.xml').skip).toMatch(/out of order/);
    expect(parseVectorFile(vector(create), 'a.xml').skip).toMatch(/no expected response/);
    expect(parseVectorFile('<KMIP><RequestMessage>', 'a.xml').skip).toMatch(/not readable as XML/);
    expect(parseVectorFile(vector(create.replace('SymmetricKey', 'NoSuchType'), created), 'a.xml').skip).toMatch(/request 1 cannot be read/);
    expect(parseVectorFile(vector(create, created.replace('value="Create"', 'value="$NOW"')), 'a.xml').skip).toMatch(/expected response 1/);
  });

  it('steps over the stray </KMIP> of TC-ECDSA-SIGN-1-14', () => {
    expect(parseVectorFile(`${vector(create, created)}\n</KMIP>`, 'a.xml').skip).toBeUndefined();
  });

  it('finds literals the server produced that a later request replays', () => {
    const encrypt = req(reqItem('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '01')));
    const encrypted = resp([ok('Encrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'E768') + bytes('IVCounterNonce', 'ff02'))]);
    const decrypt = req(reqItem('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', 'e768') + bytes('IVCounterNonce', 'FF02')));
    const decrypted = resp([ok('Decrypt', uid('$UNIQUE_IDENTIFIER_0') + bytes('Data', '01'))]);
    const vf = parseVectorFile(vector(create, created, encrypt, encrypted, decrypt, decrypted), 'a.xml');
    // Data 01 was sent before it came back, so it is not a capture; the ciphertext and IV are.
    expect([...vf.captures.values()].sort()).toEqual(['ByteString:e768', 'ByteString:ff02']);
  });

  it('does not capture what no later request sends', () => {
    const get = req(reqItem('Get', uid('$UNIQUE_IDENTIFIER_0')));
    const got = resp([ok('Get', uid('$UNIQUE_IDENTIFIER_0') + symmetricKey('00112233'))]);
    expect(parseVectorFile(vector(create, created, get, got), 'a.xml').captures.size).toBe(0);
  });

  it('keeps placeholders of expected responses in a side table', async () => {
    const { convertExpected } = await import('../../../src/conformance/vector-file.js');
    const expected = convertExpected(parseXml(created)[0]!, new Map());
    expect([...expected.notes.values()].map((n) => n.placeholder?.text).sort()).toEqual(['$NOW', '$UNIQUE_IDENTIFIER_0']);
  });
});
