// The Metrics Summary and the charts: the dashboard's scrapes, one value per refresh interval.
import type { HistoryEvent } from "../../lib/history";
import { round2 } from "../../lib/numbers";
import { mermaidLineChart, type ChartPoint } from "./charts";
import { scrapeValues, type ScrapeValues } from "./events";
import { table } from "./markdown";

interface Metric {
  name: string;
  pick: (s: ScrapeValues) => number | null;
}

const METRICS: Metric[] = [
  { name: "Error rate (%)", pick: (s) => s.errorRatePercent },
  { name: "P99 latency (ms)", pick: (s) => s.p99LatencyMs },
  { name: "Throughput (req/s)", pick: (s) => s.requestsPerSecond },
];

export function metricsSummarySection(events: HistoryEvent[]): string {
  const scrapes = events.filter((e) => e.type === "scrape").map(scrapeValues);
  const lines = ["## Metrics Summary", ""];
  if (scrapes.length === 0) {
    lines.push("No scrapes recorded: run `npm run status` while the stack serves traffic to collect them.");
    return lines.join("\n");
  }
  const rows = METRICS.map(({ name, pick }) => summaryRow(name, scrapes.map(pick)));
  lines.push(
    `From ${scrapes.length} dashboard scrapes, one value per refresh interval. A scrape without an interval ` +
      "(the first after a start) has no values, nor has an interval without requests a P99; those are not counted.",
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

function summaryRow(name: string, values: (number | null)[]): string[] {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return [name, "0", "-", "-", "-"];
  const avg = sum(known) / known.length;
  return [
    name,
    String(known.length),
    String(Math.min(...known)),
    String(Math.max(...known)),
    String(round2(avg)),
  ];
}

export function chartsSection(events: HistoryEvent[]): string {
  const scrapes = events.filter((e) => e.type === "scrape").map(scrapeValues);
  const lines = ["## Charts", ""];
  const errorRate = points(scrapes, (s) => s.errorRatePercent);
  const p99 = points(scrapes, (s) => s.p99LatencyMs);
  if (errorRate.length === 0 && p99.length === 0) {
    lines.push("No interval values to chart yet.");
    return lines.join("\n");
  }
  lines.push(
    "### Error rate over time",
    "",
    chart(errorRate, "Error rate over time (UTC)", "Error rate (%)"),
  );
  lines.push(
    "",
    "### P99 latency over time",
    "",
    chart(p99, "P99 latency over time (UTC)", "P99 latency (ms)"),
  );
  return lines.join("\n");
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
