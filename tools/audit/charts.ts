// Mermaid `xychart-beta` line charts, which GitHub renders inside ```mermaid blocks.

export interface ChartPoint {
  /** ISO-8601 time of the value. */
  ts: string;
  value: number;
}

/** More points than this are merged (the maximum of each run of consecutive points), so labels stay legible. */
export const MAX_CHART_POINTS = 120;

export interface LineChart {
  title: string;
  yLabel: string;
  points: ChartPoint[];
  /** What each point is, for the title of a merged chart (default "scrapes"). */
  pointName?: string;
}

/** The chart as a fenced mermaid block; the values are the points' own, unless merged (the title says so). */
export function mermaidLineChart(chart: LineChart): string {
  const { points, merged } = mergePoints(chart.points, MAX_CHART_POINTS);
  const sameDay = new Set(points.map((p) => p.ts.slice(0, 10))).size <= 1;
  const labels = points.map((p) => `"${timeLabel(p.ts, sameDay)}"`);
  const max = Math.max(0, ...points.map((p) => p.value));
  const title =
    merged > 1 ? `${chart.title} (max of every ${merged} ${chart.pointName ?? "scrapes"})` : chart.title;
  return [
    "```mermaid",
    "xychart-beta",
    `    title "${title}"`,
    `    x-axis [${labels.join(", ")}]`,
    `    y-axis "${chart.yLabel}" 0 --> ${niceCeiling(max)}`,
    `    line [${points.map((p) => String(p.value)).join(", ")}]`,
    "```",
  ].join("\n");
}

/** Consecutive runs of `size` points become one: the first time, the largest value (a spike stays visible). */
export function mergePoints(points: ChartPoint[], limit: number): { points: ChartPoint[]; merged: number } {
  if (points.length <= limit) return { points, merged: 1 };
  const size = Math.ceil(points.length / limit);
  const merged: ChartPoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const run = points.slice(i, i + size);
    merged.push({ ts: run[0].ts, value: Math.max(...run.map((p) => p.value)) });
  }
  return { points: merged, merged: size };
}

/** UTC "HH:MM:SS", or "MM-DD HH:MM" when the chart spans several days. */
function timeLabel(iso: string, sameDay: boolean): string {
  return sameDay ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten, at least the largest value. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((m) => m * power >= max)!;
  return step * power;
}
