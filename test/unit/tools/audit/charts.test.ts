import { describe, expect, it } from "vitest";
import { mergePoints, mermaidLineChart, niceCeiling } from "../../../../tools/audit/charts";
import { cell, text } from "../../../../tools/audit/markdown";

const at = (i: number) => new Date(Date.UTC(2025, 10, 24, 10, 0, i * 5)).toISOString();

describe("mermaidLineChart", () => {
  it("draws the values as they are, labelled with their UTC time, on an axis from 0 to a round ceiling", () => {
    const chart = mermaidLineChart({
      title: "Error rate over time (UTC)",
      yLabel: "Error rate (%)",
      points: [0, 46.94, 1.5].map((value, i) => ({ ts: at(i), value })),
    });
    expect(chart).toBe(
      [
        "```mermaid",
        "xychart-beta",
        '    title "Error rate over time (UTC)"',
        '    x-axis ["10:00:00", "10:00:05", "10:00:10"]',
        '    y-axis "Error rate (%)" 0 --> 50',
        "    line [0, 46.94, 1.5]",
        "```",
      ].join("\n"),
    );
  });

  it("labels points with the date when the chart spans several days", () => {
    const chart = mermaidLineChart({
      title: "t",
      yLabel: "y",
      points: [
        { ts: "2025-11-24T23:59:55.000Z", value: 1 },
        { ts: "2025-11-25T00:00:00.000Z", value: 2 },
      ],
    });
    expect(chart).toContain('x-axis ["11-24 23:59", "11-25 00:00"]');
  });

  it("merges long series into runs that keep each run's peak, and says so in the title", () => {
    const points = Array.from({ length: 300 }, (_, i) => ({ ts: at(i), value: i === 151 ? 99 : 1 }));
    const { points: merged, merged: size } = mergePoints(points, 120);
    expect(size).toBe(3);
    expect(merged).toHaveLength(100);
    expect(merged[50]).toEqual({ ts: at(150), value: 99 });
    expect(mermaidLineChart({ title: "P99", yLabel: "ms", points })).toContain(
      'title "P99 (max of every 3 scrapes)"',
    );
    expect(mermaidLineChart({ title: "P99", yLabel: "ms", points, pointName: "windows" })).toContain(
      'title "P99 (max of every 3 windows)"',
    );
  });

  it.each([
    [0, 1],
    [0.3, 0.5],
    [1, 1],
    [46.94, 50],
    [50.98, 100],
    [2010, 5000],
  ])("rounds an axis maximum of %s up to %s", (max, ceiling) => {
    expect(niceCeiling(max)).toBe(ceiling);
  });
});

describe("markdown escaping", () => {
  it.each([
    [
      "Error rate (46.94%) exceeds maximum threshold (1.00%)",
      "Error rate (46.94%) exceeds maximum threshold (1.00%)",
    ],
    ["[OPA/CANARY] *bold* `code` <b>", "\\[OPA/CANARY\\] \\*bold\\* \\`code\\` \\<b\\>"],
  ])("keeps %j as plain text", (raw, escaped) => {
    expect(text(raw)).toBe(escaped);
  });

  it("keeps a table cell on one row: pipes escaped, line breaks as <br>", () => {
    expect(cell("a | b\nc")).toBe("a \\| b<br>c");
  });
});
