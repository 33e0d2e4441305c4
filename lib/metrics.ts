// Error rate and P99 of the app's public matched traffic over a window, from counter and bucket deltas between two
// scrapes, as Prometheus' rate() and histogram_quantile() compute them. Pure functions: the canary gate, the
// dashboard and the tests share them.
import { UNMATCHED_PATH } from "./metric-codes";
import type { SetFacts } from "./types";

export interface Bucket {
  /** Upper bound in seconds; the last bucket is +Inf. */
  le: number;
  /** Cumulative count of observations ≤ le. */
  count: number;
}

/** One replica's public traffic counters at one scrape. */
export interface TrafficSample {
  atMs: number;
  requests: number;
  errors: number;
  /** Cumulative, ascending le, last le = Infinity, summed over public series; [] before the first request. */
  buckets: Bucket[];
  uptimeSeconds: number | null;
  mode: number | null;
  chaos: number | null;
}

export interface WindowStats {
  requests: number;
  errors: number;
  errorRatePercent: number;
  /** null when the window holds no requests. */
  p99LatencyMs: number | null;
  requestsPerSecond: number;
  windowSeconds: number;
}

interface PromSeries {
  value?: string;
  labels?: Record<string, string>;
}
interface PromFamily {
  name: string;
  metrics: PromSeries[];
}

export function parseTrafficSample(metricsText: string, atMs: number): TrafficSample {
  const sample: TrafficSample = {
    atMs,
    requests: 0,
    errors: 0,
    buckets: [],
    uptimeSeconds: null,
    mode: null,
    chaos: null,
  };
  const bucketCounts = new Map<number, number>();
  for (const family of parseFamilies(metricsText)) {
    for (const series of family.metrics) {
      const value = Number(series.value);
      const labels = series.labels ?? {};
      if (family.name === "http_requests_total" && isPublic(labels)) {
        sample.requests += value;
        if (Number(labels.status_code) >= 500) sample.errors += value;
      } else if (family.name === "http_request_duration_seconds_bucket" && isPublic(labels)) {
        const le = labels.le === "+Inf" ? Infinity : Number(labels.le);
        bucketCounts.set(le, (bucketCounts.get(le) ?? 0) + value);
      } else if (family.name === "app_uptime_seconds") sample.uptimeSeconds = value;
      else if (family.name === "app_mode") sample.mode = value;
      else if (family.name === "chaos_active") sample.chaos = value;
    }
  }
  sample.buckets = [...bucketCounts].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  return sample;
}

/** One start/end pair per replica; the deltas are summed over the replicas. */
export function windowStats(pairs: { start: TrafficSample; end: TrafficSample }[]): WindowStats {
  if (pairs.length === 0)
    throw new Error("windowStats needs a start and an end sample of at least one replica");
  let requests = 0;
  let errors = 0;
  const bucketDeltas = new Map<number, number>();
  for (const { start, end } of pairs) {
    const from = restarted(start, end) ? emptySample(start.atMs) : start;
    requests += end.requests - from.requests;
    errors += end.errors - from.errors;
    for (const { le, count } of end.buckets) {
      bucketDeltas.set(le, (bucketDeltas.get(le) ?? 0) + count - bucketCount(from, le));
    }
  }
  const spanMs = Math.max(...pairs.map(({ start, end }) => end.atMs - start.atMs));
  const buckets = [...bucketDeltas].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  const p99Seconds = requests > 0 ? histogramQuantile(0.99, buckets) : null;
  return {
    requests,
    errors,
    errorRatePercent: requests > 0 ? (errors / requests) * 100 : 0,
    p99LatencyMs: p99Seconds === null ? null : p99Seconds * 1000,
    requestsPerSecond: spanMs > 0 ? requests / (spanMs / 1000) : 0,
    windowSeconds: Math.round(spanMs / 1000),
  };
}

/**
 * Prometheus' histogram_quantile: linear interpolation inside the bucket the rank falls in, 0 as the lower
 * bound of the first bucket, and the highest finite bound when the rank lands in +Inf. null where Prometheus
 * answers NaN: no observations, fewer than two buckets, or no +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: Bucket[]): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`histogramQuantile: q must be within 0..1, got ${q}`);
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1].le !== Infinity) return null;
  // Like Prometheus' ensureMonotonic: float sums can make a cumulative count dip; it never may.
  const counts = sorted.map((b) => b.count);
  for (let i = 1; i < counts.length; i++) counts[i] = Math.max(counts[i], counts[i - 1]);
  const observations = counts[counts.length - 1];
  if (observations <= 0) return null;
  let rank = q * observations;
  const last = sorted.length - 1;
  let b = counts.findIndex((count, i) => i < last && count >= rank);
  if (b === -1) b = last;
  if (b === last) return sorted[last - 1].le;
  if (b === 0 && sorted[0].le <= 0) return sorted[0].le;
  let lower = 0;
  let inBucket = counts[b];
  if (b > 0) {
    lower = sorted[b - 1].le;
    inBucket -= counts[b - 1];
    rank -= counts[b - 1];
  }
  if (inBucket === 0) return lower; // only q = 0 over an empty first bucket gets here
  return lower + (sorted[b].le - lower) * (rank / inBucket);
}

/** One set's part of swiftdeploy.canary's input: error % with 2 decimals, P99 in whole ms (0 without traffic). */
export function setFacts(version: string, stats: WindowStats): SetFacts {
  return {
    version,
    requests: stats.requests,
    errors: stats.errors,
    error_rate_percent: Math.round(stats.errorRatePercent * 100) / 100,
    p99_latency_ms: stats.p99LatencyMs === null ? 0 : Math.round(stats.p99LatencyMs),
  };
}

/**
 * Public matched routes only: healthchecks, the admin routes and requests that matched no route (the app's
 * "unmatched" series) count neither as requests nor as errors, so random paths cannot dilute a bad canary.
 */
function isPublic(labels: Record<string, string>): boolean {
  return !["/healthz", "/metrics", "/chaos", UNMATCHED_PATH].includes(labels.path);
}

/** Prometheus' reset rule: a counter that went down (or an uptime that did) started again from zero. */
function restarted(start: TrafficSample, end: TrafficSample): boolean {
  if (start.uptimeSeconds !== null && end.uptimeSeconds !== null && end.uptimeSeconds < start.uptimeSeconds) {
    return true;
  }
  if (end.requests < start.requests || end.errors < start.errors) return true;
  return start.buckets.some(({ le, count }) => bucketCount(end, le) < count);
}

function emptySample(atMs: number): TrafficSample {
  return { atMs, requests: 0, errors: 0, buckets: [], uptimeSeconds: null, mode: null, chaos: null };
}

function bucketCount(sample: TrafficSample, le: number): number {
  return sample.buckets.find((b) => b.le === le)?.count ?? 0;
}

function parseFamilies(text: string): PromFamily[] {
  const parse = require("parse-prometheus-text-format") as (text: string) => PromFamily[];
  // The parser folds every series of a histogram into one entry without labels (1.1.1 flattenMetrics), which
  // would mix /healthz into the buckets. Without the TYPE lines each sample comes back as an untyped series
  // with all its labels, `le` included. The trailing newline: the parser drops a last line that lacks one.
  const untyped = text.replace(/^[ \t]*#[ \t]*TYPE[ \t].*$/gm, "");
  try {
    return parse(`${untyped}\n`);
  } catch (err) {
    throw new Error(
      `the app's /metrics is not Prometheus text format: ${(err as Error).message.slice(0, 200)}`,
    );
  }
}
