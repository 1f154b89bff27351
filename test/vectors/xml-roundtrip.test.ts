// Every message of every OASIS XML vector (KMIP Profiles v1.4 / v2.1 mandatory test cases, KMIP Test
// Cases v1.4; files listed in FILES.txt) survives
//   XML → TTLV → binary TTLV (encodeTtlv) → TTLV (decodeTtlv) → XML
// and
//   XML → TTLV → JSON text → TTLV → binary → TTLV → XML
// with the final element tree equivalent to the original (Additional Message Encodings v1.0 §6.1.6).
//
// Equivalence is checked here, independently of the encoder's own value formatting, and is exact
// except for these normalisations, each a freedom the encoding itself grants:
//  N1  a missing `type` attribute equals type="Structure" (§6.1.6: "SHALL have a default value of
//      'Structure' and may be omitted for Structures"); the writer omits it as the vectors do.
//  N2  hex digits compare case-insensitively in ByteString, BigInteger, Enumeration hex values and
//      the TTLV tag attribute (§6.1.1: "They may use either upper or lower case").
//  N3  a symbolic Integer mask compares as a set of tokens (§6.1.6.4: an xsd:list of bit names
//      that are OR-ed, so order carries nothing; the vectors write both "Encrypt Decrypt" and
//      "Decrypt Encrypt"). Token spellings must still match exactly.
//  N4  Date-Time values compare as instants (xsd:dateTime; a TTLV Date-Time holds UTC seconds only,
//      so "2000-01-01T00:00:00+10:00" legitimately comes back as "1999-12-31T14:00:00+00:00").
//      Parsed with Date.parse, not with the code under test.
// Nothing else is normalised: element names, order and count of children, item types, Text
// Strings (including the runs of spaces in 1.0–1.2 AttributeName values), decimal numbers,
// Booleans and enumeration names must come back character for character.
//
// Placeholders ($UNIQUE_IDENTIFIER_n, $NOW, $NOW-3600, $KEY_MATERIAL, ...) are substituted through
// the `mapValue` hook before conversion, deterministically, and the expected tree gets the same
// substitution.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv } from '../../src/ttlv/index.js';
import type { ItemTypeName, TtlvNode } from '../../src/ttlv/index.js';
import { jsonTextToTtlv, ttlvToJsonText } from '../../src/kmip/encodings/json.js';
import {
  parseXml,
  ttlvToXml,
  xmlDocumentElements,
  xmlDocumentMessages,
  xmlToTtlv,
  type XmlElement,
} from '../../src/kmip/encodings/xml.js';
import { maskForTag, tagValue } from '../../src/kmip/registry.js';
import { vectorsDir } from '../support/vectors-dir.js';

const vectors = vectorsDir();

/** Fixed stand-in for $NOW: 2024-05-06T07:08:09Z. */
const NOW_MS = Date.UTC(2024, 4, 6, 7, 8, 9);

/** Deterministic placeholder substitution; the same function builds the expected tree. */
function substitute(value: string, type: ItemTypeName | 'Structure'): string {
  if (!value.startsWith('$')) return value;
  switch (type) {
    case 'DateTime': {
      const m = /^\$NOW([+-]\d+)?$/.exec(value);
      if (!m) throw new Error(`unexpected DateTime placeholder ${value}`);
      return new Date(NOW_MS + Number(m[1] ?? 0) * 1000).toISOString().replace('.000Z', '+00:00');
    }
    case 'ByteString':
      // The placeholder's own name as bytes: distinct per placeholder, valid hex.
      return Buffer.from(value.slice(1), 'utf8').toString('hex');
    case 'TextString':
      // Already a valid Text String; a fixed prefix marks it as substituted.
      return `placeholder:${value.slice(1)}`;
    default:
      throw new Error(`unexpected placeholder ${value} for type ${type}`);
  }
}

function substituteTree(el: XmlElement): XmlElement {
  const attrs = { ...el.attrs };
  if (attrs['value'] !== undefined) attrs['value'] = substitute(attrs['value'], (attrs['type'] ?? 'Structure') as ItemTypeName);
  return { name: el.name, attrs, children: el.children.map(substituteTree) };
}

const MASK_TOKENS = /^[A-Za-z_]\w*( [A-Za-z_]\w*)*$/;

/** The mask an Integer element carries: by its tag, or (1.x) by the AttributeName beside an AttributeValue. */
function isMask(el: XmlElement, siblings: readonly XmlElement[]): boolean {
  const tag = tagValue(el.name);
  if (tag === undefined) return false;
  if (el.name === 'AttributeValue') {
    const name = siblings.find((s) => s.name === 'AttributeName')?.attrs['value'];
    const named = name === undefined ? undefined : tagValue(name);
    return named !== undefined && maskForTag(named) !== undefined;
  }
  return maskForTag(tag) !== undefined;
}

function sameValue(type: string, expected: string, actual: string, mask: boolean): boolean {
  if (expected === actual) return true;
  switch (type) {
    case 'ByteString':
    case 'BigInteger':
      return expected.toLowerCase() === actual.toLowerCase(); // N2
    case 'Enumeration':
      return /^0x/i.test(expected) && expected.toLowerCase() === actual.toLowerCase(); // N2
    case 'Integer': {
      if (!mask || !MASK_TOKENS.test(expected) || !MASK_TOKENS.test(actual)) return false;
      const a = expected.split(' ').sort(); // N3
      const b = actual.split(' ').sort();
      return a.length === b.length && new Set(a).size === a.length && a.every((t, i) => t === b[i]);
    }
    case 'DateTime': {
      const a = Date.parse(expected); // N4
      return !Number.isNaN(a) && a === Date.parse(actual);
    }
    default:
      return false;
  }
}

/** Differences between two element trees, as readable lines (empty when equivalent). */
function differences(expected: XmlElement, actual: XmlElement, at: string, siblings: readonly XmlElement[] = []): string[] {
  const here = `${at}/${expected.name}`;
  if (expected.name !== actual.name) return [`${here}: element ${actual.name}`];
  const out: string[] = [];
  const keys = new Set([...Object.keys(expected.attrs), ...Object.keys(actual.attrs)]);
  const type = expected.attrs['type'] ?? 'Structure';
  for (const k of keys) {
    const e = expected.attrs[k];
    const a = actual.attrs[k];
    if (k === 'type') {
      if ((e ?? 'Structure') !== (a ?? 'Structure')) out.push(`${here}: type ${e} vs ${a}`); // N1
    } else if (k === 'tag') {
      if (e?.toLowerCase() !== a?.toLowerCase()) out.push(`${here}: tag ${e} vs ${a}`); // N2
    } else if (k === 'value') {
      if (e === undefined || a === undefined || !sameValue(type, e, a, type === 'Integer' && isMask(expected, siblings))) {
        out.push(`${here}: value ${JSON.stringify(e)} vs ${JSON.stringify(a)}`);
      }
    } else if (e !== a) {
      out.push(`${here}: attribute ${k} ${JSON.stringify(e)} vs ${JSON.stringify(a)}`);
    }
  }
  if (expected.children.length !== actual.children.length) {
    out.push(`${here}: ${expected.children.length} children vs ${actual.children.length}`);
    return out;
  }
  expected.children.forEach((c, i) => out.push(...differences(c, actual.children[i]!, here, expected.children)));
  return out;
}

function viaBinary(node: TtlvNode): TtlvNode {
  return decodeTtlv(encodeTtlv(node));
}

function backToElement(node: TtlvNode): XmlElement {
  const roots = parseXml(ttlvToXml(node));
  expect(roots).toHaveLength(1);
  return roots[0]!;
}

describe.skipIf(!vectors.available)('OASIS XML vectors: XML → TTLV → binary → TTLV → XML, and via JSON', () => {
  const dir = vectors.available ? vectors.dir : '';
  const files = vectors.available
    ? readFileSync(path.join(dir, 'FILES.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.endsWith('.xml'))
    : [];
  let messages = 0;

  it('lists the three vector sets', () => {
    expect(files.filter((f) => f.startsWith('kmip-1.4/mandatory/')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('kmip-1.4/testcases/')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('kmip-2.1/mandatory/')).length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(path.basename(file, '.xml'), () => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      const elements = xmlDocumentElements(text);
      const nodes = xmlDocumentMessages(text, { mapValue: (value, site) => substitute(value, site.type) });
      expect(nodes.length).toBe(elements.length);
      expect(nodes.length).toBeGreaterThan(0);
      elements.forEach((original, i) => {
        const expected = substituteTree(original);
        const node = nodes[i]!;
        expect(['RequestMessage', 'ResponseMessage']).toContain(original.name);
        // The hook and a pre-substituted tree give the same TTLV.
        expect(xmlToTtlv(expected)).toEqual(node);

        const binary = viaBinary(node);
        expect(binary).toEqual(node);
        expect(differences(expected, backToElement(binary), file)).toEqual([]);

        const fromJson = jsonTextToTtlv(ttlvToJsonText(node));
        expect(fromJson).toEqual(node);
        expect(differences(expected, backToElement(viaBinary(fromJson)), file)).toEqual([]);
        messages++;
      });
    });
  }

  it('round-tripped every message', () => {
    // 1,053 request/response pairs across the 182 files.
    expect(messages).toBe(2106);
  });
});

// The checker above must be as strict as its header says: only N1–N4 may pass unequal text.
describe('round-trip equivalence check', () => {
  const el = (name: string, attrs: Record<string, string> = {}, children: XmlElement[] = []): XmlElement => ({ name, attrs, children });
  const leaf = (name: string, type: string, value: string) => el(name, { type, value });
  const attribute = (name: string, type: string, value: string) =>
    el('Attribute', {}, [leaf('AttributeName', 'TextString', name), leaf('AttributeValue', type, value)]);

  it('accepts exactly the four normalisations', () => {
    expect(differences(el('BatchItem', { type: 'Structure' }), el('BatchItem'), '')).toEqual([]); // N1
    expect(differences(leaf('IVCounterNonce', 'ByteString', 'FF01'), leaf('IVCounterNonce', 'ByteString', 'ff01'), '')).toEqual([]); // N2
    expect(differences(leaf('OpaqueDataType', 'Enumeration', '0x8000000A'), leaf('OpaqueDataType', 'Enumeration', '0x8000000a'), '')).toEqual([]); // N2
    const maskA = leaf('CryptographicUsageMask', 'Integer', 'Decrypt Encrypt');
    expect(differences(maskA, leaf('CryptographicUsageMask', 'Integer', 'Encrypt Decrypt'), '')).toEqual([]); // N3
    expect(differences(attribute('Cryptographic Usage Mask', 'Integer', 'Decrypt Encrypt'), attribute('Cryptographic Usage Mask', 'Integer', 'Encrypt Decrypt'), '')).toEqual([]);
    const date = (v: string) => leaf('ActivationDate', 'DateTime', v);
    expect(differences(date('2000-01-01T00:00:00+10:00'), date('1999-12-31T14:00:00+00:00'), '')).toEqual([]); // N4
  });

  it('rejects everything else', () => {
    const cases: [XmlElement, XmlElement][] = [
      [leaf('Operation', 'Enumeration', 'Create'), leaf('Operation', 'Enumeration', 'Register')],
      [leaf('Operation', 'Enumeration', 'Create'), leaf('Operation', 'Enumeration', '0x00000001')],
      [leaf('Operation', 'Enumeration', 'Create'), leaf('ObjectType', 'Enumeration', 'Create')],
      [leaf('BatchCount', 'Integer', '1'), leaf('BatchCount', 'LongInteger', '1')],
      [leaf('BatchCount', 'Integer', '1'), leaf('BatchCount', 'Integer', '01')],
      [leaf('ApplicationData', 'TextString', 'a  b'), leaf('ApplicationData', 'TextString', 'a b')],
      [leaf('ApplicationData', 'TextString', 'Ab'), leaf('ApplicationData', 'TextString', 'ab')],
      [leaf('BatchOrderOption', 'Boolean', 'true'), leaf('BatchOrderOption', 'Boolean', '1')],
      [leaf('CryptographicUsageMask', 'Integer', 'Decrypt Encrypt'), leaf('CryptographicUsageMask', 'Integer', 'Encrypt')],
      [leaf('CryptographicUsageMask', 'Integer', 'Decrypt Encrypt'), leaf('CryptographicUsageMask', 'Integer', '12')],
      [leaf('CryptographicLength', 'Integer', 'A B'), leaf('CryptographicLength', 'Integer', 'B A')], // not a mask
      [attribute('Cryptographic Length', 'Integer', 'A B'), attribute('Cryptographic Length', 'Integer', 'B A')],
      [leaf('ActivationDate', 'DateTime', '2000-01-01T00:00:00+10:00'), leaf('ActivationDate', 'DateTime', '2000-01-01T00:00:00+00:00')],
      [el('BatchItem', {}, [el('A'), el('B')]), el('BatchItem', {}, [el('B'), el('A')])],
      [el('BatchItem', {}, [el('A')]), el('BatchItem', {}, [el('A'), el('A')])],
      [el('BatchItem'), el('BatchItem', { type: 'Structure', value: '' })],
      [el('TTLV', { tag: '0x540001' }), el('TTLV', { tag: '0x540002' })],
    ];
    for (const [a, b] of cases) expect(differences(a, b, ''), JSON.stringify([a, b])).not.toEqual([]);
  });
});
