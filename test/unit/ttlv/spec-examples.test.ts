// KMIP 1.4 §9.1.2 "Examples": each printed encoding decodes to the tree written out here by
// hand, and encoding that tree gives back the printed bytes.
import { describe, expect, it } from 'vitest';
import { decodeTtlv, encodeTtlv } from '../../../src/ttlv/index.js';
import type { TtlvNode } from '../../../src/ttlv/index.js';
import { hex, toHex } from '../../support/hex.js';
import { readVectorJson, vectorsDir } from '../../support/vectors-dir.js';

interface SpecExamples {
  vectors: { id: string; meaning: string; hex: string }[];
}

const TAG = 0x420020;

const expected: Record<string, TtlvNode> = {
  'spec-9.1.2-ex1': { tag: TAG, type: 'Integer', value: 8 },
  'spec-9.1.2-ex2': { tag: TAG, type: 'LongInteger', value: 123456789000000000n },
  'spec-9.1.2-ex3': { tag: TAG, type: 'BigInteger', value: 1234567890000000000000000000n },
  'spec-9.1.2-ex4': { tag: TAG, type: 'Enumeration', value: 255 },
  'spec-9.1.2-ex5': { tag: TAG, type: 'Boolean', value: true },
  'spec-9.1.2-ex6': { tag: TAG, type: 'TextString', value: 'Hello World' },
  'spec-9.1.2-ex7': { tag: TAG, type: 'ByteString', value: new Uint8Array([0x01, 0x02, 0x03]) },
  // Friday, March 14, 2008, 11:56:40 GMT
  'spec-9.1.2-ex8': { tag: TAG, type: 'DateTime', value: BigInt(Date.UTC(2008, 2, 14, 11, 56, 40) / 1000) },
  'spec-9.1.2-ex9': { tag: TAG, type: 'Interval', value: 10 * 24 * 3600 },
  'spec-9.1.2-ex10': {
    tag: TAG,
    type: 'Structure',
    value: [
      { tag: 0x420004, type: 'Enumeration', value: 254 },
      { tag: 0x420005, type: 'Integer', value: 255 },
    ],
  },
};

// The same examples typed from the spec text, so they run even without the shared directory.
const printedInSpec: Record<string, string> = {
  'spec-9.1.2-ex1': '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
  'spec-9.1.2-ex3': '42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00',
  'spec-9.1.2-ex6': '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00',
  'spec-9.1.2-ex10':
    '42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
};

describe('KMIP §9.1.2 examples typed from the spec', () => {
  for (const [id, text] of Object.entries(printedInSpec)) {
    it(`${id} decodes and re-encodes`, () => {
      const bytes = hex(text);
      expect(decodeTtlv(bytes)).toEqual(expected[id]);
      expect(toHex(encodeTtlv(expected[id]!))).toBe(toHex(bytes));
    });
  }
});

const vectors = vectorsDir();

describe.skipIf(!vectors.available)(
  `KMIP §9.1.2 examples from kmip-spec-ttlv-encoding-examples.json${vectors.available ? '' : ` (skipped: ${vectors.reason})`}`,
  () => {
    const file = vectors.available
      ? readVectorJson<SpecExamples>(vectors.dir, 'ttlv-hex/kmip-spec-ttlv-encoding-examples.json')
      : { vectors: [] };

    it('holds exactly the ten examples of the spec', () => {
      expect(file.vectors.map((v) => v.id).sort()).toEqual(Object.keys(expected).sort());
    });

    for (const vector of file.vectors) {
      it(`${vector.id}: ${vector.meaning}`, () => {
        const want = expected[vector.id];
        expect(want, `no hand-written tree for ${vector.id}`).toBeDefined();
        const bytes = hex(vector.hex);
        expect(decodeTtlv(bytes)).toEqual(want);
        expect(toHex(encodeTtlv(want!))).toBe(vector.hex.toUpperCase());
      });
    }
  },
);
