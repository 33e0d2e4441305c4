import * as fs from "node:fs";
import * as path from "node:path";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  histogramQuantile,
  parseTrafficSample,
  setFacts,
  windowStats,
  type Bucket,
  type TrafficSample,
} from "../../../lib/metrics";

/** Buckets from [le, cumulative count] pairs. */
const b = (...pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));
const INF = Infinity;

function sample(
  atS: number,
  requests: number,
  errors: number,
  buckets: Bucket[],
  uptime: number | null = atS,
) {
  return {
    atMs: atS * 1000,
    requests,
    errors,
    buckets,
    uptimeSeconds: uptime,
    mode: 1,
    chaos: 0,
  } as TrafficSample;
}

describe("histogramQuantile", () => {
  const buckets = b([0.1, 10], [0.5, 60], [1, 90], [INF, 100]);

  it.each([
    ["interpolates inside the bucket the rank falls in", 0.5, buckets, 0.42], // 0.1 + 0.4 * (50-10)/50
    ["takes 0 as the lower bound of the first bucket", 0.05, buckets, 0.05], // 0 + 0.1 * 5/10
    ["ends exactly on a bucket's bound when the rank equals its count", 0.9, buckets, 1],
    ["answers the highest finite bound when the rank lands in +Inf", 0.99, buckets, 1],
    ["takes the first bucket's bound as is when it is not above 0", 0.5, b([0, 6], [1, 10], [INF, 10]), 0],
    ["repairs a cumulative count that dips", 0.5, b([0.1, 10], [0.5, 9], [1, 20], [INF, 20]), 0.1],
    [
      "finds P99 of mostly fast requests in the 10-25 ms bucket",
      0.99,
      b([0.01, 0], [0.025, 99], [INF, 100]),
      0.025,
    ],
  ])("%s", (_name, q, input, expected) => {
    expect(histogramQuantile(q, input)).toBeCloseTo(expected, 10);
  });

  it.each([
    ["no buckets", b()],
    ["only the +Inf bucket", b([INF, 5])],
    ["no observations", b([0.1, 0], [INF, 0])],
    ["no +Inf bucket", b([0.1, 3], [0.5, 5])],
  ])("is null (Prometheus' NaN) with %s", (_name, input) => {
    expect(histogramQuantile(0.99, input)).toBeNull();
  });

  it("rejects a q outside 0..1, naming it", () => {
    expect(() => histogramQuantile(99, buckets)).toThrow("q must be within 0..1, got 99");
  });
});

describe("windowStats", () => {
  const fastAndSlow = b([0.1, 200], [0.5, 300], [INF, 300]); // P99 rank 297 lies in (0.1, 0.5]

  const cases = [
    {
      name: "rate and error % come from the deltas, not from the totals since start",
      pairs: [
        {
          start: sample(0, 100, 2, b([0.1, 90], [0.5, 100], [INF, 100])),
          end: sample(30, 400, 8, b([0.1, 290], [0.5, 400], [INF, 400])),
        },
      ],
      expected: {
        requests: 300,
        errors: 6,
        errorRatePercent: 2,
        requestsPerSecond: 10,
        windowSeconds: 30,
        p99LatencyMs: 488,
      },
    },
    {
      name: "a counter that went down is a restart: the end value is the delta",
      pairs: [
        {
          start: sample(0, 1000, 10, b([0.1, 1000], [INF, 1000]), 500),
          end: sample(20, 50, 5, b([0.1, 40], [INF, 50]), 15),
        },
      ],
      expected: {
        requests: 50,
        errors: 5,
        errorRatePercent: 10,
        requestsPerSecond: 2.5,
        windowSeconds: 20,
        p99LatencyMs: 100,
      },
    },
    {
      name: "an uptime that went down is a restart even when the counters grew past their old values",
      pairs: [
        {
          start: sample(0, 10, 0, b([0.1, 10], [INF, 10]), 500),
          end: sample(30, 60, 0, b([0.1, 60], [INF, 60]), 25),
        },
      ],
      expected: {
        requests: 60,
        errors: 0,
        errorRatePercent: 0,
        requestsPerSecond: 2,
        windowSeconds: 30,
        p99LatencyMs: 99,
      },
    },
    {
      name: "an empty window has no error rate and no P99",
      pairs: [{ start: sample(0, 70, 7, fastAndSlow), end: sample(30, 70, 7, fastAndSlow) }],
      expected: {
        requests: 0,
        errors: 0,
        errorRatePercent: 0,
        requestsPerSecond: 0,
        windowSeconds: 30,
        p99LatencyMs: null,
      },
    },
    {
      name: "a window before the first request (no buckets yet) is empty too",
      pairs: [{ start: sample(0, 0, 0, []), end: sample(30, 0, 0, []) }],
      expected: {
        requests: 0,
        errors: 0,
        errorRatePercent: 0,
        requestsPerSecond: 0,
        windowSeconds: 30,
        p99LatencyMs: null,
      },
    },
    {
      name: "the first requests after a quiet start are all in the window",
      pairs: [{ start: sample(0, 0, 0, []), end: sample(30, 300, 3, fastAndSlow) }],
      expected: {
        requests: 300,
        errors: 3,
        errorRatePercent: 1,
        requestsPerSecond: 10,
        windowSeconds: 30,
        p99LatencyMs: 488,
      },
    },
    {
      name: "replicas' deltas are summed before the rate and the quantile",
      pairs: [
        {
          start: sample(0, 100, 0, b([0.1, 100], [0.5, 100], [INF, 100])),
          end: sample(30, 250, 10, b([0.1, 250], [0.5, 250], [INF, 250])),
        },
        {
          start: sample(0, 50, 0, b([0.1, 50], [0.5, 50], [INF, 50])),
          end: sample(30, 100, 0, b([0.1, 50], [0.5, 100], [INF, 100])),
        },
      ],
      // 150 + 50 requests; buckets 150+0 ≤ 0.1 s, 150+50 ≤ 0.5 s; rank 198 → 0.1 + 0.4 * 48/50
      expected: {
        requests: 200,
        errors: 10,
        errorRatePercent: 5,
        requestsPerSecond: 200 / 30,
        windowSeconds: 30,
        p99LatencyMs: 484,
      },
    },
    {
      name: "the window is rounded to whole seconds, the rate uses the exact span",
      pairs: [{ start: sample(0, 0, 0, []), end: sample(29.6, 296, 0, b([0.1, 296], [INF, 296])) }],
      expected: {
        requests: 296,
        errors: 0,
        errorRatePercent: 0,
        requestsPerSecond: 10,
        windowSeconds: 30,
        p99LatencyMs: 99,
      },
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, { pairs, expected }) => {
    const stats = windowStats(pairs);
    const { p99LatencyMs, requestsPerSecond, ...exact } = stats;
    const { p99LatencyMs: p99, requestsPerSecond: rps, ...exactExpected } = expected;
    expect(exact).toEqual(exactExpected);
    expect(requestsPerSecond).toBeCloseTo(rps, 9);
    if (p99 === null) expect(p99LatencyMs).toBeNull();
    else expect(p99LatencyMs).toBeCloseTo(p99, 9);
  });

  it("refuses to compute a window without any replica", () => {
    expect(() => windowStats([])).toThrow("at least one replica");
  });
});

describe("setFacts", () => {
  it.each([
    [
      "rounds error % to 2 decimals and P99 to whole ms",
      46.938775,
      2004.4,
      98,
      { error_rate_percent: 46.94, p99_latency_ms: 2004 },
    ],
    ["rounds half-way P99 up", 0.004, 487.5, 300, { error_rate_percent: 0, p99_latency_ms: 488 }],
    [
      "reports a P99 of 0 when the window had no requests",
      0,
      null,
      0,
      { error_rate_percent: 0, p99_latency_ms: 0 },
    ],
  ])("%s", (_name, errorRatePercent, p99LatencyMs, requests, expected) => {
    const stats = {
      requests,
      errors: 0,
      errorRatePercent,
      p99LatencyMs,
      requestsPerSecond: 1,
      windowSeconds: 30,
    };
    expect(setFacts("1.0.1", { ...stats, errors: 7 })).toEqual({
      version: "1.0.1",
      ...expected,
      requests,
      errors: 7,
    });
  });
});

describe("parseTrafficSample", () => {
  const fixture = fs.readFileSync(path.join(__dirname, "fixtures", "app-metrics.txt"), "utf8");

  it("reads a prom-client exposition: public matched requests and 5xx only, buckets summed per le, app gauges", () => {
    expect(parseTrafficSample(fixture, 1_700_000_000_000)).toEqual({
      atMs: 1_700_000_000_000,
      // 1520 + 37 + 12; /healthz, /metrics, /chaos and the 3 requests no route matched (404) left out
      requests: 1569,
      errors: 37,
      buckets: b(
        [0.005, 942],
        [0.01, 1347],
        [0.025, 1529],
        [0.05, 1559],
        [0.1, 1564],
        [0.25, 1567],
        [0.5, 1568],
        [1, 1569],
        [2.5, 1569],
        [5, 1569],
        [10, 1569],
        [INF, 1569],
      ),
      uptimeSeconds: 1234.5,
      mode: 1,
      chaos: 0,
    });
  });

  it("reads a sample without a trailing newline and before any request", () => {
    const text = "# TYPE app_mode gauge\napp_mode 0\n# TYPE chaos_active gauge\nchaos_active 2";
    expect(parseTrafficSample(text, 5)).toEqual({
      atMs: 5,
      requests: 0,
      errors: 0,
      buckets: [],
      uptimeSeconds: null,
      mode: 0,
      chaos: 2,
    });
  });

  it("rejects text that is not the Prometheus format", () => {
    expect(() => parseTrafficSample("http_requests_total{path=/} 1\n", 0)).toThrow(
      "not Prometheus text format",
    );
  });

  it("agrees with what prom-client itself exposes", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const labelNames = ["method", "path", "status_code"];
    const requests = new Counter({
      name: "http_requests_total",
      help: "h",
      labelNames,
      registers: [registry],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "h",
      labelNames,
      registers: [registry],
    });
    new Gauge({ name: "app_uptime_seconds", help: "h", registers: [registry] }).set(42);
    const observe = (route: string, status: string, seconds: number, times: number) => {
      for (let i = 0; i < times; i++) {
        requests.inc({ method: "GET", path: route, status_code: status });
        duration.observe({ method: "GET", path: route, status_code: status }, seconds);
      }
    };
    observe("/", "200", 0.02, 8);
    observe("/", "503", 0.3, 2);
    observe("/healthz", "200", 0.001, 50);

    const parsed = parseTrafficSample(await registry.metrics(), 0);
    expect(parsed).toMatchObject({ requests: 10, errors: 2, uptimeSeconds: 42, mode: null, chaos: null });
    expect(parsed.buckets.map((x) => x.count)).toEqual([0, 0, 8, 8, 8, 8, 10, 10, 10, 10, 10, 10]);
    expect(parsed.buckets.at(-1)!.le).toBe(INF);
  });
});
