// Which rotation policy governs a key (K8, src/rotation/policy.ts), and durations as operators
// write them.
import { describe, expect, it } from 'vitest';
import { Tag } from '../../../src/kmip/registry.js';
import { effectivePolicy, formatDuration, indexPolicies, parseDuration } from '../../../src/rotation/policy.js';
import type { RotationPolicy } from '../../../src/rotation/types.js';
import type { StoredAttribute } from '../../../src/store/types.js';

const policy = (target: RotationPolicy['target'], intervalSeconds: number, more: Partial<RotationPolicy> = {}): RotationPolicy => ({
  target,
  intervalSeconds,
  offsetSeconds: null,
  automatic: true,
  graceSeconds: null,
  updatedAt: 0,
  ...more,
});
const group = (g: string): StoredAttribute => ({ name: 'ObjectGroup', index: 0, value: { tag: Tag.AttributeValue, type: 'TextString', value: g } });
const rotateInterval = (s: number): StoredAttribute => ({ name: 'RotateInterval', index: 0, value: { tag: Tag.AttributeValue, type: 'Interval', value: s } });
const rotateAutomatic = (b: boolean): StoredAttribute => ({ name: 'RotateAutomatic', index: 0, value: { tag: Tag.AttributeValue, type: 'Boolean', value: b } });

describe('durations', () => {
  it.each([
    ['30d', 2_592_000],
    ['12h', 43_200],
    ['15m', 900],
    ['3600s', 3600],
    ['2w', 1_209_600],
    ['45', 45],
    [' 7D ', 604_800],
  ])('%s is %i seconds', (text, seconds) => expect(parseDuration(text)).toBe(seconds));
  it.each(['', '1.5d', '-1d', '10y', 'd', '99999999999d'])('%j is refused', (text) => expect(() => parseDuration(text)).toThrow());
  it('prints the largest whole unit', () => {
    expect([2_592_000, 43_200, 90, 3601, 0].map(formatDuration)).toEqual(['30d', '12h', '90s', '3601s', '0s']);
  });
});

describe('the policy in effect', () => {
  const policies = indexPolicies([
    policy({ kind: 'tenant', tenant: 't' }, 1000, { graceSeconds: 50 }),
    policy({ kind: 'group', tenant: 't', group: 'b' }, 500, { graceSeconds: 20 }),
    policy({ kind: 'group', tenant: 't', group: 'a' }, 400),
    policy({ kind: 'key', tenant: 't', uid: 'k' }, 10, { automatic: false }),
  ]).get('t');

  it('key policy, then the key’s Rotate attributes, then its first group (by name), then the tenant', () => {
    expect(effectivePolicy({ uid: 'k', attributes: [rotateInterval(5), rotateAutomatic(true), group('a')] }, policies)).toMatchObject({ source: 'key', intervalSeconds: 10, automatic: false });
    expect(effectivePolicy({ uid: 'x', attributes: [rotateInterval(5), rotateAutomatic(true), group('b')] }, policies)).toMatchObject({
      source: 'attributes',
      intervalSeconds: 5,
      graceSeconds: 20,
    });
    expect(effectivePolicy({ uid: 'x', attributes: [group('b'), group('a')] }, policies)).toMatchObject({ source: 'group', intervalSeconds: 400 });
    expect(effectivePolicy({ uid: 'x', attributes: [group('zzz')] }, policies)).toMatchObject({ source: 'tenant', intervalSeconds: 1000, graceSeconds: 50 });
    expect(effectivePolicy({ uid: 'x', attributes: [] }, undefined)).toBeUndefined();
  });

  it('Rotate Interval without Rotate Automatic = True does not rotate by itself', () => {
    expect(effectivePolicy({ uid: 'x', attributes: [rotateInterval(5)] }, undefined)).toBeUndefined();
    expect(effectivePolicy({ uid: 'x', attributes: [rotateInterval(5), rotateAutomatic(false)] }, policies)).toMatchObject({ source: 'tenant' });
    expect(effectivePolicy({ uid: 'x', attributes: [rotateInterval(5), rotateAutomatic(true)] }, undefined)).toMatchObject({ source: 'attributes', graceSeconds: null });
  });
});
