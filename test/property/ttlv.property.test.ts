// Properties of the TTLV codec (KMIP 1.4 §9.1): trees survive encode/decode, decoding never
// throws anything but TtlvError whatever the bytes, what decodes is canonical, and framing
// does not depend on how the stream is chunked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TtlvError, TtlvFramer, decodeTtlv, encodeTtlv } from '../../src/ttlv/index.js';
import type { DecodeLimits, StructureNode, TtlvNode } from '../../src/ttlv/index.js';

const tag = fc.integer({ min: 0, max: 0xffffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
);
const bigInteger = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n }),
  fc.constantFrom(0n, -1n, 2n ** 63n, -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 63n) - 1n),
);

const leaf: fc.Arbitrary<TtlvNode> = fc.oneof(
  fc.record({ tag, type: fc.constant('Integer' as const), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ tag, type: fc.constant('LongInteger' as const), value: int64 }),
  fc.record({ tag, type: fc.constant('BigInteger' as const), value: bigInteger }),
  fc.record({ tag, type: fc.constant('Enumeration' as const), value: uint32 }),
  fc.record({ tag, type: fc.constant('Boolean' as const), value: fc.boolean() }),
  fc.record({ tag, type: fc.constant('TextString' as const), value: text }),
  fc.record({ tag, type: fc.constant('ByteString' as const), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ tag, type: fc.constant('DateTime' as const), value: int64 }),
  fc.record({ tag, type: fc.constant('Interval' as const), value: uint32 }),
  fc.record({ tag, type: fc.constant('DateTimeExtended' as const), value: int64 }),
);

const { node: anyNode } = fc.letrec<{ node: TtlvNode; structure: StructureNode }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', maxDepth: 6 }, leaf, tie('structure')),
  structure: fc.record({ tag, type: fc.constant('Structure' as const), value: fc.array(tie('node'), { maxLength: 6 }) }),
}));

/** A valid encoding plus the tree it came from. */
const encoded = anyNode.map((tree) => ({ tree, bytes: new Uint8Array(encodeTtlv(tree)) }));

function containsBigInteger(node: TtlvNode): boolean {
  return node.type === 'BigInteger' || (node.type === 'Structure' && node.value.some(containsBigInteger));
}

/**
 * Decodes untrusted bytes: anything but a TtlvError fails the property. What decodes must be
 * canonical: re-encoding gives the input back, except that a Big Integer may have been sent
 * with more sign bytes than needed; either way the canonical bytes decode to the same tree.
 */
function checkUntrusted(bytes: Uint8Array, limits?: Partial<DecodeLimits>): void {
  let tree: TtlvNode;
  try {
    tree = decodeTtlv(bytes, limits);
  } catch (err) {
    if (err instanceof TtlvError) return;
    throw err;
  }
  const again = encodeTtlv(tree);
  if (!containsBigInteger(tree)) expect(Buffer.from(again).equals(bytes)).toBe(true);
  expect(decodeTtlv(again, limits)).toEqual(tree);
  expect(encodeTtlv(decodeTtlv(again, limits)).equals(again)).toBe(true);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(input);
  if (out.length === 0) return out;
  const at = m.at % (out.length + 1);
  switch (m.kind) {
    case 'flip':
      if (at < out.length) out[at]! ^= 1 << m.bit;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]);
    case 'overwrite':
      out.set(m.bytes.subarray(0, out.length - Math.min(at, out.length)), Math.min(at, out.length));
      return out;
  }
}

describe('encode/decode round trips', () => {
  it('tree → bytes → tree is the identity, and bytes → tree → bytes too', () => {
    fc.assert(
      fc.property(encoded, ({ tree, bytes }) => {
        const decoded = decodeTtlv(bytes, { maxDepth: 64 });
        expect(decoded).toEqual(tree);
        expect(Buffer.from(encodeTtlv(decoded)).equals(bytes)).toBe(true);
        expect(bytes.length % 8).toBe(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('untrusted bytes', () => {
  it('random bytes only ever throw TtlvError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => checkUntrusted(bytes)), { numRuns: 1500 });
  });

  it('random bytes behind a plausible header only ever throw TtlvError', () => {
    // A header with a small length reaches the value checks far more often than pure noise.
    const framed = fc
      .tuple(tag, fc.integer({ min: 0, max: 0x0d }), fc.uint8Array({ maxLength: 64 }))
      .map(([t, type, body]) => {
        const out = new Uint8Array(8 + body.length);
        const dv = new DataView(out.buffer);
        dv.setUint32(0, ((t << 8) | type) >>> 0);
        dv.setUint32(4, Math.max(0, body.length - (t % 8)));
        out.set(body, 8);
        return out;
      });
    fc.assert(fc.property(framed, (bytes) => checkUntrusted(bytes)), { numRuns: 1500 });
  });

  it('mutations of valid encodings only ever throw TtlvError, and what decodes is canonical', () => {
    fc.assert(
      fc.property(encoded, fc.array(mutation, { minLength: 1, maxLength: 3 }), ({ bytes }, mutations) => {
        checkUntrusted(mutations.reduce(mutate, bytes));
      }),
      { numRuns: 600 },
    );
  });

  it('tight limits only ever throw TtlvError', () => {
    const limits = fc.record({ maxSize: fc.integer({ min: 0, max: 512 }), maxDepth: fc.integer({ min: 0, max: 4 }) });
    fc.assert(
      fc.property(encoded, limits, ({ bytes }, l) => {
        checkUntrusted(bytes, l);
      }),
      { numRuns: 300 },
    );
  });
});

describe('framing', () => {
  // Shallow messages keep the every-split-point check fast; depth is the decoder's business.
  const message = fc.record({ tag, type: fc.constant('Structure' as const), value: fc.array(leaf, { maxLength: 4 }) });
  const stream = fc.array(message, { minLength: 3, maxLength: 3 }).map((trees) => {
    const messages = trees.map((t) => new Uint8Array(encodeTtlv(t)));
    return { messages, bytes: Uint8Array.from(Buffer.concat(messages)) };
  });

  function frame(chunks: Uint8Array[]): string[] {
    const framer = new TtlvFramer({ maxMessageSize: 1 << 20, requireStructure: true });
    const out = chunks.flatMap((c) => framer.push(c));
    expect(framer.bufferedBytes).toBe(0);
    return out.map((m) => Buffer.from(m).toString('hex'));
  }

  const hexOf = (messages: Uint8Array[]): string[] => messages.map((m) => Buffer.from(m).toString('hex'));

  it('every split point of a three-message stream yields the same messages', () => {
    fc.assert(
      fc.property(stream, ({ messages, bytes }) => {
        const want = hexOf(messages);
        for (let cut = 0; cut <= bytes.length; cut++) {
          expect(frame([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(want);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('random chunkings and a single chunk yield the same messages', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), ({ messages, bytes }, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          chunks.push(bytes.subarray(from, cut));
          from = cut;
        }
        const want = hexOf(messages);
        expect(frame(chunks)).toEqual(want);
        expect(frame([bytes])).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});
