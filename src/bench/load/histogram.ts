/**
 * Latency histogram with bounded memory (HDR-style log-linear buckets): every power of two of
 * microseconds is split into 64 linear sub-buckets, so any recorded value is reported within
 * 1/64 (1.6 %) of itself, from 1 µs to over an hour, in under 2,000 counters. Histograms of several
 * connections and worker processes merge by adding counters, which sorted samples cannot do cheaply.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** 2^32 µs ≈ 71 minutes: anything longer is clamped into the last bucket. */
const MAX_EXP = 32;
const BUCKETS = (MAX_EXP + 1) * SUB;

function indexOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  if (v < SUB) return v;
  const exp = Math.floor(Math.log2(v)) - SUB_BITS + 1;
  if (exp > MAX_EXP) return BUCKETS - 1;
  const sub = Math.floor(v / 2 ** exp) - SUB / 2;
  return exp * (SUB / 2) + SUB / 2 + sub;
}

/** The largest value a bucket holds (a reported percentile never understates). */
function upperOf(index: number): number {
  if (index < SUB) return index;
  const exp = Math.floor((index - SUB / 2) / (SUB / 2));
  const sub = index - exp * (SUB / 2) - SUB / 2;
  return (sub + SUB / 2 + 1) * 2 ** exp - 1;
}

export interface HistogramJson {
  /** Sparse counts: [bucket index, count]. */
  buckets: [number, number][];
  count: number;
  maxUs: number;
  sumUs: number;
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  record(us: number): void {
    this.#counts[indexOf(us)]! += 1;
    this.count += 1;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Value at percentile p (0–100), in microseconds; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), this.maxUs);
    }
    return this.maxUs;
  }

  merge(other: LatencyHistogram | HistogramJson): void {
    if (other instanceof LatencyHistogram) {
      for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    } else {
      for (const [i, n] of other.buckets) if (i >= 0 && i < BUCKETS) this.#counts[i]! += n;
    }
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.count, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  static fromJSON(json: HistogramJson): LatencyHistogram {
    const h = new LatencyHistogram();
    h.merge(json);
    return h;
  }
}
