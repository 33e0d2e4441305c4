// Storage for the http_* metrics that costs a request a few additions. prom-client's own Counter and
// Histogram validate and hash the labels and convert each bucket bound to a string on every call, about
// 1 µs per request here, 5% of a trivial route's CPU time (see bench/metrics-overhead.ts). Here a
// request only finds its series (three map lookups, no allocation once the series exists) and bumps plain
// numbers; the work of exporting moves to scrape time, inside the same prom-client Registry.
import { Counter, type Metric, type Registry } from "prom-client";

export const HTTP_LABEL_NAMES = ["method", "path", "status_code"] as const;
export type HttpLabels = Record<(typeof HTTP_LABEL_NAMES)[number], string>;

/** Running totals of one label set, updated in place by each request. */
export class HttpSeries {
  /** Observations per bucket (not cumulative); the extra last slot is above the largest bound. */
  readonly bucketCounts: Float64Array;
  sum = 0;
  count = 0;
  /** Requests not yet added to the prom-client counter (it is brought up to date on every scrape). */
  uncounted = 0;

  constructor(
    readonly labels: HttpLabels,
    private readonly bounds: readonly number[],
  ) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    let bucket = 0;
    // Prometheus buckets are "less than or equal": a value on a bound belongs to that bound's bucket.
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]) bucket++;
    this.bucketCounts[bucket]++;
    this.sum += seconds;
    this.count++;
    this.uncounted++;
  }
}

/** Every series seen so far, indexed method -> path -> status so that a lookup builds no key string. */
export class HttpSeriesTable {
  readonly all: HttpSeries[] = [];
  private readonly index = new Map<string, Map<string, Map<number, HttpSeries>>>();

  constructor(readonly bounds: readonly number[]) {}

  /** Records one answered request. */
  record(method: string, path: string, status: number, seconds: number): void {
    this.find(method, path, status).observe(seconds);
  }

  private find(method: string, path: string, status: number): HttpSeries {
    let byPath = this.index.get(method);
    if (byPath === undefined) this.index.set(method, (byPath = new Map()));
    let byStatus = byPath.get(path);
    if (byStatus === undefined) byPath.set(path, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      series = new HttpSeries({ method, path, status_code: String(status) }, this.bounds);
      byStatus.set(status, series);
      this.all.push(series);
    }
    return series;
  }
}

/** A prom-client Counter that takes its increments from the table whenever it is collected. */
export function registerRequestCounter(
  registry: Registry,
  table: HttpSeriesTable,
  name: string,
  help: string,
) {
  return new Counter({
    name,
    help,
    labelNames: HTTP_LABEL_NAMES,
    registers: [registry],
    collect() {
      for (const series of table.all) {
        if (series.uncounted === 0) continue;
        this.inc(series.labels, series.uncounted);
        series.uncounted = 0;
      }
    },
  });
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** The shape prom-client's Histogram.get() answers, which the Registry turns into text and JSON. */
function histogramValues(name: string, table: HttpSeriesTable): ExportedValue[] {
  const values: ExportedValue[] = [];
  for (const series of table.all) {
    let cumulative = 0;
    table.bounds.forEach((bound, i) => {
      cumulative += series.bucketCounts[i];
      values.push({
        labels: { le: bound, ...series.labels },
        value: cumulative,
        metricName: `${name}_bucket`,
      });
    });
    values.push({
      labels: { le: "+Inf", ...series.labels },
      value: series.count,
      metricName: `${name}_bucket`,
    });
    values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${name}_sum` });
    values.push({ labels: { ...series.labels }, value: series.count, metricName: `${name}_count` });
  }
  return values;
}

/**
 * Registers a histogram read from the table. It answers the part of prom-client's metric interface the
 * Registry uses (name, help, type, aggregator, get, reset); the exposition text is the one prom-client's
 * Histogram writes for the same observations (a test holds the two side by side).
 */
export function registerDurationHistogram(
  registry: Registry,
  table: HttpSeriesTable,
  name: string,
  help: string,
) {
  const histogram = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      return { name, help, type: "histogram", aggregator: "sum", values: histogramValues(name, table) };
    },
    reset() {
      for (const series of table.all) {
        series.bucketCounts.fill(0);
        series.sum = 0;
        series.count = 0;
      }
    },
  };
  // The Registry's type admits only its own four classes; at run time it needs just the members above.
  registry.registerMetric(histogram as unknown as Metric);
  return histogram;
}
