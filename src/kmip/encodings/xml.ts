/**
 * KMIP XML message encoding (KMIP Additional Message Encodings v1.0 §6.1 "XML Encoding"), the form
 * the OASIS conformance vectors are written in.
 *
 * Three layers, each usable on its own:
 *  1. a small XML 1.0 reader and writer for a generic element tree (`XmlElement`): elements,
 *     attributes with entity and character references, comments, processing instructions and the
 *     `<?xml` prolog, self-closing tags. KMIP XML carries every value in attributes, so character
 *     data between elements has no meaning and is dropped (some OASIS files put free text in
 *     `<KMIP>`). DOCTYPE is refused: no entity expansion, no external fetches.
 *  2. `xmlToTtlv` / `ttlvToXmlElement`: one element per TTLV item (§6.1.6): the element name is
 *     the tag's normalised name, or `<TTLV tag="0x540001">` for tags the registry does not know;
 *     `type` defaults to Structure; non-structure values sit in `value`.
 *  3. `xmlDocumentMessages`: the RequestMessage / ResponseMessage sequence of an OASIS vector file.
 *
 * Value forms (§6.1.6.3–12): Integer xsd:int, or a space-separated list of bit names / 0x
 * components for masks; Long Integer xsd:long; Big Integer hexBinary (two's complement,
 * sign-extended to a multiple of 8 bytes); Enumeration CamelCase name or 0x hex; Boolean
 * xsd:boolean; Byte String hexBinary; Date-Time xsd:dateTime; Interval xsd:unsignedInt.
 * Readers also take the 0x hex forms of §6.1.1 for the numeric types.
 */
import type { ItemTypeName, TtlvNode } from '../../ttlv/types.js';
import { tagName } from '../registry.js';
import { EncodingError, pathSteps } from './encoding-error.js';
import {
  bigIntToHex,
  bytesToHex,
  formatDateTime,
  formatDateTimeExtended,
  hexFixed,
  hexToBigInt,
  hexToBytes,
  isItemTypeName,
  parseBoolean,
  parseDateTime,
  parseDateTimeExtended,
  parseInt32,
  parseInt64,
  parseUint32,
  plainLeafText,
} from './lexical.js';
import {
  attributeNameAmong,
  convertChildren,
  formatEnumeration,
  formatMaskValue,
  parseEnumeration,
  parseMaskValue,
  parseTagText,
  type NamingContext,
} from './value-names.js';

// =============================================================================================
// 1. Generic XML

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

export interface XmlParseOptions {
  /**
   * Skip an end tag that closes nothing at the top level instead of failing. The OASIS file
   * TC-ECDSA-SIGN-1-14.xml ends with a second `</KMIP>`; xmlDocumentMessages turns this on.
   */
  allowStrayEndTags?: boolean;
}

const NAME = /[A-Za-z_:\u00C0-\uFFFF][-.0-9A-Za-z_:\u00B7\u00C0-\uFFFF]*/y;
/** Characters XML 1.0 §2.2 allows in a document. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function lineColumn(src: string, at: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = src.indexOf('\n'); i !== -1 && i < at; i = src.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${at - lineStart + 1}`;
}

/** Parses XML text into its top-level elements (a document has one; a fragment may have several). */
export function parseXml(text: string, options: XmlParseOptions = {}): XmlElement[] {
  // XML 1.0 §2.11: line ends become \n before anything else.
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let pos = 0;

  const fail = (reason: string, at = pos): never => {
    throw new EncodingError('xml', lineColumn(src, at), reason);
  };

  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(src);
    if (!m) return fail('expected a name');
    pos += m[0].length;
    return m[0];
  };

  const skipSpace = (): boolean => {
    const start = pos;
    while (pos < src.length && ' \t\n'.includes(src[pos]!)) pos++;
    return pos > start;
  };

  const decode = (raw: string, at: number): string => {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;]*);|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) return fail("'&' must start an entity or character reference", at);
      const named = PREDEFINED[ref];
      if (named !== undefined) return named;
      const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
      if (!m) return fail(`unknown entity &${ref};`, at);
      const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number(m[2]);
      const ch = code <= 0x10ffff ? String.fromCodePoint(code) : '';
      if (ch === '' || NOT_XML_CHAR.test(ch)) return fail(`${whole} is not an XML character`, at);
      return ch;
    });
  };

  const addElement = (el: XmlElement): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else roots.push(el);
  };

  const bad = NOT_XML_CHAR.exec(src);
  if (bad) fail(`character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);

  while (pos < src.length) {
    const lt = src.indexOf('<', pos);
    const textEnd = lt === -1 ? src.length : lt;
    if (textEnd > pos) {
      const chunk = src.slice(pos, textEnd);
      if (stack.length === 0 && chunk.trim() !== '') fail('text outside any element');
      decode(chunk, pos); // validates references; the text itself carries nothing in KMIP XML
      if (chunk.includes(']]>')) fail("']]>' is not allowed in text", pos + chunk.indexOf(']]>'));
      pos = textEnd;
      continue;
    }
    if (src.startsWith('<!--', pos)) {
      const end = src.indexOf('-->', pos + 4);
      if (end === -1) fail('unterminated comment');
      pos = end + 3;
    } else if (src.startsWith('<?', pos)) {
      const start = pos;
      pos += 2;
      const target = readName();
      if (target.toLowerCase() === 'xml' && start !== 0) fail('the XML declaration must come first', start);
      const end = src.indexOf('?>', pos);
      if (end === -1) fail('unterminated processing instruction', start);
      pos = end + 2;
    } else if (src.startsWith('<![CDATA[', pos)) {
      if (stack.length === 0) fail('CDATA outside any element');
      const end = src.indexOf(']]>', pos);
      if (end === -1) fail('unterminated CDATA section');
      pos = end + 3;
    } else if (src.startsWith('<!', pos)) {
      fail('DOCTYPE and markup declarations are not supported');
    } else if (src.startsWith('</', pos)) {
      const start = pos;
      pos += 2;
      const name = readName();
      skipSpace();
      if (src[pos] !== '>') fail(`expected '>' to end </${name}`);
      pos++;
      const open = stack.pop();
      if (open === undefined) {
        if (!options.allowStrayEndTags) fail(`</${name}> closes nothing`, start);
      } else if (open.name !== name) {
        fail(`</${name}> does not match <${open.name}>`, start);
      }
    } else {
      pos++;
      const el: XmlElement = { name: readName(), attrs: {}, children: [] };
      for (;;) {
        const spaced = skipSpace();
        if (src.startsWith('/>', pos)) {
          pos += 2;
          addElement(el);
          break;
        }
        if (src[pos] === '>') {
          pos++;
          addElement(el);
          stack.push(el);
          break;
        }
        if (pos >= src.length) fail(`unterminated start tag <${el.name}`);
        if (!spaced) fail('expected whitespace before an attribute');
        const attrAt = pos;
        const attr = readName();
        skipSpace();
        if (src[pos] !== '=') fail(`expected '=' after attribute ${attr}`);
        pos++;
        skipSpace();
        const quote = src[pos];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} needs a quoted value`);
        const end = src.indexOf(quote!, pos + 1);
        if (end === -1) fail(`unterminated value of attribute ${attr}`);
        const raw = src.slice(pos + 1, end);
        if (raw.includes('<')) fail(`'<' in the value of attribute ${attr}`, pos + 1 + raw.indexOf('<'));
        if (Object.hasOwn(el.attrs, attr)) fail(`attribute ${attr} given twice`, attrAt);
        // XML 1.0 §3.3.3: literal whitespace in attribute values becomes a space; references are kept.
        el.attrs[attr] = decode(raw.replace(/[\t\n]/g, ' '), pos + 1);
        pos = end + 1;
      }
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> is not closed`);
  return roots;
}

export interface XmlFormatOptions {
  /** Spaces per nesting level; 0 writes everything on one line. Default 2. */
  indent?: number;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function escapeAttribute(value: string, path: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new EncodingError('xml', path, `U+${code} cannot be written in XML 1.0`);
  }
  // Tab, LF and CR as character references so attribute-value normalisation keeps them.
  return value.replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c] ?? c);
}

/** Writes elements as XML text (no prolog). */
export function formatXml(elements: XmlElement | readonly XmlElement[], options: XmlFormatOptions = {}): string {
  const indent = options.indent ?? 2;
  const out: string[] = [];
  const write = (el: XmlElement, depth: number, path: string): void => {
    const pad = ' '.repeat(indent * depth);
    const attrs = Object.entries(el.attrs)
      .map(([k, v]) => ` ${k}="${escapeAttribute(v, path)}"`)
      .join('');
    if (el.children.length === 0) {
      out.push(`${pad}<${el.name}${attrs}/>`);
      return;
    }
    out.push(`${pad}<${el.name}${attrs}>`);
    const steps = pathSteps(el.children.map((c) => c.name));
    el.children.forEach((c, i) => write(c, depth + 1, `${path}/${steps[i]}`));
    out.push(`${pad}</${el.name}>`);
  };
  const list = Array.isArray(elements) ? (elements as readonly XmlElement[]) : [elements as XmlElement];
  for (const el of list) write(el, 0, `/${el.name}`);
  return out.join(indent > 0 ? '\n' : '');
}

// =============================================================================================
// 2. Element tree <-> TTLV

/** Where a value attribute is being read: given to `mapValue`. */
export interface XmlValueSite {
  readonly element: XmlElement;
  readonly tag: number;
  readonly type: ItemTypeName;
  /** Element path, e.g. `/RequestMessage/BatchItem[2]/RequestPayload/UniqueIdentifier`. */
  readonly path: string;
}

export interface XmlToTtlvOptions {
  /**
   * Rewrites a `value` attribute before it is parsed: the conformance runner substitutes
   * placeholders such as `$UNIQUE_IDENTIFIER_0` or `$NOW` here. Not called for Structures.
   */
  mapValue?: (value: string, site: XmlValueSite) => string;
}

/** The §6.1.6.5 example writes an extension tag as an element named `x540001`. */
const TAG_ELEMENT_HEX = /^x([0-9a-fA-F]{6})$/;

function resolveTag(el: XmlElement, path: string): number {
  // A namespace prefix (§6.1.6: urn:oasis:tc:kmip:xmlns) does not change the tag.
  const name = el.name.slice(el.name.indexOf(':') + 1);
  if (name === 'TTLV') {
    const t = el.attrs['tag'];
    if (t === undefined) throw new EncodingError('xml', path, '<TTLV> needs a tag attribute');
    const value = parseTagText(t);
    if (value === undefined) throw new EncodingError('xml', path, `unknown tag ${JSON.stringify(t)}`);
    return value;
  }
  const named = parseTagText(name);
  if (named !== undefined) return named;
  const hex = TAG_ELEMENT_HEX.exec(name);
  if (hex) return Number.parseInt(hex[1]!, 16);
  throw new EncodingError('xml', path, `unknown tag name ${el.name}`);
}

function parseValue(tag: number, type: Exclude<ItemTypeName, 'Structure'>, text: string, ctx: NamingContext): TtlvNode | undefined {
  switch (type) {
    case 'Integer': {
      const value = parseInt32(text) ?? parseMaskValue(tag, text, /\s+/, ctx);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'LongInteger': {
      const value = parseInt64(text);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'BigInteger': {
      const value = hexToBigInt(text.trim().replace(/^0x/i, ''));
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Enumeration': {
      const value = parseEnumeration(tag, text, ctx);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Boolean': {
      const value = parseBoolean(text);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'TextString':
      return { tag, type, value: text };
    case 'ByteString': {
      const value = hexToBytes(text.trim());
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'DateTime': {
      const value = parseDateTime(text);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'Interval': {
      const value = parseUint32(text);
      return value === undefined ? undefined : { tag, type, value };
    }
    case 'DateTimeExtended': {
      const value = parseDateTimeExtended(text);
      return value === undefined ? undefined : { tag, type, value };
    }
  }
}

function convert(el: XmlElement, path: string, ctx: NamingContext, options: XmlToTtlvOptions, tag = resolveTag(el, path)): TtlvNode {
  const typeText = el.attrs['type'] ?? 'Structure';
  if (!isItemTypeName(typeText)) throw new EncodingError('xml', path, `unknown item type ${JSON.stringify(typeText)}`);
  if (typeText === 'Structure') {
    if (el.attrs['value'] !== undefined) throw new EncodingError('xml', path, 'a Structure has no value attribute');
    const steps = pathSteps(el.children.map((c) => c.name));
    const value = convertChildren(
      el.children,
      (c, i) => resolveTag(c, `${path}/${steps[i]}`),
      (c, i, childTag, childCtx) => convert(c, `${path}/${steps[i]}`, childCtx, options, childTag),
    );
    return { tag, type: 'Structure', value };
  }
  if (el.children.length > 0) throw new EncodingError('xml', path, `a ${typeText} has no child elements`);
  let text = el.attrs['value'];
  if (text === undefined) throw new EncodingError('xml', path, 'value attribute missing');
  if (options.mapValue) text = options.mapValue(text, { element: el, tag, type: typeText, path });
  const node = parseValue(tag, typeText, text, ctx);
  if (node === undefined) throw new EncodingError('xml', path, `${JSON.stringify(text)} is not a valid ${typeText} here`);
  return node;
}

/** Converts one element (and its subtree) to a TTLV node. */
export function xmlToTtlv(el: XmlElement, options: XmlToTtlvOptions = {}): TtlvNode {
  return convert(el, `/${el.name}`, {}, options);
}

function formatValue(node: Exclude<TtlvNode, { type: 'Structure' }>, ctx: NamingContext): string {
  // Symbolic where the spec gives names (masks, enumerations), the plain lexical form otherwise.
  if (node.type === 'Integer') return formatMaskValue(node.tag, node.value, ' ', ctx) ?? plainLeafText(node);
  if (node.type === 'Enumeration') return formatEnumeration(node.tag, node.value, ctx);
  return plainLeafText(node);
}

function toElement(node: TtlvNode, ctx: NamingContext): XmlElement {
  const name = tagName(node.tag);
  const attrs: Record<string, string> = name === undefined ? { tag: hexFixed(node.tag, 6) } : {};
  if (node.type === 'Structure') {
    const childCtx = { attributeName: attributeNameAmong(node.value) };
    return { name: name ?? 'TTLV', attrs, children: node.value.map((c) => toElement(c, childCtx)) };
  }
  attrs['type'] = node.type;
  attrs['value'] = formatValue(node, ctx);
  return { name: name ?? 'TTLV', attrs, children: [] };
}

/** The element tree of a TTLV node (Structures without a type attribute, as the vectors write them). */
export function ttlvToXmlElement(node: TtlvNode): XmlElement {
  return toElement(node, {});
}

/** XML text of a TTLV node. */
export function ttlvToXml(node: TtlvNode, options: XmlFormatOptions = {}): string {
  return formatXml(ttlvToXmlElement(node), options);
}

// =============================================================================================
// 3. OASIS vector documents

function documentMessages(text: string, options: XmlParseOptions): { elements: XmlElement[]; wrapped: boolean } {
  const roots = parseXml(text, { allowStrayEndTags: options.allowStrayEndTags ?? true });
  const root = roots.length === 1 ? roots[0] : undefined;
  return root !== undefined && root.name === 'KMIP' ? { elements: root.children, wrapped: true } : { elements: roots, wrapped: false };
}

/**
 * The message elements of a vector document: the children of its `<KMIP>` root, or the top-level
 * elements themselves when there is no such wrapper. Stray top-level end tags are tolerated unless
 * `allowStrayEndTags` is false.
 */
export function xmlDocumentElements(text: string, options: XmlParseOptions = {}): XmlElement[] {
  return documentMessages(text, options).elements;
}

/** The RequestMessage / ResponseMessage sequence of an OASIS vector document, as TTLV. */
export function xmlDocumentMessages(text: string, options: XmlToTtlvOptions & XmlParseOptions = {}): TtlvNode[] {
  const { elements, wrapped } = documentMessages(text, options);
  const steps = pathSteps(elements.map((m) => m.name));
  return elements.map((m, i) => convert(m, `${wrapped ? '/KMIP' : ''}/${steps[i]}`, {}, options));
}
