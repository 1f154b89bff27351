/**
 * Locate's matching rules (KMIP 1.4 §4.9, 2.1 §6.1.28) turned into one store query:
 *  - every attribute given must match (several values of one attribute: all must be held);
 *  - two instances of a Date attribute are a range, inclusive; its largest value means "any";
 *  - Cryptographic Usage Mask matches objects having every requested bit;
 *  - structure values may leave fields out, which then match anything;
 *  - State is the state as of now, date-driven transitions included (1.4 §3.22), and Storage
 *    Status Mask picks on-line, archived (1.4 §3.32: has an Archive Date) and, from 2.0,
 *    destroyed objects; both are one predicate over the stored state and four date conditions,
 *    enumerated from kmip/lifecycle.ts so the state machine is not written twice.
 */
import { Enum, Mask, tagInfo } from '../kmip/registry.js';
import { KmipError } from '../kmip/errors.js';
import { attributeRule, isCustomName } from '../kmip/attributes.js';
import { attributeNameText, type AttributeInput } from '../kmip/attribute-codec.js';
import { effectiveState } from '../kmip/lifecycle.js';
import type { KmipVersion } from '../kmip/version.js';
import type { DateCondition, LocateQuery, StateCombination, StatePredicate } from '../store/types.js';
import type { TtlvNode } from '../ttlv/types.js';
import { isDestroyed } from './object-attributes.js';

const INT64_MAX = (1n << 63n) - 1n;

/** What Locate filters on besides attributes. */
export interface LocateOptions {
  now: Date;
  /** Storage Status Mask; undefined or 0: on-line objects only (1.4 Table 190). */
  storageStatusMask: number | undefined;
  version: KmipVersion;
}

/** The query for `filters`, or 'none' when they cannot all hold (two Object Types, say). */
export function buildLocateQuery(filters: readonly AttributeInput[], options: LocateOptions): LocateQuery | 'none' {
  const byName = new Map<string, TtlvNode[]>();
  for (const f of filters) byName.set(f.name, [...(byName.get(f.name) ?? []), f.value]);

  const q: {
    objectType?: number;
    attributes: { name: string; value: TtlvNode }[];
    partialAttributes: { name: string; value: TtlvNode }[];
    masks: { name: string; bits: number }[];
    dateRanges: { name: string; from: bigint; to: bigint }[];
  } = { attributes: [], partialAttributes: [], masks: [], dateRanges: [] };
  let states: number[] | undefined;

  for (const [name, values] of byName) {
    switch (name) {
      case 'ObjectType': {
        const types = distinct(values.map(enumOf));
        if (types.length > 1) return 'none';
        q.objectType = types[0];
        continue;
      }
      case 'State': {
        const wanted = distinct(values.map(enumOf));
        if (wanted.length > 1) return 'none';
        states = wanted;
        continue;
      }
      case 'CryptographicUsageMask':
        for (const v of values) if (v.type === 'Integer') q.masks.push({ name, bits: v.value });
        continue;
    }
    if (isDateAttribute(name)) {
      const dates = values.map((v) => (v.type === 'DateTime' ? v.value : 0n)).filter((d) => d !== INT64_MAX);
      if (dates.length > 2) {
        throw new KmipError('InvalidField', `${attributeNameText(name)} may be given once (a date) or twice (a range) in Locate`);
      }
      if (dates.length === 2) {
        const [a, b] = dates as [bigint, bigint];
        q.dateRanges.push({ name, from: a < b ? a : b, to: a < b ? b : a });
      } else if (dates.length === 1) {
        q.dateRanges.push({ name, from: dates[0] as bigint, to: dates[0] as bigint });
      }
      continue;
    }
    for (const value of values) {
      if (value.type === 'Structure' && !isCustomName(name)) q.partialAttributes.push({ name, value });
      else q.attributes.push({ name, value });
    }
  }

  return {
    ...(q.objectType !== undefined ? { objectType: q.objectType } : {}),
    attributes: q.attributes,
    partialAttributes: q.partialAttributes,
    masks: q.masks,
    dateRanges: q.dateRanges,
    state: statePredicate(states, options),
  };
}

function enumOf(v: TtlvNode): number {
  return v.type === 'Enumeration' ? v.value : -1;
}

function distinct(xs: readonly number[]): number[] {
  return [...new Set(xs)];
}

/** Spec attributes whose values are Date-Time (custom ones are compared as given). */
function isDateAttribute(name: string): boolean {
  if (isCustomName(name)) return false;
  const rule = attributeRule(name);
  return rule !== undefined && tagInfo(rule.tag)?.type === 'DateTime';
}

// ---------------------------------------------------------------------------------------------
// State as of now and storage status

/** The conditions the predicate's terms test, in bit order. */
const CONDITIONS = ['ActivationDate', 'DeactivationDate', 'CompromiseDate', 'ArchiveDate'] as const;
const ARCHIVED_BIT = 3;
const ALL_STATES: readonly number[] = Object.values(Enum.State);

/**
 * The stored states and date conditions under which an object is, at `now`, in one of `wanted`
 * (any state when undefined) and in storage the mask allows. Every combination of stored state
 * and reached dates is run through lifecycle.effectiveState; the allowed ones are merged into
 * few terms (a condition that does not matter is left out), grouped by shared conditions.
 */
export function statePredicate(wanted: readonly number[] | undefined, options: LocateOptions): StatePredicate {
  const nowSeconds = BigInt(Math.floor(options.now.getTime() / 1000));
  const conditions: DateCondition[] = CONDITIONS.map((name) => ({
    name,
    atOrBefore: name === 'ArchiveDate' ? INT64_MAX : nowSeconds,
  }));
  const mask = options.storageStatusMask === undefined || options.storageStatusMask === 0 ? Mask.StorageStatusMask.OnLineStorage : options.storageStatusMask;
  const n = CONDITIONS.length;
  const groups = new Map<string, { states: number[]; holds: (boolean | undefined)[] }>();
  for (const state of ALL_STATES) {
    const allowed: number[] = [];
    for (let bits = 0; bits < 1 << n; bits++) {
      const reached = (i: number) => ((bits >> i) & 1) === 1;
      const eff = effectiveState(
        {
          state,
          ...(reached(0) ? { activationDate: 0n } : {}),
          ...(reached(1) ? { deactivationDate: 0n } : {}),
          ...(reached(2) ? { compromiseDate: 0n } : {}),
        },
        0,
      );
      if (wanted !== undefined && !wanted.includes(eff)) continue;
      if (!storageAllowed(mask, isDestroyed(eff), reached(ARCHIVED_BIT))) continue;
      allowed.push(bits);
    }
    for (const term of primeImplicants(allowed, n)) {
      const holds = Array.from({ length: n }, (_, i) => (((term.care >> i) & 1) === 1 ? ((term.value >> i) & 1) === 1 : undefined));
      const key = holds.map((h) => (h === undefined ? '-' : h ? '1' : '0')).join('');
      const g = groups.get(key) ?? { states: [], holds };
      g.states.push(state);
      groups.set(key, g);
    }
  }
  const anyOf: StateCombination[] = [...groups.values()];
  return { conditions, anyOf };
}

function storageAllowed(mask: number, destroyed: boolean, archived: boolean): boolean {
  const S = Mask.StorageStatusMask;
  if (destroyed) return (mask & S.DestroyedStorage) !== 0;
  if (archived) return (mask & S.ArchivalStorage) !== 0;
  return (mask & S.OnLineStorage) !== 0;
}

/**
 * Prime implicants of a set of n-bit minterms (Quine–McCluskey without the covering step: every
 * prime implicant is kept, which is correct and, for four variables, small). `care` has a 1 for
 * each bit the term tests.
 */
function primeImplicants(minterms: readonly number[], n: number): { value: number; care: number }[] {
  const full = (1 << n) - 1;
  let terms = distinctTerms(minterms.map((m) => ({ value: m, care: full })));
  const primes: { value: number; care: number }[] = [];
  while (terms.length > 0) {
    const merged = new Set<number>();
    const next: { value: number; care: number }[] = [];
    for (let i = 0; i < terms.length; i++) {
      for (let j = i + 1; j < terms.length; j++) {
        const a = terms[i] as { value: number; care: number };
        const b = terms[j] as { value: number; care: number };
        if (a.care !== b.care) continue;
        const diff = a.value ^ b.value;
        if (diff !== 0 && (diff & (diff - 1)) === 0) {
          next.push({ value: a.value & ~diff, care: a.care & ~diff });
          merged.add(i).add(j);
        }
      }
    }
    terms.forEach((t, i) => {
      if (!merged.has(i)) primes.push(t);
    });
    terms = distinctTerms(next);
  }
  return primes;
}

function distinctTerms(terms: readonly { value: number; care: number }[]): { value: number; care: number }[] {
  const seen = new Map<string, { value: number; care: number }>();
  for (const t of terms) seen.set(`${t.value & t.care}/${t.care}`, { value: t.value & t.care, care: t.care });
  return [...seen.values()];
}
