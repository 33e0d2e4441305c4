// Prometheus metrics on an injected registry, and the middleware that records public HTTP traffic.
// The middleware sits on every public request, so it only takes two timestamps and bumps a few numbers
// in an HttpSeriesTable; prom-client reads the table when the registry is scraped.
import { performance } from "node:perf_hooks";
import type { Context, Middleware } from "koa";
import { Counter, Gauge, collectDefaultMetrics, type Registry } from "prom-client";
import { APP_MODE_CODE, APP_MODE_HELP, CHAOS_ACTIVE_HELP, CHAOS_CODE } from "../lib/metric-codes";
import type { Mode } from "../lib/modes";
import type { ChaosState } from "./chaos";
import { HttpSeriesTable, registerDurationHistogram, registerRequestCounter } from "./http-series";

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  registry: Registry;
  mode: Mode;
  chaos: () => ChaosState;
  /** performance.now() at start, for app_uptime_seconds. */
  startedAt: number;
  /** prom-client's process metrics (CPU, memory, event loop, GC); on by default. */
  defaultMetrics?: boolean;
}

/**
 * prom-client's gauges named like counters, which Prometheus' lint refuses ("non-counter metrics should not
 * have _total suffix"). Each is the sum of its sibling without the suffix over the `type` label
 * (`sum(nodejs_active_handles)`), so they are dropped rather than renamed: nothing is lost.
 */
export const DROPPED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** Why the admin listener refused: the connection's peer address, or the request's Host header. */
export type AdminRefusal = "peer" | "host";

export interface ServiceMetrics {
  /** What the HTTP middleware fills. */
  http: HttpSeriesTable;
  /** app_admin_refusals_total. */
  adminRefusals: Counter<"reason">;
}

/** Registers every metric of the service on `registry`. */
export function registerMetrics(options: MetricsOptions): ServiceMetrics {
  const { registry, mode, chaos, startedAt } = options;
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  new Gauge({
    name: "app_uptime_seconds",
    help: "Seconds since the app started.",
    registers: [registry],
    collect() {
      this.set((performance.now() - startedAt) / 1000);
    },
  });
  new Gauge({ name: "app_mode", help: APP_MODE_HELP, registers: [registry] }).set(APP_MODE_CODE[mode]);
  new Gauge({
    name: "chaos_active",
    help: CHAOS_ACTIVE_HELP,
    registers: [registry],
    collect() {
      this.set(CHAOS_CODE[chaos().mode]);
    },
  });
  const adminRefusals = new Counter({
    name: "app_admin_refusals_total",
    help: "Connections (reason peer: not from loopback or the default gateway) and requests (reason host: Host not loopback) the admin listener refused.",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of ["peer", "host"] satisfies AdminRefusal[]) adminRefusals.inc({ reason }, 0);
  const table = new HttpSeriesTable(DURATION_BUCKETS);
  registerRequestCounter(
    registry,
    table,
    "http_requests_total",
    "Public HTTP requests answered, by method, route template and status.",
  );
  registerDurationHistogram(
    registry,
    table,
    "http_request_duration_seconds",
    "Public HTTP request duration in seconds, by method, route template and status.",
  );
  return { http: table, adminRefusals };
}

/**
 * Records every request that passes through it in http_requests_total and http_request_duration_seconds.
 * `routeOf` names the request's route template (or UNMATCHED_PATH) after the rest of the app has answered.
 * Mount it outermost: it then times the whole request and sees the status the error boundary wrote.
 */
export function recordHttpMetrics(table: HttpSeriesTable, routeOf: (ctx: Context) => string): Middleware {
  return async function httpMetrics(ctx, next) {
    const start = performance.now();
    try {
      await next();
    } finally {
      table.record(ctx.method, routeOf(ctx), ctx.status, (performance.now() - start) / 1000);
    }
  };
}
