// The load generator's latency histogram: percentiles within the bucket precision (1/64) of the
// exact percentile of the same samples, sorted; merging equals recording everything in one.
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../src/bench/load/histogram.js';

function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('LatencyHistogram', () => {
  it('reports percentiles within 1/64 of the exact ones, never below', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const samples = Array.from({ length: 20_000 }, () => Math.floor(Math.exp(rand() * 14))); // 1 µs .. 1.2 s
    const h = new LatencyHistogram();
    for (const s of samples) h.record(s);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const p of [1, 50, 90, 99, 99.9, 100]) {
      const exact = exactPercentile(sorted, p);
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact + Math.max(1, exact / 64));
    }
    expect(h.maxUs).toBe(sorted[sorted.length - 1]);
    expect(h.count).toBe(samples.length);
  });

  it('merges (also through JSON) to the same result as one histogram', () => {
    const all = new LatencyHistogram();
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) {
      const v = (i * 7919) % 100_000;
      all.record(v);
      (i % 2 ? a : b).record(v);
    }
    const merged = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.merge(b);
    for (const p of [50, 90, 99]) expect(merged.percentile(p)).toBe(all.percentile(p));
    expect(merged.count).toBe(all.count);
    expect(merged.sumUs).toBe(all.sumUs);
  });

  it('is empty-safe', () => {
    expect(new LatencyHistogram().percentile(99)).toBe(0);
  });
});
