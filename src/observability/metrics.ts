/**
 * A small Prometheus metrics registry rendering the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Counters, gauges and
 * fixed-bucket histograms with labels; no dependency, because the format is a few lines of
 * string building and the server needs nothing else from a metrics library.
 *
 * Label values come from code (operation names, result reasons, rejection reasons), never
 * from client-controlled text, so series cardinality stays bounded; callers keep it so.
 */

export type Labels<L extends string> = { readonly [K in L]: string };

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, strictly increasing; `+Inf` is added implicitly. */
  buckets: readonly number[];
}

export interface CounterOptions<L extends string> extends MetricOptions<L> {
  /** Called before each render, for counts kept by another component (see Counter.mirror). */
  collect?: (counter: Counter<L>) => void;
}

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /** Called before each render, for values that are cheaper to read than to track (RSS, pool sizes). */
  collect?: (gauge: Gauge<L>) => void;
}

/** Request latencies from sub-millisecond (cache hits) to seconds (HSM or disk stalls). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabelValue(value: string): string {
  // Label values are operation and reason names: one test instead of three replace() calls each.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Series key and rendered label set in one: the rendered form is unique per label values. */
function renderLabels(names: readonly string[], labels: Readonly<Record<string, string>> | undefined, extra?: string): string {
  // Runs on every observation (twice per request): plain concatenation, no intermediate array.
  let out = '';
  for (const name of names) {
    const value = labels?.[name];
    if (value === undefined) throw new Error(`metrics: missing label "${name}"`);
    out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  if (extra !== undefined) out += out === '' ? extra : `,${extra}`;
  return out === '' ? '' : `{${out}}`;
}

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  constructor(options: MetricOptions<L>) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`metrics: invalid metric name "${options.name}"`);
    for (const l of options.labelNames ?? []) {
      if (!LABEL_NAME.test(l) || l === 'le') throw new Error(`metrics: invalid label name "${l}" on ${options.name}`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract render(): string;
}

/**
 * Separate class for the value-per-series metrics so counters and gauges share storage code, and
 * the `collect` callback that refreshes them from another component before each render.
 */
abstract class ScalarMetric<L extends string, Self> extends Metric<L> {
  protected readonly series = new Map<string, number>();
  readonly #collect: ((metric: Self) => void) | undefined;

  constructor(options: MetricOptions<L> & { collect?: (metric: Self) => void }) {
    super(options);
    this.#collect = options.collect;
  }

  protected add(labels: Labels<L> | undefined, delta: number): void {
    const key = renderLabels(this.labelNames, labels);
    this.series.set(key, (this.series.get(key) ?? 0) + delta);
  }

  /** Current value of one series (0 when never touched): for tests and health checks. */
  get(labels?: Labels<L>): number {
    return this.series.get(renderLabels(this.labelNames, labels)) ?? 0;
  }

  render(): string {
    this.#collect?.(this as unknown as Self);
    let out = this.header();
    // A metric without labels shows 0 before its first event, so dashboards see the series exist.
    if (this.labelNames.length === 0 && this.series.size === 0) out += `${this.name} 0\n`;
    for (const [key, value] of this.series) out += `${this.name}${key} ${formatNumber(value)}\n`;
    return out;
  }
}

export class Counter<L extends string = never> extends ScalarMetric<L, Counter<L>> {
  readonly type = 'counter';

  /** Sets a series to a total another component counts; a smaller total is ignored (counters never go down). */
  mirror(...args: [L] extends [never] ? [total: number] : [labels: Labels<L>, total: number]): void {
    const [labels, total] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number];
    // Always touched, so the series shows (at 0) before its first event.
    this.add(labels, Math.max(0, total - this.get(labels)));
  }

  inc(...args: [L] extends [never] ? [amount?: number] : [labels: Labels<L>, amount?: number]): void {
    const [labels, amount] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number | undefined];
    const delta = amount ?? 1;
    if (!(delta >= 0)) throw new Error(`metrics: counter ${this.name} cannot decrease`);
    this.add(labels, delta);
  }
}

export class Gauge<L extends string = never> extends ScalarMetric<L, Gauge<L>> {
  readonly type = 'gauge';

  set(...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]): void {
    const [labels, value] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number];
    this.series.set(renderLabels(this.labelNames, labels), value);
  }

  inc(...args: [L] extends [never] ? [amount?: number] : [labels: Labels<L>, amount?: number]): void {
    const [labels, amount] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number | undefined];
    this.add(labels, amount ?? 1);
  }

  dec(...args: [L] extends [never] ? [amount?: number] : [labels: Labels<L>, amount?: number]): void {
    const [labels, amount] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number | undefined];
    this.add(labels, -(amount ?? 1));
  }
}

interface HistogramSeries {
  /** Non-cumulative count per bucket; cumulated when rendering. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #series = new Map<string, { labels: Labels<L> | undefined; data: HistogramSeries }>();

  constructor(options: HistogramOptions<L>) {
    super(options);
    const b = options.buckets;
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i]!) || (i > 0 && b[i]! <= b[i - 1]!)) {
        throw new Error(`metrics: histogram ${options.name} buckets must be finite and strictly increasing`);
      }
    }
    this.buckets = [...b];
  }

  observe(...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]): void {
    const [labels, value] = (this.labelNames.length === 0 ? [undefined, args[0]] : args) as [Labels<L> | undefined, number];
    const key = renderLabels(this.labelNames, labels);
    let entry = this.#series.get(key);
    if (!entry) {
      entry = { labels, data: { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 } };
      this.#series.set(key, entry);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    entry.data.counts[i]! += 1;
    entry.data.sum += value;
    entry.data.count += 1;
  }

  /** Observations so far in one series: for tests. */
  count(labels?: Labels<L>): number {
    return this.#series.get(renderLabels(this.labelNames, labels))?.data.count ?? 0;
  }

  render(): string {
    let out = this.header();
    for (const { labels, data } of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += data.counts[i]!;
        const le = i < this.buckets.length ? formatNumber(this.buckets[i]!) : '+Inf';
        out += `${this.name}_bucket${renderLabels(this.labelNames, labels, `le="${le}"`)} ${cumulative}\n`;
      }
      const plain = renderLabels(this.labelNames, labels);
      out += `${this.name}_sum${plain} ${formatNumber(data.sum)}\n`;
      out += `${this.name}_count${plain} ${data.count}\n`;
    }
    return out;
  }
}

/** One registry per server instance (tests start several servers in one process). */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<string>>();

  counter<L extends string = never>(options: CounterOptions<L>): Counter<L> {
    return this.#register(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    return this.#register(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#register(new Histogram<L>(options));
  }

  /** Content-Type of `render()`'s output. */
  static readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  render(): string {
    let out = '';
    for (const m of this.#metrics.values()) out += m.render();
    return out;
  }

  #register<M extends Metric<string>>(metric: M): M {
    // Registering a name twice is a wiring bug (two owners of one series), not something to merge.
    if (this.#metrics.has(metric.name)) throw new Error(`metrics: ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

/** Process-level gauges every deployment wants next to the server's own. */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  registry.gauge({
    name: 'kmipd_process_resident_memory_bytes',
    help: 'Resident set size of the kmipd process.',
    collect: (g) => g.set(process.memoryUsage.rss()),
  });
  const started = Math.round(Date.now() / 1000 - process.uptime());
  registry.gauge({
    name: 'kmipd_process_start_time_seconds',
    help: 'Start time of the kmipd process since the Unix epoch.',
    collect: (g) => g.set(started),
  });
}
