/**
 * Compares an actual KMIP response with the expected one of a test-case file, in the TTLV domain
 * (KMIP 1.4 §9.1 / 2.1 §9.1 items: tag, type, value), and reports the first difference with an
 * element path in XML names (`BatchItem/ResponsePayload/UniqueIdentifier`), as the OASIS files
 * write it (Additional Message Encodings §6.1).
 *
 * Everything is compared exactly — tags, item types, values, order and count of items — except
 * where rules.ts says otherwise; this module holds the mechanics, rules.ts the policy.
 *
 * Placeholders bind as they are met. A comparison that tries one candidate among several (an
 * unordered attribute list) works on a fork of the bindings and keeps them only when the
 * candidate matches, so a rejected candidate never leaves a binding behind.
 */
import type { StructureNode, TtlvNode } from '../ttlv/types.js';
import { Tag, tagLabel, tagName } from '../kmip/registry.js';
import { pathSteps } from '../kmip/encodings/encoding-error.js';
import { bytesToHex, formatDateTime } from '../kmip/encodings/lexical.js';
import { attributeNameAmong, formatEnumeration, formatMaskValue } from '../kmip/encodings/value-names.js';
import { sameLeaf, type Bindings, type LeafNode } from './placeholders.js';
import {
  identityKey,
  isFailureStatus,
  isFreeValue,
  isIgnoredField,
  isIgnoredSubtree,
  isUnorderedStructure,
  mayBeExtraRun,
  runMode,
  type ItemContext,
  type RunMode,
} from './rules.js';
import type { ExpectedResponse, LeafNote } from './vector-file.js';

export interface Difference {
  /** Element path below the message root, e.g. `BatchItem/ResponsePayload/UniqueIdentifier`. */
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
}

/** Times a `$NOW` in a response may take, in seconds since the epoch (inclusive). */
export interface TimeWindow {
  readonly fromSeconds: bigint;
  readonly toSeconds: bigint;
}

export const NO_ITEM_CONTEXT: ItemContext = { operation: undefined, randomMaterial: false, serverChoseIv: false, requestData: 'none', requestPayload: undefined };

/**
 * Compares a response message. `itemContexts[k]` describes the k-th actual batch item. Bindings
 * and captures made while comparing are written to `bindings` only when the whole message matches.
 */
export function compareResponse(
  expected: ExpectedResponse,
  actual: TtlvNode,
  bindings: Bindings,
  window: TimeWindow,
  itemContexts: readonly ItemContext[],
): Difference | undefined {
  const scratch = new Scratch(bindings);
  const comparer = new Comparer(expected.notes, window, itemContexts);
  const root = expected.node;
  let difference: Difference | undefined;
  if (actual.tag !== root.tag || actual.type !== 'Structure' || root.type !== 'Structure') {
    difference = { path: '', expected: tagLabel(root.tag), actual: tagLabel(actual.tag) };
  } else {
    difference = statusFirst(root, actual) ?? comparer.node(root, actual, '', -1, NO_ITEM_CONTEXT, scratch);
  }
  if (difference === undefined) scratch.commit();
  return difference;
}

/**
 * A batch item that failed where it should have succeeded (or the reverse) is reported before
 * anything else, header included: a server that rejects a request often answers with a generic
 * error message (another protocol version, one batch item), and the reason it gives is what the
 * reader needs, not the header field that differs as a consequence.
 */
function statusFirst(e: StructureNode, a: StructureNode): Difference | undefined {
  const eItems = positioned(e.value.filter((c) => c.tag === Tag.BatchItem), '');
  const aItems = a.value.filter((c): c is StructureNode => c.tag === Tag.BatchItem && c.type === 'Structure');
  for (let k = 0; k < Math.min(eItems.length, aItems.length); k++) {
    const eItem = eItems[k]!;
    const eStatus = eItem.node.type === 'Structure' ? findChild(eItem.node, Tag.ResultStatus) : undefined;
    const aStatus = findChild(aItems[k]!, Tag.ResultStatus);
    if (eStatus?.type === 'Enumeration' && aStatus?.type === 'Enumeration' && eStatus.value !== aStatus.value) {
      return { path: join(eItem.path, 'ResultStatus'), expected: formatValue(eStatus), actual: outcome(aItems[k]!) };
    }
  }
  return undefined;
}

/** One level of tentative bindings over the file's bindings. */
class Scratch {
  readonly identifiers = new Map<string, LeafNode>();
  readonly serverValues = new Map<string, LeafNode>();
  readonly captures = new Map<string, LeafNode>();

  constructor(
    private readonly base: Bindings,
    private readonly parent?: Scratch,
  ) {}

  identifier(name: string): LeafNode | undefined {
    return this.identifiers.get(name) ?? (this.parent ? this.parent.identifier(name) : this.base.identifiers.get(name));
  }

  /** Every identifier binding visible here, innermost first. */
  *allIdentifiers(): Generator<[string, LeafNode]> {
    yield* this.identifiers;
    if (this.parent) yield* this.parent.allIdentifiers();
    else yield* this.base.identifiers;
  }

  fork(): Scratch {
    return new Scratch(this.base, this);
  }

  commit(): void {
    const into = this.parent ?? this.base;
    for (const [k, v] of this.identifiers) into.identifiers.set(k, v);
    for (const [k, v] of this.serverValues) into.serverValues.set(k, v);
    for (const [k, v] of this.captures) into.captures.set(k, v);
  }
}

interface Positioned {
  readonly node: TtlvNode;
  readonly path: string;
}

interface Unit {
  readonly tag: number;
  readonly mode: RunMode | undefined;
  readonly items: Positioned[];
}

const NOTHING = 'nothing';

class Comparer {
  #batchItemOrdinal = 0;

  constructor(
    private readonly notes: ReadonlyMap<TtlvNode, LeafNote>,
    private readonly window: TimeWindow,
    private readonly itemContexts: readonly ItemContext[],
  ) {}

  node(e: TtlvNode, a: TtlvNode, path: string, parentTag: number, ctx: ItemContext, s: Scratch, naming?: string): Difference | undefined {
    if (e.type !== a.type) return { path, expected: e.type, actual: `${a.type} ${describe(a, naming)}` };
    if (e.type === 'Structure') {
      if (isFreeValue(e, parentTag, ctx)) return undefined;
      const structure = a as StructureNode;
      if (e.tag === Tag.BatchItem && parentTag === Tag.ResponseMessage) {
        const itemCtx = this.itemContexts[this.#batchItemOrdinal++] ?? NO_ITEM_CONTEXT;
        return this.batchItem(e, structure, path, itemCtx, s);
      }
      return this.children(e.value, structure.value, path, e.tag, ctx, s);
    }
    return this.leaf(e, a as LeafNode, path, parentTag, ctx, s, naming);
  }

  private leaf(e: LeafNode, a: LeafNode, path: string, parentTag: number, ctx: ItemContext, s: Scratch, naming: string | undefined): Difference | undefined {
    const note = this.notes.get(e);
    const p = note?.placeholder;
    let difference: Difference | undefined;
    if (p?.kind === 'now') {
      difference = this.checkNow(a, p.offsetSeconds, p.text, path);
    } else if (p?.kind === 'identifier') {
      difference = checkIdentifier(p.text, a, path, s);
    } else if (p?.kind === 'server-value') {
      s.serverValues.set(p.text, a);
    } else if (!isFreeValue(e, parentTag, ctx) && !sameLeaf(e, a)) {
      difference = { path, expected: formatValue(e, naming), actual: formatValue(a, naming) };
    }
    if (difference === undefined && note?.captureKey !== undefined) s.captures.set(note.captureKey, a);
    return difference;
  }

  /** An expected item the actual response lacks; placeholders are shown as written in the file. */
  private missing(e: Positioned, naming: string | undefined): Difference {
    const p = e.node.type === 'Structure' ? undefined : this.notes.get(e.node)?.placeholder;
    return { path: e.path, expected: p ? `${elementName(e.node.tag)}=${p.text}` : describe(e.node, naming), actual: NOTHING };
  }

  private checkNow(a: LeafNode, offset: number, text: string, path: string): Difference | undefined {
    let seconds: bigint;
    if (a.type === 'DateTime') seconds = a.value;
    else if (a.type === 'DateTimeExtended') seconds = a.value / 1_000_000n;
    else return { path, expected: `${text} (a Date-Time)`, actual: `${a.type} ${formatValue(a)}` };
    const from = this.window.fromSeconds + BigInt(offset);
    const to = this.window.toSeconds + BigInt(offset);
    if (seconds >= from && seconds <= to) return undefined;
    return { path, expected: `${text} (${formatDateTime(from)} .. ${formatDateTime(to)})`, actual: formatValue(a) };
  }

  private batchItem(e: StructureNode, a: StructureNode, path: string, ctx: ItemContext, s: Scratch): Difference | undefined {
    const eStatus = findChild(e, Tag.ResultStatus);
    const aStatus = findChild(a, Tag.ResultStatus);
    const statusPath = join(path, 'ResultStatus');
    if (eStatus?.type === 'Enumeration' && isFailureStatus(eStatus.value)) {
      if (aStatus === undefined) return { path: statusPath, expected: formatValue(eStatus), actual: NOTHING };
      if (!sameLeaf(eStatus, aStatus as LeafNode)) return { path: statusPath, expected: formatValue(eStatus), actual: outcome(a) };
      const eReason = findChild(e, Tag.ResultReason);
      if (eReason === undefined) return undefined;
      const aReason = findChild(a, Tag.ResultReason);
      const reasonPath = join(path, 'ResultReason');
      if (aReason === undefined) return { path: reasonPath, expected: formatValue(eReason as LeafNode), actual: NOTHING };
      if (!sameLeaf(eReason as LeafNode, aReason as LeafNode)) {
        const message = findChild(a, Tag.ResultMessage);
        const said = message?.type === 'TextString' ? ` (${JSON.stringify(message.value)})` : '';
        return { path: reasonPath, expected: formatValue(eReason as LeafNode), actual: `${formatValue(aReason as LeafNode)}${said}` };
      }
      return undefined;
    }
    // A success expected but a failure received: say why the server failed, not just "OperationFailed".
    if (eStatus !== undefined && aStatus !== undefined && !sameLeaf(eStatus as LeafNode, aStatus as LeafNode)) {
      return { path: statusPath, expected: formatValue(eStatus as LeafNode), actual: outcome(a) };
    }
    return this.children(e.value, a.value, path, Tag.BatchItem, ctx, s);
  }

  private children(eAll: readonly TtlvNode[], aAll: readonly TtlvNode[], path: string, parentTag: number, ctx: ItemContext, s: Scratch): Difference | undefined {
    const keep = (n: TtlvNode): boolean => !isIgnoredField(parentTag, n.tag) && !isIgnoredSubtree(parentTag, n.tag, ctx);
    const e = eAll.filter(keep);
    const a = aAll.filter(keep);
    const ePos = positioned(e, path);
    const aPos = positioned(a, path);
    const eNaming = attributeNameAmong(e);
    const aNaming = attributeNameAmong(a);

    if (isUnorderedStructure(parentTag)) return this.group(ePos, aPos, 'unordered', parentTag, ctx, s);

    const eUnits = units(ePos, parentTag, ctx);
    const aUnits = units(aPos, parentTag, ctx);
    let j = 0;
    for (let i = 0; i < eUnits.length; i++) {
      const eu = eUnits[i]!;
      // A whole list the server may add (a Query list nobody asked about in the vector) is skipped.
      while (j < aUnits.length && aUnits[j]!.tag !== eu.tag && mayBeExtraRun(aUnits[j]!.mode)) j++;
      const au = aUnits[j];
      if (au === undefined) return this.missing(eu.items[0]!, eNaming);
      if (au.tag !== eu.tag) {
        // Which side is out of step: if the expected tag still comes later, the actual one is extra.
        const later = aUnits.slice(j + 1).some((u) => u.tag === eu.tag);
        return later ? extra(au.items[0]!, aNaming) : this.missing(eu.items[0]!, eNaming);
      }
      j++;
      const d =
        eu.mode === undefined
          ? this.node(eu.items[0]!.node, au.items[0]!.node, eu.items[0]!.path, parentTag, ctx, s, eNaming)
          : this.group(eu.items, au.items, eu.mode, parentTag, ctx, s);
      if (d) return d;
    }
    for (; j < aUnits.length; j++) {
      const au = aUnits[j]!;
      if (!mayBeExtraRun(au.mode)) return extra(au.items[0]!, aNaming);
    }
    return undefined;
  }

  /** Matches a run of items regardless of order (or as a subset / subsequence, per mode). */
  private group(es: readonly Positioned[], as: readonly Positioned[], mode: RunMode, parentTag: number, ctx: ItemContext, s: Scratch): Difference | undefined {
    const used = new Array<boolean>(as.length).fill(false);
    const eNaming = attributeNameAmong(es.map((p) => p.node));
    const aNaming = attributeNameAmong(as.map((p) => p.node));
    let cursor = 0;
    for (const e of es) {
      let matched = -1;
      for (let j = mode === 'subsequence' ? cursor : 0; j < as.length; j++) {
        const a = as[j]!;
        if (used[j] || a.node.tag !== e.node.tag) continue;
        const trial = s.fork();
        if (this.node(e.node, a.node, e.path, parentTag, ctx, trial, eNaming) === undefined) {
          trial.commit();
          matched = j;
          break;
        }
      }
      if (matched < 0) {
        // Report against the actual item of the same identity (same attribute name), if any.
        const key = identityKey(e.node, parentTag);
        const candidate = key === undefined ? -1 : as.findIndex((a, j) => !used[j] && a.node.tag === e.node.tag && identityKey(a.node, parentTag) === key);
        if (candidate >= 0) {
          const d = this.node(e.node, as[candidate]!.node, e.path, parentTag, ctx, s.fork(), eNaming);
          if (d) return d;
        }
        return this.missing(e, eNaming);
      }
      used[matched] = true;
      cursor = matched + 1;
    }
    if (mode === 'unordered') {
      const left = used.indexOf(false);
      if (left >= 0) return extra(as[left]!, aNaming);
    }
    return undefined;
  }
}

function checkIdentifier(name: string, a: LeafNode, path: string, s: Scratch): Difference | undefined {
  const bound = s.identifier(name);
  if (bound !== undefined) {
    return sameLeaf(bound, a) ? undefined : { path, expected: `${formatValue(bound)} (${name})`, actual: formatValue(a) };
  }
  for (const [other, value] of s.allIdentifiers()) {
    if (other !== name && sameLeaf(value, a)) {
      return { path, expected: `a new object for ${name}`, actual: `${formatValue(a)}, the object of ${other}` };
    }
  }
  s.identifiers.set(name, a);
  return undefined;
}

function findChild(node: StructureNode, tag: number): TtlvNode | undefined {
  return node.value.find((c) => c.tag === tag);
}

function join(path: string, step: string): string {
  return path === '' ? step : `${path}/${step}`;
}

function elementName(tag: number): string {
  return tagName(tag) ?? tagLabel(tag);
}

function positioned(nodes: readonly TtlvNode[], path: string): Positioned[] {
  const steps = pathSteps(nodes.map((n) => elementName(n.tag)));
  return nodes.map((node, i) => ({ node, path: join(path, steps[i]!) }));
}

function units(items: readonly Positioned[], parentTag: number, ctx: ItemContext): Unit[] {
  const out: Unit[] = [];
  for (const item of items) {
    const mode = runMode(parentTag, item.node.tag, ctx);
    const last = out[out.length - 1];
    if (mode !== undefined && last !== undefined && last.mode === mode && last.tag === item.node.tag) last.items.push(item);
    else out.push({ tag: item.node.tag, mode, items: [item] });
  }
  return out;
}


function extra(a: Positioned, naming: string | undefined): Difference {
  return { path: a.path, expected: NOTHING, actual: describe(a.node, naming) };
}

/** "OperationFailed (ItemNotFound: message)" for a batch item's outcome. */
function outcome(item: StructureNode): string {
  const status = findChild(item, Tag.ResultStatus);
  const reason = findChild(item, Tag.ResultReason);
  const message = findChild(item, Tag.ResultMessage);
  const parts = [reason?.type === 'Enumeration' ? formatValue(reason) : undefined, message?.type === 'TextString' ? JSON.stringify(message.value) : undefined].filter(
    (p): p is string => p !== undefined,
  );
  const head = status?.type === 'Enumeration' ? formatValue(status) : NOTHING;
  return parts.length > 0 ? `${head} (${parts.join(': ')})` : head;
}

/** A short description of an item: `Name=value` for leaves, the attribute name for attributes. */
export function describe(node: TtlvNode, naming?: string): string {
  const name = elementName(node.tag);
  if (node.type !== 'Structure') return `${name}=${formatValue(node, naming)}`;
  if (node.tag === Tag.Attribute) {
    const attributeName = node.value.find((c) => c.tag === Tag.AttributeName);
    if (attributeName?.type === 'TextString') return `Attribute(${attributeName.value})`;
  }
  return name;
}

const MAX_HEX = 96;

/** A leaf value as the XML encoding writes it (enumeration and mask names, dates, hex). */
export function formatValue(node: LeafNode, naming?: string): string {
  const ctx = { attributeName: naming };
  switch (node.type) {
    case 'Enumeration':
      return formatEnumeration(node.tag, node.value, ctx);
    case 'Integer':
      return formatMaskValue(node.tag, node.value, ' ', ctx) ?? String(node.value);
    case 'ByteString': {
      const hex = bytesToHex(node.value);
      return hex.length > MAX_HEX ? `${hex.slice(0, MAX_HEX)}… (${node.value.length} bytes)` : hex === '' ? '(empty)' : hex;
    }
    case 'TextString':
      return node.value === '' || node.value.trim() !== node.value ? JSON.stringify(node.value) : node.value;
    case 'DateTime':
      return formatDateTime(node.value);
    case 'DateTimeExtended':
      return `${node.value} µs`;
    case 'BigInteger':
    case 'LongInteger':
      return node.value.toString();
    default:
      return String(node.value);
  }
}
