/**
 * The codec benchmark's corpus: every RequestMessage and ResponseMessage of the OASIS XML vectors
 * (KMIP Profiles v1.4 / v2.1 mandatory test cases, KMIP Test Cases v1.4; read through the XML
 * encoding of Additional Message Encodings v1.0 §6.1), each held as a TTLV tree, its binary
 * encoding (KMIP 1.4 §9.1) and its KMIP-JSON text (Additional Message Encodings v1.0 §4.1).
 *
 * The corpus is deterministic: files in FILES.txt order, placeholders replaced by fixed values of
 * a realistic size (a UUID for `$UNIQUE_IDENTIFIER_n`, a fixed instant for `$NOW±N`, hash-derived
 * bytes for server-chosen byte strings), so every run measures the same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeTtlv } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/index.js';
import { ttlvToJsonText } from '../kmip/encodings/json.js';
import { formatDateTime, formatDateTimeExtended } from '../kmip/encodings/lexical.js';
import { xmlDocumentMessages, type XmlValueSite } from '../kmip/encodings/xml.js';

/** src/bench and dist/bench both sit two levels below the repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** KMIP_VECTORS_DIR, else ../shared/kmip-vectors beside the repository (as test/support/vectors-dir.ts). */
export function vectorsDirectory(): string {
  return process.env['KMIP_VECTORS_DIR'] ?? path.resolve(repoRoot, '../shared/kmip-vectors');
}

export interface CorpusMessage {
  /** Vector file, relative to the vectors directory. */
  readonly file: string;
  /** Position of the message in its file (0-based). */
  readonly index: number;
  readonly kind: 'request' | 'response';
  readonly node: TtlvNode;
  /** Binary TTLV, as encodeTtlv wrote it. */
  readonly binary: Buffer;
  /** Compact KMIP-JSON text. */
  readonly json: string;
}

export interface Corpus {
  readonly dir: string;
  /** Files that contributed messages. */
  readonly files: number;
  readonly messages: readonly CorpusMessage[];
  /** Files that could not be read or converted, with the reason; the benchmark reports them. */
  readonly skipped: readonly { file: string; reason: string }[];
}

export interface CorpusOptions {
  /** Vector files to read, relative to `dir`; default every file of FILES.txt. */
  files?: readonly string[];
}

/** Stand-in for `$NOW`: 2024-05-06T07:08:09Z. */
export const FIXED_NOW_SECONDS = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9) / 1000);

const NOW = /^\$NOW(?:([+-])(\d+))?$/;
const IDENTIFIER = /^\$UNIQUE_IDENTIFIER(?:_(\d+))?$/;

/** Byte-string placeholders: sized as a real server's value would be. */
function placeholderBytes(name: string): Buffer {
  let length = 16; // correlation values, IVs, authentication tags
  if (/^(KEY_MATERIAL|KEY_VALUE|DATA|MAC_DATA)/.test(name)) length = 32;
  else if (name.startsWith('SIGNATURE')) length = 256; // RSA-2048
  const out = Buffer.alloc(length);
  for (let block = 0; block * 32 < length; block++) {
    createHash('sha256').update(`${name}/${block}`).digest().copy(out, block * 32);
  }
  return out;
}

/**
 * The fixed value a placeholder stands for, as the XML `value` text of the item's type.
 * Literal values pass through unchanged.
 */
export function substitutePlaceholder(value: string, site: Pick<XmlValueSite, 'type' | 'path'>): string {
  if (!value.startsWith('$')) return value;
  const name = value.slice(1);
  const now = NOW.exec(value);
  if (now) {
    const offset = BigInt(now[2] ?? 0) * (now[1] === '-' ? -1n : 1n);
    const seconds = FIXED_NOW_SECONDS + offset;
    if (site.type === 'DateTime') return formatDateTime(seconds);
    if (site.type === 'DateTimeExtended') return formatDateTimeExtended(seconds * 1_000_000n);
  }
  switch (site.type) {
    case 'TextString': {
      const id = IDENTIFIER.exec(value);
      if (!id) return value;
      // A server-assigned identifier is typically a UUID; a fixed one per placeholder number.
      return `6f1e2d3c-4b5a-4968-8776-${(id[1] ?? 'a').padStart(12, '0')}`;
    }
    case 'ByteString':
      return placeholderBytes(name).toString('hex');
    case 'Integer':
    case 'Interval':
    case 'LongInteger':
      return '0';
    case 'Enumeration':
      return '0x00000000';
    case 'Boolean':
      return 'false';
    case 'BigInteger':
      return '0000000000000000';
    default:
      throw new Error(`${site.path}: no stand-in for placeholder ${value} of type ${site.type}`);
  }
}

/** The vector files in FILES.txt order. */
export function listVectorFiles(dir: string): string[] {
  const listing = path.join(dir, 'FILES.txt');
  if (!existsSync(listing)) throw new Error(`no FILES.txt in ${dir} (set KMIP_VECTORS_DIR)`);
  return readFileSync(listing, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const REQUEST_MESSAGE = 0x420078;
const RESPONSE_MESSAGE = 0x42007b;

/** Reads the vector files and builds the corpus. */
export function loadCorpus(dir: string = vectorsDirectory(), options: CorpusOptions = {}): Corpus {
  const files = options.files ?? listVectorFiles(dir);
  const messages: CorpusMessage[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let used = 0;
  for (const file of files) {
    let nodes: TtlvNode[];
    try {
      nodes = xmlDocumentMessages(readFileSync(path.join(dir, file), 'utf8'), { mapValue: substitutePlaceholder });
    } catch (err) {
      skipped.push({ file, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    let taken = 0;
    nodes.forEach((node, index) => {
      const kind = node.tag === REQUEST_MESSAGE ? 'request' : node.tag === RESPONSE_MESSAGE ? 'response' : undefined;
      if (kind === undefined) return;
      messages.push({ file, index, kind, node, binary: encodeTtlv(node), json: ttlvToJsonText(node, 0) });
      taken++;
    });
    if (taken > 0) used++;
  }
  return { dir, files: used, messages, skipped };
}

/** The corpus as the PyKMIP runner reads it: one lower-case hex line per message. */
export function corpusHexLines(messages: readonly CorpusMessage[]): string {
  return messages.map((m) => m.binary.toString('hex')).join('\n') + '\n';
}
