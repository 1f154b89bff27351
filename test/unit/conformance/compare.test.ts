// The response comparator and its leniency rules (src/conformance/compare.ts, rules.ts). Every
// leniency has a case that passes and a case showing a real difference is still caught.
import { describe, expect, it } from 'vitest';
import { compareResponse, type Difference } from '../../../src/conformance/compare.js';
import { Bindings } from '../../../src/conformance/placeholders.js';
import type { ItemContext } from '../../../src/conformance/rules.js';
import { convertExpected } from '../../../src/conformance/vector-file.js';
import { parseXml } from '../../../src/kmip/encodings/xml.js';
import { parseIsoMicros } from '../../../src/kmip/encodings/lexical.js';
import type { StructureNode } from '../../../src/ttlv/index.js';
import { attr, bytes, date, en, failed, int, ok, resp, text, ttlv, uid } from './fake-kmip.js';

const T0 = BigInt(parseIsoMicros('2024-05-01T12:00:00Z')! / 1_000_000n);
const window = { fromSeconds: T0 - 10n, toSeconds: T0 + 10n };
const NOW = '2024-05-01T12:00:00+00:00';

function ctx(partial: Partial<ItemContext> = {}): ItemContext {
  return { operation: undefined, randomMaterial: false, serverChoseIv: false, requestData: 'none', requestPayload: undefined, ...partial };
}

function compare(expectedXml: string, actualXml: string, contexts: ItemContext[] = [ctx()], bindings = new Bindings(), captures = new Map()): Difference | undefined {
  const expected = convertExpected(parseXml(expectedXml)[0]!, captures);
  return compareResponse(expected, ttlv(actualXml), bindings, window, contexts);
}

/** Expected (with placeholders) vs actual (literal), one Success item. */
function payloadPair(expectedPayload: string, actualPayload: string, op = 'Get'): [string, string] {
  return [resp([ok(op, expectedPayload)]), resp([ok(op, actualPayload)], '', NOW)];
}

describe('exact comparison', () => {
  it('passes identical responses', () => {
    const [e, a] = payloadPair(uid('k1') + en('ObjectType', 'SymmetricKey'), uid('k1') + en('ObjectType', 'SymmetricKey'));
    expect(compare(e, a)).toBeUndefined();
  });

  it('catches a wrong value, with the XML path', () => {
    const [e, a] = payloadPair(uid('k1'), uid('k2'));
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResponsePayload/UniqueIdentifier', expected: 'k1', actual: 'k2' });
  });

  it('catches a wrong enumeration, by name', () => {
    const [e, a] = payloadPair(en('ObjectType', 'SymmetricKey'), en('ObjectType', 'SecretData'));
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResponsePayload/ObjectType', expected: 'SymmetricKey', actual: 'SecretData' });
  });

  it('catches a missing field', () => {
    const [e, a] = payloadPair(en('ObjectType', 'SymmetricKey') + uid('k1'), en('ObjectType', 'SymmetricKey'));
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResponsePayload/UniqueIdentifier', expected: 'UniqueIdentifier=k1', actual: 'nothing' });
  });

  it('catches an extra field in a payload', () => {
    const [e, a] = payloadPair(uid('k1'), uid('k1') + text('VendorIdentification', 'x'));
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResponsePayload/VendorIdentification', expected: 'nothing', actual: 'VendorIdentification=x' });
  });

  it('catches a wrong item type', () => {
    const [e, a] = payloadPair(int('CryptographicLength', 128), '<CryptographicLength type="LongInteger" value="128"/>');
    expect(compare(e, a)?.expected).toBe('Integer');
  });

  it('catches fields out of order outside attribute lists', () => {
    const [e, a] = payloadPair(en('ObjectType', 'SymmetricKey') + uid('k1'), uid('k1') + en('ObjectType', 'SymmetricKey'));
    expect(compare(e, a)).toMatchObject({ path: 'BatchItem/ResponsePayload/UniqueIdentifier', expected: 'nothing' });
  });

  it('numbers repeated siblings in paths', () => {
    const e = resp([ok('Locate', uid('a') + uid('b'))]);
    const a = resp([ok('Locate', uid('a') + uid('c'))], '', NOW);
    expect(compare(e, a)?.path).toBe('BatchItem/ResponsePayload/UniqueIdentifier[2]');
  });
});

describe('time stamps ($NOW)', () => {
  it('accepts a time inside the window', () => {
    expect(compare(resp([ok('Get', uid('k'))]), resp([ok('Get', uid('k'))], '', '2024-05-01T12:00:09+00:00'))).toBeUndefined();
  });

  it('rejects a time outside the window', () => {
    const d = compare(resp([ok('Get', uid('k'))]), resp([ok('Get', uid('k'))], '', '2024-05-01T11:00:00+00:00'));
    expect(d?.path).toBe('ResponseHeader/TimeStamp');
  });

  it('compares literal dates exactly', () => {
    const [e, a] = payloadPair(attr('Activation Date', date('AttributeValue', '2000-02-01T00:00:00+10:00')), attr('Activation Date', date('AttributeValue', '2000-02-01T00:00:01+10:00')), 'GetAttributes');
    expect(compare(e, a)?.path).toBe('BatchItem/ResponsePayload/Attribute/AttributeValue');
  });
});

describe('unique identifier placeholders', () => {
  it('binds on first sight and then requires the same value', () => {
    const bindings = new Bindings();
    const [e, a] = payloadPair(uid('$UNIQUE_IDENTIFIER_0'), uid('srv-1'));
    expect(compare(e, a, [ctx()], bindings)).toBeUndefined();
    expect(bindings.identifiers.get('$UNIQUE_IDENTIFIER_0')).toMatchObject({ value: 'srv-1' });
    const [e2, a2] = payloadPair(uid('$UNIQUE_IDENTIFIER_0'), uid('srv-2'));
    expect(compare(e2, a2, [ctx()], bindings)).toEqual({ path: 'BatchItem/ResponsePayload/UniqueIdentifier', expected: 'srv-1 ($UNIQUE_IDENTIFIER_0)', actual: 'srv-2' });
  });

  it('refuses one object for two different placeholders', () => {
    const [e, a] = payloadPair(uid('$UNIQUE_IDENTIFIER_0') + uid('$UNIQUE_IDENTIFIER_1'), uid('same') + uid('same'), 'Locate');
    expect(compare(e, a)?.expected).toBe('a new object for $UNIQUE_IDENTIFIER_1');
  });

  it('does not keep bindings from a response that differs', () => {
    const bindings = new Bindings();
    const [e, a] = payloadPair(uid('$UNIQUE_IDENTIFIER_0') + en('ObjectType', 'SymmetricKey'), uid('srv-1') + en('ObjectType', 'SecretData'));
    expect(compare(e, a, [ctx()], bindings)).toBeDefined();
    expect(bindings.identifiers.size).toBe(0);
  });
});

describe('correlation values and result messages', () => {
  it('ignores Client/Server Correlation Values on either side', () => {
    const e = resp([ok('Get', uid('k'))], text('ServerCorrelationValue', 'A5E83842-2A456820-4'));
    const a = resp([ok('Get', uid('k'))], text('ClientCorrelationValue', 'mine') + text('ServerCorrelationValue', 'other'), NOW);
    expect(compare(e, a)).toBeUndefined();
  });

  it('still compares the rest of the header', () => {
    const e = resp([ok('Get', uid('k'))]);
    const a = resp([ok('Get', uid('k'))], int('MaximumResponseSize', 5), NOW);
    expect(compare(e, a)?.path).toBe('ResponseHeader/MaximumResponseSize');
  });

  it('ignores vendor Result Message text', () => {
    const e = resp([ok('Get', uid('k')).replace('<ResponsePayload>', '<ResultMessage type="TextString" value="ok"/><ResponsePayload>')]);
    expect(compare(e, resp([ok('Get', uid('k'))], '', NOW))).toBeUndefined();
  });
});

describe('failures are compared by Result Status and Result Reason only', () => {
  it('passes a failure with another message and a payload', () => {
    const e = resp([failed('Destroy', 'PermissionDenied', 'DENIED')]);
    const a = resp([failed('Destroy', 'PermissionDenied', 'nope').replace('</BatchItem>', `<ResponsePayload>${uid('x')}</ResponsePayload></BatchItem>`)], '', NOW);
    expect(compare(e, a)).toBeUndefined();
  });

  it('catches a wrong Result Reason', () => {
    const e = resp([failed('Destroy', 'PermissionDenied')]);
    const a = resp([failed('Destroy', 'WrongKeyLifecycleState', 'state')], '', NOW);
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResultReason', expected: 'PermissionDenied', actual: 'WrongKeyLifecycleState ("state")' });
  });

  it('reports why a server failed where success was expected, before header differences', () => {
    const e = resp([ok('Create', uid('$UNIQUE_IDENTIFIER_0')), ok('Get', '')]);
    const a = resp([failed('Create', 'InvalidField', 'no such attribute')], '', NOW);
    expect(compare(e, a)).toEqual({ path: 'BatchItem[1]/ResultStatus', expected: 'Success', actual: 'OperationFailed (InvalidField: "no such attribute")' });
  });

  it('catches success where a failure was expected', () => {
    const e = resp([failed('Destroy', 'PermissionDenied')]);
    expect(compare(e, resp([ok('Destroy', uid('k'))], '', NOW))).toMatchObject({ path: 'BatchItem/ResultStatus', expected: 'OperationFailed', actual: 'Success' });
  });
});

describe('random key material and digests of generated keys', () => {
  const key = (m: string): string => `<SymmetricKey><KeyBlock>${en('KeyFormatType', 'Raw')}<KeyValue>${bytes('KeyMaterial', m)}</KeyValue></KeyBlock></SymmetricKey>`;
  const digest = (d: string): string => attr('Digest', `<AttributeValue>${en('HashingAlgorithm', 'SHA_256')}${bytes('DigestValue', d)}</AttributeValue>`);

  it('accepts other Key Material and Digest Value for a server-generated key', () => {
    const [e, a] = payloadPair(uid('k') + key('00112233') + digest('aa'), uid('k') + key('99887766') + digest('bb'));
    expect(compare(e, a, [ctx({ operation: 'Get', randomMaterial: true })])).toBeUndefined();
  });

  it('compares them exactly for a registered key', () => {
    const [e, a] = payloadPair(uid('k') + key('00112233'), uid('k') + key('99887766'));
    expect(compare(e, a, [ctx({ operation: 'Get' })])?.path).toBe('BatchItem/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/KeyMaterial');
  });

  it('still compares the rest of a generated key', () => {
    const [e, a] = payloadPair(uid('k') + key('00'), uid('k') + key('11').replace('Raw', 'TransparentSymmetricKey'));
    expect(compare(e, a, [ctx({ operation: 'Get', randomMaterial: true })])?.path).toBe('BatchItem/ResponsePayload/SymmetricKey/KeyBlock/KeyFormatType');
  });

  it('accepts other ciphertext under a generated key, not other plaintext', () => {
    const [e, a] = payloadPair(uid('k') + bytes('Data', '0102'), uid('k') + bytes('Data', 'ffff'), 'Encrypt');
    expect(compare(e, a, [ctx({ operation: 'Encrypt', randomMaterial: true })])).toBeUndefined();
    const [e2, a2] = payloadPair(uid('k') + bytes('Data', '0102'), uid('k') + bytes('Data', 'ffff'), 'Decrypt');
    expect(compare(e2, a2, [ctx({ operation: 'Decrypt', randomMaterial: true, requestData: 'replayed' })])?.path).toBe('BatchItem/ResponsePayload/Data');
  });

  it('accepts other plaintext from a literal ciphertext under a generated key (CS-BC-M-2), never under a registered key', () => {
    const [e, a] = payloadPair(uid('k') + bytes('Data', '0102'), uid('k') + bytes('Data', 'ffff'), 'Decrypt');
    expect(compare(e, a, [ctx({ operation: 'Decrypt', randomMaterial: true, requestData: 'literal' })])).toBeUndefined();
    expect(compare(e, a, [ctx({ operation: 'Decrypt', randomMaterial: false, requestData: 'literal' })])?.path).toBe('BatchItem/ResponsePayload/Data');
    // The rule frees Data only: the identifier is still compared.
    const [e2, a2] = payloadPair(uid('k') + bytes('Data', '0102'), uid('other') + bytes('Data', 'ffff'), 'Decrypt');
    expect(compare(e2, a2, [ctx({ operation: 'Decrypt', randomMaterial: true, requestData: 'literal' })])?.path).toBe('BatchItem/ResponsePayload/UniqueIdentifier');
  });
});

describe('IVs the server chose', () => {
  const [e, a] = payloadPair(uid('k') + bytes('Data', 'e768') + bytes('IVCounterNonce', 'FF02'), uid('k') + bytes('Data', '1234') + bytes('IVCounterNonce', '5678'), 'Encrypt');

  it('accepts another IV and the ciphertext made with it', () => {
    expect(compare(e, a, [ctx({ operation: 'Encrypt', serverChoseIv: true })])).toBeUndefined();
  });

  it('compares both when the client gave the IV', () => {
    expect(compare(e, a, [ctx({ operation: 'Encrypt' })])?.path).toBe('BatchItem/ResponsePayload/Data');
  });
});

describe('attribute order', () => {
  const alg = attr('Cryptographic Algorithm', en('AttributeValue', 'AES'));
  const len = (n: number): string => attr('Cryptographic Length', int('AttributeValue', n));
  const state = attr('State', en('AttributeValue', 'PreActive'));

  it('accepts 1.x Attribute structures in any order', () => {
    const [e, a] = payloadPair(uid('k') + alg + len(128) + state, uid('k') + state + alg + len(128), 'GetAttributes');
    expect(compare(e, a)).toBeUndefined();
  });

  it('reports a wrong attribute value against the attribute of the same name', () => {
    const [e, a] = payloadPair(uid('k') + alg + len(128) + state, uid('k') + state + alg + len(256), 'GetAttributes');
    expect(compare(e, a)).toEqual({ path: 'BatchItem/ResponsePayload/Attribute[2]/AttributeValue', expected: '128', actual: '256' });
  });

  it('catches a missing and an extra attribute', () => {
    const [e, a] = payloadPair(uid('k') + alg + len(128), uid('k') + alg, 'GetAttributes');
    expect(compare(e, a)).toMatchObject({ path: 'BatchItem/ResponsePayload/Attribute[2]', expected: 'Attribute(Cryptographic Length)', actual: 'nothing' });
    const [e2, a2] = payloadPair(uid('k') + alg, uid('k') + alg + state, 'GetAttributes');
    expect(compare(e2, a2)).toMatchObject({ expected: 'nothing', actual: 'Attribute(State)' });
  });

  it('keeps the position of the attribute run among the other fields', () => {
    const [e, a] = payloadPair(uid('k') + alg, alg + uid('k'), 'GetAttributes');
    expect(compare(e, a)).toBeDefined();
  });

  it('accepts 2.x Attributes children in any order, and catches an extra one', () => {
    const e2 = `<Attributes>${en('CryptographicAlgorithm', 'AES')}${int('CryptographicLength', 128)}</Attributes>`;
    const a2 = `<Attributes>${int('CryptographicLength', 128)}${en('CryptographicAlgorithm', 'AES')}</Attributes>`;
    expect(compare(...payloadPair(uid('k') + e2, uid('k') + a2, 'GetAttributes'))).toBeUndefined();
    const a3 = `<Attributes>${int('CryptographicLength', 256)}${en('CryptographicAlgorithm', 'AES')}</Attributes>`;
    expect(compare(...payloadPair(uid('k') + e2, uid('k') + a3, 'GetAttributes'))).toMatchObject({ path: 'BatchItem/ResponsePayload/Attributes/CryptographicLength', expected: '128', actual: '256' });
    const a4 = `<Attributes>${int('CryptographicLength', 128)}${en('CryptographicAlgorithm', 'AES')}${en('State', 'Active')}</Attributes>`;
    expect(compare(...payloadPair(uid('k') + e2, uid('k') + a4, 'GetAttributes'))).toMatchObject({ expected: 'nothing', actual: 'State=Active' });
  });

  it('accepts Get Attribute List names in any order, not a different set', () => {
    const names = (...n: string[]): string => n.map((x) => text('AttributeName', x)).join('');
    const c = [ctx({ operation: 'GetAttributeList' })];
    expect(compare(...payloadPair(uid('k') + names('State', 'Name'), uid('k') + names('Name', 'State'), 'GetAttributeList'), c)).toBeUndefined();
    expect(compare(...payloadPair(uid('k') + names('State', 'Name'), uid('k') + names('Name', 'Digest'), 'GetAttributeList'), c)).toMatchObject({
      path: 'BatchItem/ResponsePayload/AttributeName[1]',
      expected: 'AttributeName=State',
    });
  });
});

describe('mask bit order', () => {
  const mask = (v: string): string => attr('Cryptographic Usage Mask', int('AttributeValue', v));

  it('accepts the same bits in another order', () => {
    expect(compare(...payloadPair(uid('k') + mask('Encrypt Decrypt'), uid('k') + mask('Decrypt Encrypt'), 'GetAttributes'))).toBeUndefined();
  });

  it('catches different bits, named', () => {
    expect(compare(...payloadPair(uid('k') + mask('Encrypt Decrypt'), uid('k') + mask('Encrypt'), 'GetAttributes'))).toMatchObject({
      expected: 'Encrypt Decrypt',
      actual: 'Encrypt',
    });
  });
});

describe('Query results', () => {
  const q = [ctx({ operation: 'Query' })];
  const ops = (...o: string[]): string => o.map((x) => en('Operation', x)).join('');

  it('accepts extra operations in any order, extra object types, other vendor and server information', () => {
    const e = ops('Query', 'Locate') + en('ObjectType', 'SecretData') + text('VendorIdentification', 'server-vendor.com') + '<ServerInformation></ServerInformation>';
    const a = ops('Create', 'Locate', 'Query') + en('ObjectType', 'SymmetricKey') + en('ObjectType', 'SecretData') + text('VendorIdentification', 'kmipd');
    expect(compare(...payloadPair(e, a, 'Query'), q)).toBeUndefined();
  });

  it('accepts a list the vector does not mention', () => {
    expect(compare(...payloadPair(ops('Query'), ops('Query') + en('ObjectType', 'SymmetricKey'), 'Query'), q)).toBeUndefined();
  });

  it('catches a missing operation', () => {
    expect(compare(...payloadPair(ops('Query', 'AddAttribute'), ops('Query', 'Create'), 'Query'), q)).toEqual({
      path: 'BatchItem/ResponsePayload/Operation[2]',
      expected: 'Operation=AddAttribute',
      actual: 'nothing',
    });
  });

  it('still requires Vendor Identification', () => {
    expect(compare(...payloadPair(ops('Query') + text('VendorIdentification', 'v'), ops('Query'), 'Query'), q)?.path).toBe(
      'BatchItem/ResponsePayload/VendorIdentification',
    );
  });

  it('does not apply outside Query', () => {
    expect(compare(...payloadPair(ops('Query'), ops('Query', 'Create'), 'Get'), [ctx({ operation: 'Get' })])).toBeDefined();
  });
});

describe('Discover Versions with an empty list', () => {
  const pv = (major: number, minor: number): string =>
    `<ProtocolVersion><ProtocolVersionMajor type="Integer" value="${major}"/><ProtocolVersionMinor type="Integer" value="${minor}"/></ProtocolVersion>`;
  const empty = { tag: 0, type: 'Structure', value: [] } as StructureNode;

  it('accepts newer versions listed first', () => {
    const c = [ctx({ operation: 'DiscoverVersions', requestPayload: empty })];
    expect(compare(...payloadPair(pv(1, 4) + pv(1, 3), pv(2, 1) + pv(2, 0) + pv(1, 4) + pv(1, 3), 'DiscoverVersions'), c)).toBeUndefined();
  });

  it('catches a missing version and a changed order', () => {
    const c = [ctx({ operation: 'DiscoverVersions', requestPayload: empty })];
    expect(compare(...payloadPair(pv(1, 4) + pv(1, 3), pv(2, 1) + pv(1, 4), 'DiscoverVersions'), c)).toBeDefined();
    expect(compare(...payloadPair(pv(1, 4) + pv(1, 3), pv(1, 3) + pv(1, 4), 'DiscoverVersions'), c)).toBeDefined();
  });
});

describe('server-chosen values and captures', () => {
  it('binds $NAME placeholders to whatever the server sent, latest first', () => {
    const bindings = new Bindings();
    const [e, a] = payloadPair(uid('k') + bytes('CorrelationValue', '$CORRELATION_VALUE'), uid('k') + bytes('CorrelationValue', 'aa'), 'Encrypt');
    expect(compare(e, a, [ctx()], bindings)).toBeUndefined();
    const [e2, a2] = payloadPair(uid('k') + bytes('CorrelationValue', '$CORRELATION_VALUE'), uid('k') + bytes('CorrelationValue', 'bb'), 'Encrypt');
    expect(compare(e2, a2, [ctx()], bindings)).toBeUndefined();
    expect(bindings.serverValues.get('$CORRELATION_VALUE')).toMatchObject({ type: 'ByteString', value: new Uint8Array([0xbb]) });
  });

  it('still requires the item and its type', () => {
    const [e, a] = payloadPair(uid('k') + bytes('CorrelationValue', '$CORRELATION_VALUE'), uid('k') + text('CorrelationValue', 'aa'), 'Encrypt');
    expect(compare(e, a)?.expected).toBe('ByteString');
  });

  it('records the actual value at a capture point', () => {
    const expectedEl = parseXml(resp([ok('Encrypt', uid('k') + bytes('Data', 'e768'))]))[0]!;
    const dataEl = expectedEl.children[1]!.children[2]!.children[1]!;
    const bindings = new Bindings();
    const d = compareResponse(
      convertExpected(expectedEl, new Map([[dataEl, 'ByteString:e768']])),
      ttlv(resp([ok('Encrypt', uid('k') + bytes('Data', '4242'))], '', NOW)),
      bindings,
      window,
      [ctx({ operation: 'Encrypt', serverChoseIv: true })],
    );
    expect(d).toBeUndefined();
    expect(bindings.captures.get('ByteString:e768')).toMatchObject({ value: new Uint8Array([0x42, 0x42]) });
  });
});
