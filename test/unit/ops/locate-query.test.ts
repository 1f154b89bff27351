// Locate's matching rules as a store query (KMIP 1.4 §4.9, 2.1 §6.1.28). The state predicate is
// checked against kmip/lifecycle.ts by brute force: every stored state and every combination of
// reached dates, evaluated the way the SQL evaluates it.
import { describe, expect, it } from 'vitest';
import { Enum, Mask, Tag } from '../../../src/kmip/registry.js';
import { effectiveState } from '../../../src/kmip/lifecycle.js';
import { buildLocateQuery, statePredicate } from '../../../src/ops/locate-query.js';
import type { StatePredicate } from '../../../src/store/types.js';
import { date, enumeration, int, text, v14, v21 } from '../../support/attribute-requests.js';

const AV = Tag.AttributeValue;
const S = Enum.State;
const SSM = Mask.StorageStatusMask;
const now = new Date(1_000_000);
const NOW = 1000n;

/** How the store evaluates the predicate for an object with these dates (undefined = absent). */
function holds(p: StatePredicate, state: number, dates: Record<string, bigint | undefined>): boolean {
  return p.anyOf.some(
    (c) =>
      c.states.includes(state) &&
      c.holds.every((h, i) => {
        if (h === undefined) return true;
        const cond = p.conditions[i]!;
        const d = dates[cond.name];
        return (d !== undefined && d <= cond.atOrBefore) === h;
      }),
  );
}

const maybe = [undefined, 500n, 2000n]; // absent, reached, in the future

describe('state predicate', () => {
  const states = Object.values(S);
  for (const wanted of [undefined, ...states.map((s) => [s])]) {
    for (const mask of [undefined, SSM.OnLineStorage, SSM.ArchivalStorage, SSM.OnLineStorage | SSM.ArchivalStorage | SSM.DestroyedStorage, SSM.DestroyedStorage]) {
      it(`State ${wanted ?? 'any'}, Storage Status Mask ${mask ?? 'omitted'}: agrees with effectiveState for every object`, () => {
        const p = statePredicate(wanted, { now, storageStatusMask: mask, version: v21 });
        const m = mask ?? SSM.OnLineStorage;
        for (const state of states)
          for (const a of maybe)
            for (const d of maybe)
              for (const c of maybe)
                for (const archived of [false, true]) {
                  const eff = effectiveState(
                    { state, ...(a !== undefined ? { activationDate: a } : {}), ...(d !== undefined ? { deactivationDate: d } : {}), ...(c !== undefined ? { compromiseDate: c } : {}) },
                    Number(NOW) * 1000,
                  );
                  const destroyed = eff === S.Destroyed || eff === S.DestroyedCompromised;
                  const storage = destroyed ? (m & SSM.DestroyedStorage) !== 0 : archived ? (m & SSM.ArchivalStorage) !== 0 : (m & SSM.OnLineStorage) !== 0;
                  const expected = (wanted === undefined || wanted.includes(eff)) && storage;
                  const dates = { ActivationDate: a, DeactivationDate: d, CompromiseDate: c, ArchiveDate: archived ? 1n : undefined };
                  expect(holds(p, state, dates), `${state} ${a} ${d} ${c} ${archived} → ${eff}`).toBe(expected);
                }
      });
    }
  }

  it('stays small: the default (on-line, any state) is one term testing one condition', () => {
    const p = statePredicate(undefined, { now, storageStatusMask: undefined, version: v14 });
    expect(p.anyOf).toEqual([{ states: [S.PreActive, S.Active, S.Deactivated, S.Compromised], holds: [undefined, undefined, undefined, false] }]);
  });
});

describe('filters', () => {
  const opts = { now, storageStatusMask: undefined, version: v14 };

  it('two instances of a date attribute are an inclusive range, in either order (TC-OFFSET-1-14)', () => {
    const q = buildLocateQuery(
      [
        { name: 'OriginalCreationDate', value: date(AV, 30n) },
        { name: 'OriginalCreationDate', value: date(AV, 10n) },
      ],
      opts,
    );
    expect(q !== 'none' && q.dateRanges).toEqual([{ name: 'OriginalCreationDate', from: 10n, to: 30n }]);
  });

  it('a date at its largest value means "any"; three instances are Invalid Field', () => {
    const max = (1n << 63n) - 1n;
    const q = buildLocateQuery([{ name: 'ActivationDate', value: date(AV, max) }], opts);
    expect(q !== 'none' && q.dateRanges).toEqual([]);
    expect(() => buildLocateQuery([1n, 2n, 3n].map((d) => ({ name: 'ActivationDate', value: date(AV, d) })), opts)).toThrow(
      expect.objectContaining({ reason: 'InvalidField' }),
    );
  });

  it('usage mask by bits, structures partially, two different Object Types match nothing', () => {
    const q = buildLocateQuery(
      [
        { name: 'CryptographicUsageMask', value: int(AV, 4) },
        { name: 'Link', value: { tag: AV, type: 'Structure', value: [text(Tag.LinkedObjectIdentifier, 'u')] } },
        { name: 'ObjectType', value: enumeration(AV, Enum.ObjectType.SymmetricKey) },
      ],
      opts,
    );
    expect(q !== 'none' && [q.masks, q.partialAttributes?.map((p) => p.name), q.objectType]).toEqual([
      [{ name: 'CryptographicUsageMask', bits: 4 }],
      ['Link'],
      Enum.ObjectType.SymmetricKey,
    ]);
    expect(
      buildLocateQuery(
        [
          { name: 'ObjectType', value: enumeration(AV, Enum.ObjectType.SymmetricKey) },
          { name: 'ObjectType', value: enumeration(AV, Enum.ObjectType.SecretData) },
        ],
        opts,
      ),
    ).toBe('none');
  });
});
