// The hand-written hostile inputs of spec-vectors/malformed/catalogue.json (KMIP 1.4 §9.1.1
// rules, one broken per entry): each must be refused with its code at its offset.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TtlvError, TtlvErrorCode, decodeTtlv } from '../../../src/ttlv/index.js';
import type { DecodeLimits } from '../../../src/ttlv/index.js';
import { hex } from '../../support/hex.js';
import { repoRoot } from '../../support/vectors-dir.js';

interface MalformedEntry {
  id: string;
  description: string;
  hex: string;
  limits?: Partial<DecodeLimits>;
  expect: { code: TtlvErrorCode; offset: number };
}

const catalogue = JSON.parse(
  readFileSync(path.join(repoRoot, 'spec-vectors/malformed/catalogue.json'), 'utf8'),
) as MalformedEntry[];

describe('spec-vectors/malformed/catalogue.json', () => {
  it('has unique ids and only known error codes', () => {
    expect(new Set(catalogue.map((e) => e.id)).size).toBe(catalogue.length);
    for (const e of catalogue) expect(Object.values(TtlvErrorCode)).toContain(e.expect.code);
  });

  it('covers every decoder error code', () => {
    const decoderCodes = Object.values(TtlvErrorCode).filter((c) => c !== 'InvalidValue' && c !== 'UnexpectedType');
    expect(new Set(catalogue.map((e) => e.expect.code))).toEqual(new Set(decoderCodes));
  });

  for (const entry of catalogue) {
    it(`${entry.id}: ${entry.description}`, () => {
      let thrown: unknown;
      try {
        decodeTtlv(hex(entry.hex), entry.limits);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TtlvError);
      const err = thrown as TtlvError;
      expect({ code: err.code, offset: err.offset }).toEqual(entry.expect);
    });
  }
});
