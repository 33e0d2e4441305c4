import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  HTTP_LABEL_NAMES,
  HttpSeriesTable,
  registerDurationHistogram,
  registerRequestCounter,
} from "../../../service/http-series";
import { DURATION_BUCKETS } from "../../../service/metrics";

const NAME = "http_request_duration_seconds";

// Values on bounds, between them, below the first, above the last, and several label sets.
const OBSERVATIONS: [string, string, number, number][] = [
  ["GET", "/", 200, 0],
  ["GET", "/", 200, 0.005],
  ["GET", "/", 200, 0.0050001],
  ["GET", "/", 200, 0.3],
  ["GET", "/", 200, 10],
  ["GET", "/", 200, 12.5],
  ["GET", "/", 500, 0.042],
  ["POST", "unmatched", 404, 0.0001],
  ["GET", "/healthz", 200, 0.001],
  ["GET", "/", 200, 1],
];

function fromTable(): { registry: Registry; table: HttpSeriesTable } {
  const registry = new Registry();
  const table = new HttpSeriesTable(DURATION_BUCKETS);
  registerDurationHistogram(registry, table, NAME, "help text");
  registerRequestCounter(registry, table, "http_requests_total", "help text");
  return { registry, table };
}

function fromPromClient(): { registry: Registry; histogram: Histogram<string>; counter: Counter<string> } {
  const registry = new Registry();
  const labelNames = HTTP_LABEL_NAMES;
  const histogram = new Histogram({
    name: NAME,
    help: "help text",
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const counter = new Counter({
    name: "http_requests_total",
    help: "help text",
    labelNames,
    registers: [registry],
  });
  return { registry, histogram, counter };
}

describe("HttpSeriesTable exported through a prom-client Registry", () => {
  it("writes the same exposition text as prom-client's own Histogram and Counter", async () => {
    const ours = fromTable();
    const reference = fromPromClient();
    for (const [method, path, status, seconds] of OBSERVATIONS) {
      ours.table.record(method, path, status, seconds);
      const labels = { method, path, status_code: String(status) };
      reference.histogram.observe(labels, seconds);
      reference.counter.inc(labels);
    }
    const text = await ours.registry.metrics();
    expect(text).toBe(await reference.registry.metrics());
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.005",method="GET",path="/",status_code="200"} 2',
    );
  });

  it("keeps counting across scrapes without double counting", async () => {
    const { registry, table } = fromTable();
    table.record("GET", "/", 200, 0.01);
    await registry.metrics();
    table.record("GET", "/", 200, 0.01);
    table.record("GET", "/", 200, 0.01);
    await registry.metrics();
    const text = await registry.metrics();
    expect(text).toMatch(/^http_requests_total\{method="GET",path="\/",status_code="200"\} 3$/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",path="\/",status_code="200"\} 3$/m,
    );
  });

  it("serves the histogram as JSON too", async () => {
    const { registry, table } = fromTable();
    table.record("GET", "/", 200, 0.02);
    const json = await registry.getMetricsAsJSON();
    const histogram = json.find((metric) => metric.name === NAME)!;
    expect(histogram.type).toBe("histogram");
    expect(histogram.values).toContainEqual({
      labels: { le: 0.025, method: "GET", path: "/", status_code: "200" },
      value: 1,
      metricName: `${NAME}_bucket`,
    });
  });

  it("starts the histogram over when the registry is reset", async () => {
    const { registry, table } = fromTable();
    table.record("GET", "/", 200, 0.02);
    registry.resetMetrics();
    expect(await registry.metrics()).toMatch(/^http_request_duration_seconds_count\{.*\} 0$/m);
  });
});
