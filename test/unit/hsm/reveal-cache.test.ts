// The reveal cache's bookkeeping with a fake clock (no HSM): exact matching, LRU order, age
// limit, and which object handles are handed back for destruction.

import { describe, expect, it } from 'vitest';
import type { Binding, ProtectedMaterial } from '../../../src/hsm/key-protector.js';
import { RevealCache } from '../../../src/hsm/reveal-cache.js';

const handle = (n: number) => Buffer.from([n]);
const b = (i: number, extra?: string): Binding => ({ uid: `u${i}`, objectType: 2, ...(extra === undefined ? {} : { extra }) });
const pm = (i: number, kekVersion = 1): ProtectedMaterial => ({
  wrapped: Buffer.from([1, 0, 0, 0, 16, i, i, i]),
  mac: Buffer.alloc(32, i),
  kekVersion,
});
const key = (n: number, epoch = 1) => ({ handle: handle(n), epoch, plaintextLength: 16, format: 1 as const });

describe('RevealCache', () => {
  it('hits only on exactly the bytes it was given, and copies them', () => {
    const c = new RevealCache(8, 1000, () => 0);
    const m = pm(1);
    c.insert(m, b(1, 't'), key(1));
    m.wrapped[5] = 99; // the caller's buffer changes afterwards: the entry must not
    expect(c.lookup(pm(1), b(1, 't'), 1)?.handle).toEqual(handle(1));
    const misses: [ProtectedMaterial, Binding][] = [
      [{ ...pm(1), wrapped: Buffer.from([1, 0, 0, 0, 16, 1, 1, 2]) }, b(1, 't')],
      [{ ...pm(1), mac: Buffer.alloc(32, 2) }, b(1, 't')],
      [{ ...pm(1), mac: Buffer.alloc(31, 1) }, b(1, 't')],
      [pm(1, 2), b(1, 't')],
      [pm(1), b(1, 'T')],
      [pm(1), b(1)],
      [pm(1), { ...b(1, 't'), objectType: 3 }],
      [pm(1), b(2, 't')],
    ];
    for (const [p, bb] of misses) expect(c.lookup(p, bb, 1)).toBeUndefined();
    expect(c.lookup(pm(1), b(1, 't'), 2)).toBeUndefined(); // another pool epoch
    expect(c.stats()).toMatchObject({ hits: 1, misses: misses.length + 1, entries: 0 });
  });

  it('evicts the least recently used entry first and hands its handle back once', () => {
    const c = new RevealCache(2, 1000, () => 0);
    c.insert(pm(1), b(1), key(1));
    c.insert(pm(2), b(2), key(2));
    c.lookup(pm(1), b(1), 1);
    c.insert(pm(3), b(3), key(3));
    expect(c.size).toBe(2);
    expect(c.lookup(pm(2), b(2), 1)).toBeUndefined();
    expect(c.takeDoomed(1)).toEqual([handle(2)]);
    expect(c.takeDoomed(1)).toEqual([]);
    // Replacing an object's row dooms the old key.
    c.insert(pm(9), b(1), key(4));
    expect(c.takeDoomed(1)).toEqual([handle(1)]);
  });

  it('limits the age from insertion, hits do not extend it, and sweep finds expired keys', () => {
    let now = 0;
    const c = new RevealCache(8, 100, () => now);
    c.insert(pm(1), b(1), key(1));
    c.insert(pm(2), b(2), key(2));
    now = 60;
    expect(c.lookup(pm(1), b(1), 1)).toBeDefined();
    now = 100;
    expect(c.lookup(pm(1), b(1), 1)).toBeUndefined();
    expect(c.sweep()).toBe(1);
    expect(c.takeDoomed(1)).toEqual([handle(1), handle(2)]);
    expect(c.size).toBe(0);
  });

  it('forgets by uid and by KEK version; clear() hands nothing back', () => {
    const c = new RevealCache(8, 1000, () => 0);
    c.insert(pm(1), b(1), key(1));
    c.insert(pm(2, 2), b(2), key(2));
    c.insert(pm(3, 2), b(3), key(3));
    expect(c.forget('u1')).toBe(true);
    expect(c.forget('u1')).toBe(false);
    expect(c.forgetKekVersion(2)).toBe(2);
    expect(c.takeDoomed(1)).toEqual([handle(1), handle(2), handle(3)]);
    c.insert(pm(4), b(4), key(4));
    c.forget('u4');
    c.clear();
    expect(c.pendingDestroys).toBe(0);
    // Handles of an older epoch are never handed back: they died with their sessions.
    c.insert(pm(5), b(5), key(5, 1));
    c.forget('u5');
    expect(c.takeDoomed(2)).toEqual([]);
  });

  it('is off with 0 entries or a TTL of 0', () => {
    for (const c of [new RevealCache(0, 1000), new RevealCache(8, 0)]) {
      expect(c.enabled).toBe(false);
      expect(c.insert(pm(1), b(1), key(1))).toBe(false);
      expect(c.lookup(pm(1), b(1), 1)).toBeUndefined();
      expect(c.stats()).toMatchObject({ entries: 0, hits: 0, misses: 0 });
    }
  });
});
