// The Metrics Summary and the charts: the dashboard's scrapes (one value per refresh interval, both sets
// together) and the canary gate's windows (one per judged promotion, per set), so a report says what the
// traffic was even when the dashboard never ran.
import type { HistoryEvent } from "../../lib/history";
import { round2 } from "../../lib/numbers";
import { mermaidLineChart, type ChartPoint } from "./charts";
import {
  canaryWindow,
  gateEvent,
  scrapeValues,
  type CanaryWindow,
  type ScrapeValues,
  type SetWindow,
} from "./events";
import { cell, table, utc } from "./markdown";

interface Metric<T> {
  name: string;
  pick: (value: T) => number | null;
}

const SCRAPE_METRICS: Metric<ScrapeValues>[] = [
  { name: "Error rate (%)", pick: (s) => s.errorRatePercent },
  { name: "P99 latency (ms)", pick: (s) => s.p99LatencyMs },
  { name: "Throughput (req/s)", pick: (s) => s.requestsPerSecond },
];

const WINDOW_METRICS: Metric<SetWindow>[] = [
  { name: "Error rate (%)", pick: (w) => w.errorRatePercent },
  { name: "P99 latency (ms)", pick: (w) => w.p99LatencyMs },
  { name: "Requests", pick: (w) => w.requests },
];

type SetName = "canary" | "stable";
const SETS: SetName[] = ["canary", "stable"];

export function metricsSummarySection(events: HistoryEvent[]): string {
  return [
    "## Metrics Summary",
    "",
    scrapeSummary(scrapesOf(events)),
    "",
    windowSummary(windowsOf(events)),
  ].join("\n");
}

function scrapesOf(events: HistoryEvent[]): ScrapeValues[] {
  return events.filter((e) => e.type === "scrape").map(scrapeValues);
}

function windowsOf(events: HistoryEvent[]): CanaryWindow[] {
  return events.flatMap((e) => {
    const window = e.type === "gate" ? canaryWindow(gateEvent(e)) : null;
    return window ? [window] : [];
  });
}

function scrapeSummary(scrapes: ScrapeValues[]): string {
  const lines = ["### Dashboard scrapes", ""];
  if (scrapes.length === 0) {
    lines.push("No scrapes recorded: run `npm run status` while the stack serves traffic to collect them.");
    return lines.join("\n");
  }
  const rows = SCRAPE_METRICS.map(({ name, pick }) => summaryRow([name], scrapes.map(pick)));
  lines.push(
    `From ${scrapes.length} dashboard scrapes, one value per refresh interval, both sets together. A scrape ` +
      "without an interval (the first after a start) has no values, nor has an interval without requests a " +
      "P99; those are not counted.",
    "",
    table(["Metric", "Intervals", "Min", "Max", "Avg"], rows),
  );
  const requests = sum(scrapes.map((s) => s.requests));
  const errors = sum(scrapes.map((s) => s.errors));
  if (requests > 0) {
    lines.push(
      "",
      `Over all intervals: ${requests} requests, ${errors} errors (${round2((errors / requests) * 100)}%).`,
    );
  }
  return lines.join("\n");
}

/** Each window the canary gate observed, a row per set, then each metric's range per set. */
function windowSummary(windows: CanaryWindow[]): string {
  const lines = ["### Canary gate windows", ""];
  if (windows.length === 0) {
    lines.push(
      "No canary gate windows recorded: the canary gate observes one each time it judges a promotion.",
    );
    return lines.join("\n");
  }
  const value = (v: number | null) => (v === null ? "-" : String(v));
  const rows = windows.flatMap((w) =>
    SETS.flatMap((name, i) => {
      const set = w[name];
      if (set === null) return [];
      const first = i === 0;
      return [
        [
          first ? utc(w.ts) : "",
          first && w.windowSeconds !== null ? `${w.windowSeconds} s` : "",
          name,
          set.version ?? "-",
          value(set.requests),
          value(set.errors),
          value(set.errorRatePercent),
          value(set.p99LatencyMs),
          first ? w.verdict : "",
          first ? (w.decisionId ?? "") : "",
        ].map(cell),
      ];
    }),
  );
  const ranges = WINDOW_METRICS.flatMap(({ name, pick }) =>
    SETS.flatMap((set) => {
      const values = windows.flatMap((w) => (w[set] === null ? [] : [pick(w[set])]));
      return values.length === 0 ? [] : [summaryRow([name, set], values)];
    }),
  );
  lines.push(
    `From ${windows.length} windows the canary gate observed before deciding a promotion: each set's public ` +
      "traffic over the same window, as the gate sent it to OPA (the stable set where there was one; `-` where " +
      "an older record lacks a value).",
    "",
    table(
      [
        "Time",
        "Window",
        "Set",
        "Version",
        "Requests",
        "Errors",
        "Error rate (%)",
        "P99 (ms)",
        "Verdict",
        "Decision",
      ],
      rows,
    ),
    "",
    table(["Metric", "Set", "Windows", "Min", "Max", "Avg"], ranges),
  );
  const totals = SETS.flatMap((set) => setTotals(set, windows));
  if (totals.length > 0) lines.push("", `Over all windows: ${totals.join("; ")}.`);
  return lines.join("\n");
}

/** "canary 1223 requests, 12 errors (0.98%)" over the windows that recorded both counts. */
function setTotals(set: SetName, windows: CanaryWindow[]): string[] {
  const counted = windows.flatMap((w) => {
    const s = w[set];
    return s !== null && s.requests !== null && s.errors !== null ? [s] : [];
  });
  const requests = sum(counted.map((s) => s.requests));
  const errors = sum(counted.map((s) => s.errors));
  if (requests === 0) return [];
  const of =
    counted.length < windows.filter((w) => w[set] !== null).length
      ? ` (${counted.length} windows record errors)`
      : "";
  return [`${set} ${requests} requests, ${errors} errors (${round2((errors / requests) * 100)}%)${of}`];
}

function summaryRow(names: string[], values: (number | null)[]): string[] {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return [...names, "0", "-", "-", "-"];
  const avg = sum(known) / known.length;
  return [
    ...names,
    String(known.length),
    String(Math.min(...known)),
    String(Math.max(...known)),
    String(round2(avg)),
  ];
}

export function chartsSection(events: HistoryEvent[]): string {
  const scrapes = scrapesOf(events);
  const windows = windowsOf(events);
  const lines = ["## Charts", ""];
  const errorRate = points(scrapes, (s) => s.errorRatePercent);
  const p99 = points(scrapes, (s) => s.p99LatencyMs);
  const scraped = errorRate.length > 0 || p99.length > 0;
  if (!scraped && windows.length === 0) {
    lines.push("No interval values to chart yet.");
    return lines.join("\n");
  }
  const sections: string[] = [];
  if (scraped) {
    sections.push(
      ["### Error rate over time", "", chart(errorRate, "Error rate over time (UTC)", "Error rate (%)")].join(
        "\n",
      ),
      ["### P99 latency over time", "", chart(p99, "P99 latency over time (UTC)", "P99 latency (ms)")].join(
        "\n",
      ),
    );
  }
  if (windows.length > 0) {
    sections.push(
      windowCharts(windows, "error rate", "Error rate (%)", (w) => w.errorRatePercent),
      windowCharts(windows, "P99 latency", "P99 latency (ms)", (w) => w.p99LatencyMs),
    );
  }
  lines.push(sections.join("\n\n"));
  return lines.join("\n");
}

/** One chart per set of a metric over the canary gate's windows (a set without values has none). */
function windowCharts(
  windows: CanaryWindow[],
  metric: string,
  yLabel: string,
  pick: (w: SetWindow) => number | null,
): string {
  const charts = SETS.flatMap((set) => {
    const data = windows.flatMap((w) => {
      const value = w[set] === null ? null : pick(w[set]);
      return value === null ? [] : [{ ts: new Date(w.ts).toISOString(), value }];
    });
    if (data.length === 0) return [];
    const title = `${set === "canary" ? "Canary" : "Stable"} set ${metric} per canary gate window (UTC)`;
    return [mermaidLineChart({ title, yLabel, points: data, pointName: "windows" })];
  });
  return [`### Canary gate windows: ${metric}`, "", charts.join("\n\n") || "No values."].join("\n");
}

function chart(data: ChartPoint[], title: string, yLabel: string): string {
  return data.length === 0 ? "No values." : mermaidLineChart({ title, yLabel, points: data });
}

function points(scrapes: ScrapeValues[], pick: (s: ScrapeValues) => number | null): ChartPoint[] {
  return scrapes.flatMap((s) => {
    const value = pick(s);
    return value === null ? [] : [{ ts: new Date(s.ts).toISOString(), value }];
  });
}

function sum(values: (number | null)[]): number {
  return values.reduce<number>((total, v) => total + (v ?? 0), 0);
}
