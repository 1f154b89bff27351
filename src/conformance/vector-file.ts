/**
 * One OASIS KMIP test-case file (KMIP Profiles v1.4 / v2.1 test cases, KMIP Test Cases v1.4) read
 * for the conformance runner: its request / expected-response pairs as XML element trees, the
 * reasons it cannot be run, and the literal values a later request replays ("captures").
 *
 * Captures, the generic rule: a Byte String or Text String literal that first appears in an
 * expected response (no earlier request of the file contains it) and is then sent again by a later
 * request is a value the server produced and the client echoes back: a ciphertext made under an
 * IV the server chose, an authentication tag, a vendor attribute name found by Get Attribute List.
 * The runner records what the server actually sent at that position of the response and puts it
 * in place of the literal in every later request. Where the server's value is deterministic
 * the capture is the same bytes and changes nothing; where it is free, the replay still works.
 *
 * Expected responses are converted with the XML encoding of src/kmip/encodings/xml.ts; placeholders
 * are swapped for neutral values during conversion and kept in a side table keyed by TTLV node
 * identity (xmlToTtlv maps each element to one node, children in order, so the trees walk in
 * step).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TtlvNode } from '../ttlv/types.js';
import { EncodingError } from '../kmip/encodings/encoding-error.js';
import { parseXml, xmlToTtlv, type XmlElement, type XmlValueSite } from '../kmip/encodings/xml.js';
import { literalKey, neutralText, parsePlaceholder, type Placeholder } from './placeholders.js';

/** Operations a server sends to a client (KMIP 1.4 §5 "Server-to-Client Operations"). */
const SERVER_TO_CLIENT_OPERATIONS = ['Notify', 'Put'] as const;

export interface VectorStep {
  /** 1-based position of the request in the file. */
  readonly index: number;
  readonly request: XmlElement;
  readonly response: XmlElement;
}

export interface VectorFile {
  readonly path: string;
  /** File name without `.xml`: the OASIS test-case id (`SKLC-M-1-14`). */
  readonly id: string;
  readonly steps: readonly VectorStep[];
  /** Why the file cannot be run; undefined when it can. */
  readonly skip?: string;
  /** Expected-response leaf elements whose actual value later requests replay, with its literal key. */
  readonly captures: ReadonlyMap<XmlElement, string>;
  /** Protocol version of the first request ("1.4"), used for clean-up requests. */
  readonly version: { major: number; minor: number };
}

/** What the comparator needs to know about an expected leaf beyond its TTLV value. */
export interface LeafNote {
  readonly placeholder?: Placeholder;
  /** Literal key to record the actual value under (see captures). */
  readonly captureKey?: string;
}

export interface ExpectedResponse {
  readonly node: TtlvNode;
  readonly notes: ReadonlyMap<TtlvNode, LeafNote>;
}

export function fileId(file: string): string {
  return path.basename(file).replace(/\.xml$/i, '');
}

/** Reads and analyses a vector file; never throws for a bad file (it becomes a skip). */
export function loadVectorFile(file: string): VectorFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return unrunnable(file, `cannot read file: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseVectorFile(text, file);
}

function unrunnable(file: string, skip: string): VectorFile {
  return { path: file, id: fileId(file), steps: [], skip, captures: new Map(), version: { major: 1, minor: 0 } };
}

const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function parseVectorFile(text: string, file: string): VectorFile {
  let roots: XmlElement[];
  try {
    // TC-ECDSA-SIGN-1-14.xml ends with a second </KMIP>: an upstream defect the reader can step over.
    roots = parseXml(text, { allowStrayEndTags: true });
  } catch (err) {
    return unrunnable(file, `not readable as XML: ${describeError(err)}`);
  }
  const only = roots.length === 1 ? roots[0] : undefined;
  const messages = only !== undefined && only.name === 'KMIP' ? only.children : roots;

  const steps: VectorStep[] = [];
  for (let i = 0; i < messages.length; i += 2) {
    const request = messages[i]!;
    const response = messages[i + 1];
    const index = i / 2 + 1;
    if (request.name !== 'RequestMessage') return unrunnable(file, `message ${i + 1} is <${request.name}>, expected <RequestMessage>`);
    if (response === undefined) return unrunnable(file, `request ${index} has no expected response`);
    if (response.name !== 'ResponseMessage') {
      return unrunnable(file, `request ${index} is followed by <${response.name}>, not its <ResponseMessage> (messages out of order in the file)`);
    }
    steps.push({ index, request, response });
  }
  if (steps.length === 0) return unrunnable(file, 'no request messages');

  for (const step of steps) {
    for (const item of step.request.children.filter((c) => c.name === 'BatchItem')) {
      const op = item.children.find((c) => c.name === 'Operation')?.attrs['value'];
      if (op !== undefined && (SERVER_TO_CLIENT_OPERATIONS as readonly string[]).includes(op)) {
        return unrunnable(file, `request ${step.index} is the server-to-client operation ${op}; a client-side runner cannot receive it`);
      }
    }
  }

  // Every message must convert; a file whose XML we cannot read as KMIP is not run at all.
  for (const step of steps) {
    try {
      xmlToTtlv(step.request, { mapValue: neutralPlaceholders });
    } catch (err) {
      return unrunnable(file, `request ${step.index} cannot be read: ${describeError(err)}`);
    }
    try {
      convertExpected(step.response, new Map());
    } catch (err) {
      return unrunnable(file, `expected response ${step.index} cannot be read: ${describeError(err)}`);
    }
  }

  return { path: file, id: fileId(file), steps, captures: findCaptures(steps), version: requestVersion(steps[0]!.request) };
}

function requestVersion(request: XmlElement): { major: number; minor: number } {
  const pv = request.children.find((c) => c.name === 'RequestHeader')?.children.find((c) => c.name === 'ProtocolVersion');
  const num = (name: string): number => Number(pv?.children.find((c) => c.name === name)?.attrs['value'] ?? NaN);
  const major = num('ProtocolVersionMajor');
  const minor = num('ProtocolVersionMinor');
  return Number.isInteger(major) && Number.isInteger(minor) ? { major, minor } : { major: 1, minor: 0 };
}

function neutralPlaceholders(value: string, site: XmlValueSite): string {
  const p = parsePlaceholder(value);
  if (p === undefined) return value;
  if (p.kind === 'now' && site.type !== 'DateTime' && site.type !== 'DateTimeExtended') {
    throw new EncodingError('xml', site.path, `${value} on a ${site.type}`);
  }
  return neutralText(site.type);
}

function* leaves(el: XmlElement): Generator<XmlElement> {
  if (el.children.length === 0 && el.attrs['value'] !== undefined) yield el;
  for (const c of el.children) yield* leaves(c);
}

function leafKeyOf(el: XmlElement): string | undefined {
  const value = el.attrs['value'];
  const type = el.attrs['type'];
  if (value === undefined || type === undefined || parsePlaceholder(value) !== undefined) return undefined;
  if (type !== 'ByteString' && type !== 'TextString') return undefined;
  return literalKey(type, value);
}

function findCaptures(steps: readonly VectorStep[]): Map<XmlElement, string> {
  const requestKeys = steps.map((s) => {
    const keys = new Set<string>();
    for (const leaf of leaves(s.request)) {
      const k = leafKeyOf(leaf);
      if (k !== undefined) keys.add(k);
    }
    return keys;
  });
  const captures = new Map<XmlElement, string>();
  steps.forEach((step, i) => {
    for (const leaf of leaves(step.response)) {
      const key = leafKeyOf(leaf);
      if (key === undefined) continue;
      const sentBefore = requestKeys.slice(0, i + 1).some((keys) => keys.has(key));
      const sentAfter = requestKeys.slice(i + 1).some((keys) => keys.has(key));
      if (!sentBefore && sentAfter) captures.set(leaf, key);
    }
  });
  return captures;
}

/** Converts an expected response, recording placeholders and capture points per TTLV node. */
export function convertExpected(response: XmlElement, captures: ReadonlyMap<XmlElement, string>): ExpectedResponse {
  const node = xmlToTtlv(response, { mapValue: neutralPlaceholders });
  const notes = new Map<TtlvNode, LeafNote>();
  const walk = (el: XmlElement, n: TtlvNode): void => {
    if (n.type === 'Structure') {
      // xmlToTtlv keeps one node per child element, in order.
      n.value.forEach((child, i) => walk(el.children[i]!, child));
      return;
    }
    const placeholder = parsePlaceholder(el.attrs['value'] ?? '');
    const captureKey = captures.get(el);
    if (placeholder !== undefined || captureKey !== undefined) {
      notes.set(n, { ...(placeholder && { placeholder }), ...(captureKey !== undefined && { captureKey }) });
    }
  };
  walk(response, node);
  return { node, notes };
}
