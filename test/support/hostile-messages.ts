// Hostile KMIP requests for the K2 robustness suite: random bytes behind a plausible TTLV header,
// and valid requests with bit flips, truncations, rewritten length fields, unknown tags, wrong
// item types, absurd batch counts, deep nesting and oversize declared lengths. Everything derives
// from one seed, so a failing run is reproduced by its printed seed and message index.
//
// Each message is a complete frame as far as its outer header says (header + declared length,
// padded to 8), except the `oversize-outer` kind, whose declared length exceeds the server's
// message limit on purpose: the server must refuse it from the header alone, without waiting for
// a body. A frame that declares more bytes than are sent would only test the read timeout.
import { encodeRequest, type BatchItemRequest, type HeaderOptions } from '../../src/client/request.js';
import { Enum, Tag } from '../../src/kmip/registry.js';
import type { KmipVersion } from '../../src/kmip/version.js';
import { ItemType } from '../../src/ttlv/types.js';
import { attr, enumeration, ops, v14, v21 } from './lifecycle-requests.js';

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const HEADER = 8;
const pad8 = (n: number): number => n + ((8 - (n % 8)) % 8);

/** Where one item's header sits in an encoded message. */
interface ItemPos {
  offset: number;
  tag: number;
  type: number;
  length: number;
  depth: number;
}

/** Walks a well-formed TTLV buffer, listing every item (the top-level one first). */
export function walkItems(buf: Buffer): ItemPos[] {
  const out: ItemPos[] = [];
  const visit = (start: number, end: number, depth: number): void => {
    let off = start;
    while (off + HEADER <= end) {
      const tag = buf.readUIntBE(off, 3);
      const type = buf[off + 3]!;
      const length = buf.readUInt32BE(off + 4);
      out.push({ offset: off, tag, type, length, depth });
      if (type === ItemType.Structure) visit(off + HEADER, off + HEADER + length, depth + 1);
      off += HEADER + pad8(length);
    }
  };
  visit(0, buf.length, 0);
  return out;
}

/** Rewrites the outer header's length so the frame is exactly the bytes sent (padding the body to 8). */
function reframe(buf: Buffer): Buffer {
  const body = buf.subarray(HEADER);
  const padded = Buffer.alloc(pad8(body.length));
  body.copy(padded);
  const head = Buffer.from(buf.subarray(0, HEADER));
  head.writeUInt32BE(padded.length, 4);
  return Buffer.concat([head, padded]);
}

function structHeader(tag: number, length: number, type: number = ItemType.Structure): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUIntBE(tag, 0, 3);
  h[3] = type;
  h.writeUInt32BE(length >>> 0, 4);
  return h;
}

const versions: KmipVersion[] = [v14, v21];

/** Well-formed requests the mutations start from. */
export function baseRequests(rng: Rng): { version: KmipVersion; items: BatchItemRequest[] } {
  const version = rng.pick(versions);
  const choices: (() => BatchItemRequest[])[] = [
    () => [{ operation: Enum.Operation.DiscoverVersions, payload: [] }],
    () => [{ operation: Enum.Operation.Query, payload: [enumeration(Tag.QueryFunction, Enum.QueryFunction.QueryOperations), enumeration(Tag.QueryFunction, Enum.QueryFunction.QueryObjects)] }],
    () => [ops.createKey(version, Enum.CryptographicAlgorithm.AES, 256, 0x4 | 0x8)],
    () => [ops.get(`no-such-${rng.int(1e6)}`)],
    () => [ops.registerKey(version, rng.bytes(32), 0x4 | 0x8, [attr.name(`hostile-${rng.int(1e6)}`)])],
    () => [ops.getAttributes(version, `no-such-${rng.int(1e6)}`, ['CryptographicAlgorithm'])],
    () => [ops.get(`no-such-${rng.int(1e6)}`), { operation: Enum.Operation.DiscoverVersions, payload: [] }],
    () => [{ operation: Enum.Operation.Locate, payload: [] }],
  ];
  return { version, items: rng.pick(choices)() };
}

export function baseMessage(rng: Rng, header?: HeaderOptions): Buffer {
  const { version, items } = baseRequests(rng);
  return encodeRequest(version, items, header);
}

export type HostileKind =
  | 'random-body'
  | 'random-items'
  | 'bit-flips'
  | 'truncated'
  | 'length-field'
  | 'unknown-tag'
  | 'wrong-type'
  | 'batch-count'
  | 'too-many-items'
  | 'deep-nesting'
  | 'oversize-outer'
  | 'oversize-inner'
  | 'trailing-garbage'
  | 'valid';

export interface HostileMessage {
  index: number;
  kind: HostileKind;
  bytes: Buffer;
  /** For `valid`: the server must answer it with Success on every batch item. */
  mustSucceed: boolean;
  note: string;
}

const typeCodes = Object.values(ItemType) as number[];

/** A random but structurally well-formed TTLV item (tags from the KMIP range or not, any type). */
function randomItem(rng: Rng, depth: number): Buffer {
  const tag = rng.next() < 0.8 ? 0x420000 + rng.int(0x160) : rng.next() < 0.5 ? 0x540000 + rng.int(0x10000) : rng.int(0x1000000);
  const type = depth < 4 && rng.next() < 0.3 ? ItemType.Structure : rng.pick(typeCodes);
  if (type === ItemType.Structure) {
    const kids: Buffer[] = [];
    const n = rng.int(5);
    for (let i = 0; i < n; i++) kids.push(randomItem(rng, depth + 1));
    const body = Buffer.concat(kids);
    return Buffer.concat([structHeader(tag, body.length), body]);
  }
  let length: number;
  switch (type) {
    case ItemType.Integer:
    case ItemType.Enumeration:
    case ItemType.Interval:
      length = 4;
      break;
    case ItemType.LongInteger:
    case ItemType.Boolean:
    case ItemType.DateTime:
      length = 8;
      break;
    default:
      length = rng.int(40);
  }
  const value = rng.bytes(length);
  const padded = Buffer.alloc(pad8(length));
  value.copy(padded);
  return Buffer.concat([structHeader(tag, length, type), padded]);
}

/** Nested empty-ish structures `depth` deep, inside an otherwise valid request payload. */
function deeplyNested(depth: number): Buffer {
  // Build from the inside out, as raw headers (no recursion in the test either).
  const leaf = Buffer.concat([structHeader(Tag.UniqueIdentifier, 3, ItemType.TextString), Buffer.from('abc\0\0\0\0\0', 'latin1')]);
  const headers: Buffer[] = [];
  let len = leaf.length;
  for (let i = 0; i < depth; i++) {
    headers.push(structHeader(Tag.Attributes, len));
    len += HEADER;
  }
  headers.reverse();
  return Buffer.concat([...headers, leaf]);
}

/** Splices `inner` in as the last item of the first Request Payload of a valid Get request. */
function withPayloadItem(version: KmipVersion, inner: Buffer): Buffer {
  const base = encodeRequest(version, [ops.get('x')]);
  const items = walkItems(base);
  const payload = items.find((i) => i.tag === Tag.RequestPayload)!;
  const end = payload.offset + HEADER + payload.length;
  const out = Buffer.concat([base.subarray(0, end), inner, base.subarray(end)]);
  // Grow every enclosing structure's length: the message, the batch item and the payload.
  for (const it of items) {
    if (it.type === ItemType.Structure && it.offset <= payload.offset && it.offset + HEADER + it.length >= end) {
      out.writeUInt32BE(it.length + inner.length, it.offset + 4);
    }
  }
  return out;
}

export function hostileMessage(rng: Rng, index: number): HostileMessage {
  const kinds: [HostileKind, number][] = [
    ['random-body', 8],
    ['random-items', 10],
    ['bit-flips', 16],
    ['truncated', 8],
    ['length-field', 10],
    ['unknown-tag', 8],
    ['wrong-type', 8],
    ['batch-count', 5],
    ['too-many-items', 2],
    ['deep-nesting', 4],
    ['oversize-outer', 3],
    ['oversize-inner', 5],
    ['trailing-garbage', 5],
    ['valid', 8],
  ];
  const total = kinds.reduce((s, [, w]) => s + w, 0);
  let r = rng.int(total);
  let kind: HostileKind = 'valid';
  for (const [k, w] of kinds) {
    if (r < w) {
      kind = k;
      break;
    }
    r -= w;
  }
  const mk = (bytes: Buffer, note = '', mustSucceed = false): HostileMessage => ({ index, kind, bytes, note, mustSucceed });

  switch (kind) {
    case 'random-body': {
      const len = 8 * rng.int(80);
      return mk(Buffer.concat([structHeader(Tag.RequestMessage, len), rng.bytes(len)]), `len=${len}`);
    }
    case 'random-items': {
      const kids: Buffer[] = [];
      const n = rng.range(1, 6);
      for (let i = 0; i < n; i++) kids.push(randomItem(rng, 1));
      const body = Buffer.concat(kids);
      return mk(Buffer.concat([structHeader(rng.next() < 0.8 ? Tag.RequestMessage : rng.int(0x1000000), body.length), body]));
    }
    case 'bit-flips': {
      const b = Buffer.from(baseMessage(rng));
      const flips = rng.range(1, 8);
      const where: number[] = [];
      for (let i = 0; i < flips; i++) {
        // Outside the outer length field (bytes 4..7), which would only desynchronise framing;
        // the outer tag and type bytes are fair game.
        let pos = rng.int(b.length);
        if (pos >= 4 && pos < 8) pos = HEADER + rng.int(b.length - HEADER);
        b[pos]! ^= 1 << rng.int(8);
        where.push(pos);
      }
      return mk(b, `flips@${where.join(',')}`);
    }
    case 'truncated': {
      const b = baseMessage(rng);
      const cut = HEADER + rng.int(b.length - HEADER);
      return mk(reframe(b.subarray(0, cut)), `cut=${cut}/${b.length}`);
    }
    case 'length-field': {
      const b = Buffer.from(baseMessage(rng));
      const items = walkItems(b).filter((i) => i.depth > 0);
      const it = rng.pick(items);
      const choices = [0, 1, it.length + 1, it.length - 1, it.length + 8, it.length * 2, 0xffffffff, 0x7fffffff, 0x80000000, rng.int(0x10000), b.length];
      const v = rng.pick(choices) >>> 0;
      b.writeUInt32BE(v, it.offset + 4);
      return mk(b, `item@${it.offset} tag=0x${it.tag.toString(16)} len ${it.length}->${v}`);
    }
    case 'unknown-tag': {
      const b = Buffer.from(baseMessage(rng));
      const items = walkItems(b).filter((i) => i.depth > 0);
      const it = rng.pick(items);
      const tag = rng.pick([0x42ffff, 0x42fff0 + rng.int(16), 0x540000 + rng.int(0x10000), 0x000000, 0xffffff, rng.int(0x1000000)]);
      b.writeUIntBE(tag, it.offset, 3);
      return mk(b, `item@${it.offset} tag 0x${it.tag.toString(16)}->0x${tag.toString(16)}`);
    }
    case 'wrong-type': {
      const b = Buffer.from(baseMessage(rng));
      const items = walkItems(b);
      const it = rng.pick(items);
      let type = rng.next() < 0.8 ? rng.pick(typeCodes) : rng.int(256);
      if (type === it.type) type = (type % 0x0a) + 1;
      b[it.offset + 3] = type;
      return mk(b, `item@${it.offset} tag=0x${it.tag.toString(16)} type ${it.type}->${type}`);
    }
    case 'batch-count': {
      const count = rng.pick([0, 2, 64, 65, 1000, 65535, 0x7fffffff, -1, -0x80000000]);
      const { version, items } = baseRequests(rng);
      return mk(encodeRequest(version, items, { batchCount: count }), `batchCount=${count} items=${items.length}`);
    }
    case 'too-many-items': {
      const n = rng.pick([65, 100, 1000, 5000]);
      const items: BatchItemRequest[] = Array.from({ length: n }, () => ({ operation: Enum.Operation.DiscoverVersions, payload: [] }));
      return mk(encodeRequest(rng.pick(versions), items), `items=${n}`);
    }
    case 'deep-nesting': {
      const depth = rng.pick([30, 33, 64, 1_000, 10_000, 100_000]);
      return mk(withPayloadItem(rng.pick(versions), deeplyNested(depth)), `depth=${depth}`);
    }
    case 'oversize-outer': {
      const len = rng.pick([0x7ffffff8, 0xfffffff8, 1024 * 1024 + 8, 64 * 1024 * 1024]);
      // Only the header and a little of the body: the server must refuse from the header.
      return mk(Buffer.concat([structHeader(Tag.RequestMessage, len), rng.bytes(8 * rng.int(4))]), `declared=${len}`);
    }
    case 'oversize-inner': {
      const len = rng.pick([0x7ffffff0, 0xffffffff, 1024 * 1024 * 1024, 2 * 1024 * 1024]);
      const inner = Buffer.concat([structHeader(rng.pick([Tag.KeyMaterial, Tag.UniqueIdentifier, Tag.Attributes]), len, rng.pick([ItemType.ByteString, ItemType.TextString, ItemType.Structure])), rng.bytes(16)]);
      return mk(withPayloadItem(rng.pick(versions), inner), `inner declared=${len}`);
    }
    case 'trailing-garbage': {
      const b = baseMessage(rng);
      return mk(reframe(Buffer.concat([b, rng.bytes(8 * rng.range(1, 8))])), 'garbage after the last batch item');
    }
    case 'valid': {
      const version = rng.pick(versions);
      const items: BatchItemRequest[] = rng.pick([
        [{ operation: Enum.Operation.DiscoverVersions, payload: [] }],
        [{ operation: Enum.Operation.Query, payload: [enumeration(Tag.QueryFunction, Enum.QueryFunction.QueryOperations)] }],
      ]);
      return mk(encodeRequest(version, items), `v${version.major}.${version.minor}`, true);
    }
  }
}
