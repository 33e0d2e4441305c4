import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parsePulumiHistory, type PulumiHistory } from "../../../../tools/audit/pulumi-history";
import { renderAuditReport } from "../../../../tools/audit/report";
import { readHistory, type HistoryEvent } from "../../../../lib/history";
import type { PolicyDecision } from "../../../../lib/types";

const FIXTURES = path.join(__dirname, "../../../fixtures/history");
const NOW = new Date("2025-11-24T12:00:00Z");
const NO_PULUMI: PulumiHistory = {
  available: false,
  reason: "`pulumi stack --show-name`: the pulumi CLI is not on PATH",
};

const sample = readHistory(path.join(FIXTURES, "sample.jsonl"));
const report = renderAuditReport(sample.events, sample.skipped, NO_PULUMI, NOW);

/** The text of one `## Section`, up to the next one. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`no section ${title}`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** `2025-11-24T10:00:14.208Z` as the report prints it. */
const utc = (ts: string) => `${ts.slice(0, 10)} ${ts.slice(11, 19)} UTC`;

const ofType = (type: string) => sample.events.filter((e) => e.type === type);
const scrapes = ofType("scrape");
const valuesOf = (key: string) =>
  scrapes.map((e) => e[key]).filter((v): v is number => typeof v === "number");

/** The x-axis labels and line values of the mermaid chart under `### <heading>`. */
function chartData(markdown: string, heading: string) {
  const block = markdown.split(`### ${heading}`)[1].split("```mermaid\n")[1].split("\n```")[0];
  const xAxis = /x-axis \[(.*)\]/.exec(block)![1];
  const line = /line \[(.*)\]/.exec(block)![1];
  return {
    header: block.split("\n")[0],
    labels: xAxis.split(", ").map((l) => JSON.parse(l) as string),
    values: line.split(", ").map(Number),
  };
}

describe("renderAuditReport on a recorded session", () => {
  it("has every section, in order", () => {
    // Violations have a ### heading each (tested below); the other sections' subsections are fixed.
    const headings = report.split("\n").filter((l) => /^#{1,3} (?!20)/.test(l));
    expect(headings).toEqual([
      "# SwiftDeploy audit report",
      "## Timeline",
      "## Releases",
      "## Policy Violations",
      "## Metrics Summary",
      "### Dashboard scrapes",
      "### Canary gate windows",
      "## Charts",
      "### Error rate over time",
      "### P99 latency over time",
      "### Canary gate windows: error rate",
      "### Canary gate windows: P99 latency",
      "## Pulumi Updates",
      "## Skipped Lines",
    ]);
  });

  it("lists every deploy, gate decision, mode change and teardown in the timeline with its time", () => {
    const timeline = section(report, "Timeline");
    const rows = timeline.split("\n").filter((l) => l.startsWith("| 20"));
    expect(rows).toHaveLength(sample.events.length - scrapes.length);
    for (const e of ofType("deploy"))
      expect(timeline).toContain(
        `| ${utc(e.ts)} | history.jsonl | deploy | mode ${e.mode as string}, version 1.0.0 |`,
      );
    expect(timeline).toContain(`| ${utc(ofType("teardown")[0].ts)} | history.jsonl | teardown |`);
    expect(timeline).toMatch(
      /\| 2025-11-24 10:03:11 UTC \| history\.jsonl \| promotion \| canary → stable \|/,
    );
    expect(timeline).toMatch(/\| 2025-11-24 10:01:35 UTC \| history\.jsonl \| canary gate: DENY \|/);
    expect(timeline).toMatch(
      /\| 2025-11-24 10:04:06 UTC \| history\.jsonl \| infrastructure gate: ERROR \| OPA did not answer within 2000 ms/,
    );
    const times = rows.map((r) => r.split(" | ")[0]);
    expect(times).toEqual([...times].sort());
  });

  it("lists every mode change recorded before the two sets among the releases, with its outcome and reason", () => {
    const releases = section(report, "Releases");
    const changes = ofType("mode_change");
    expect(releases.split("\n").filter((l) => l.startsWith("| 20"))).toHaveLength(changes.length);
    for (const c of changes) {
      const event = c.allowed ? "promotion" : "promotion refused";
      expect(releases).toContain(
        `| ${utc(c.ts)} | ${event} | mode canary | mode stable |  |  |  | ${(c.reason as string) ?? ""} |`,
      );
    }
    expect(releases).toContain("Rows whose From and To are modes were recorded before the two sets");
  });

  it("quotes every violation of every denial in full, and every gate that got no decision", () => {
    const violations = section(report, "Policy Violations");
    const denials = ofType("gate").filter((e) => (e.result as PolicyDecision | null)?.allow === false);
    expect(denials.length).toBeGreaterThan(0);
    for (const d of denials) {
      expect(violations).toContain(`### ${utc(d.ts)} · canary gate · denied`);
      expect(violations).toContain(`Decision ID: \`${d.decision_id as string}\``);
      for (const v of (d.result as PolicyDecision).violations) expect(violations).toContain(`\n- ${v}\n`);
    }
    const failed = ofType("gate").find((e) => e.result === null)!;
    expect(violations).toContain(`### ${utc(failed.ts)} · infrastructure gate · no decision (OPA error)`);
    expect(violations).toContain(`- ${failed.error as string}`);
    expect(violations).not.toContain("10:03:11"); // the allowed promotion is no violation
  });

  it("tables the windows the canary gate observed, recorded before the two sets as the canary's alone", () => {
    const windows = section(report, "Metrics Summary").split("### Canary gate windows")[1];
    expect(windows).toContain(
      "| 2025-11-24 10:01:35 UTC | 30 s | canary | - | 294 | - | 46.94 | 12 | DENY | 7d1e2c44-51aa-4c3b-8e0f-6a9b0c1d2e02 |",
    );
    expect(windows).toContain("| Error rate (%) | canary | 3 | 0 | 46.94 | 15.65 |");
    expect(windows).not.toContain("| stable |");
    expect(windows).not.toContain("Over all windows"); // errors were not recorded before the two sets
  });

  it("summarises min, max and average of error rate, P99 and throughput over the scrapes", () => {
    const summary = section(report, "Metrics Summary").split("### Canary gate windows")[0];
    const row = (name: string, key: string) => {
      const values = valuesOf(key);
      const avg = Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
      return `| ${name} | ${values.length} | ${Math.min(...values)} | ${Math.max(...values)} | ${avg} |`;
    };
    expect(summary).toContain(row("Error rate (%)", "error_rate_percent"));
    expect(summary).toContain(row("P99 latency (ms)", "p99_latency_ms"));
    expect(summary).toContain(row("Throughput (req/s)", "requests_per_second"));
    expect(summary).toContain("| Throughput (req/s) | 43 | 0 | 12.4 |"); // pinned: the helper above is no oracle of itself
  });

  it.each([
    ["Error rate over time", "error_rate_percent"],
    ["P99 latency over time", "p99_latency_ms"],
  ])("charts %s with exactly the recorded values at their times", (heading, key) => {
    const chart = chartData(report, heading);
    const recorded = scrapes.filter((e) => typeof e[key] === "number");
    expect(chart.header).toBe("xychart-beta");
    expect(chart.values).toEqual(recorded.map((e) => e[key]));
    expect(chart.labels).toEqual(recorded.map((e) => e.ts.slice(11, 19)));
  });

  it("says why Pulumi's update history is missing instead of failing", () => {
    expect(section(report, "Pulumi Updates")).toContain(
      "Pulumi's update history is not available: \\`pulumi stack --show-name\\`: the pulumi CLI is not on PATH",
    );
    expect(report).toContain("(Pulumi's update history unavailable, see Pulumi Updates)");
  });

  describe("with Pulumi's update history of the file backend", () => {
    // As `pulumi stack history --json` prints it for the local file backend: newest first, version 0 for
    // every update, and the checkout's HEAD commit subject as the message of each one run from it.
    const HEAD = "Layout: program/ | tools/";
    const history = parsePulumiHistory(
      JSON.stringify([
        {
          version: 0,
          kind: "destroy",
          startTime: "2025-11-24T10:04:08Z",
          endTime: "2025-11-24T10:04:11Z",
          result: "succeeded",
          message: "Next commit",
          resourceChanges: { delete: 14 },
        },
        {
          version: 0,
          kind: "update",
          startTime: "2025-11-24T10:01:20Z",
          endTime: "2025-11-24T10:02:36Z",
          result: "failed",
          message: HEAD,
          resourceChanges: { same: 12, update: 1 },
        },
        {
          version: 0,
          kind: "update",
          startTime: "2025-11-24T10:00:02Z",
          endTime: "2025-11-24T10:00:14Z",
          result: "succeeded",
          message: HEAD,
          resourceChanges: { create: 14 },
        },
      ]),
    );
    const withPulumi = renderAuditReport(
      sample.events,
      sample.skipped,
      { available: true, updates: history },
      NOW,
    );

    it("tables each update with its running number, duration and changes, and a message only when it is new", () => {
      expect(section(withPulumi, "Pulumi Updates")).toBe(
        [
          "",
          "## Pulumi Updates",
          "",
          "| # | Kind | Result | Started | Duration | Resources | Message |",
          "| --- | --- | --- | --- | --- | --- | --- |",
          "| 1 | update | succeeded | 2025-11-24 10:00:02 UTC | 12 s | 14 created | Layout: program/ \\| tools/ |",
          "| 2 | update | failed | 2025-11-24 10:01:20 UTC | 1 min 16 s | 1 updated, 12 unchanged |  |",
          "| 3 | destroy | succeeded | 2025-11-24 10:04:08 UTC | 3 s | 14 deleted | Next commit |",
          "",
          "A message is shown where it differs from the update before.",
          "",
        ].join("\n"),
      );
    });

    it("puts each update in the timeline by its running number, with a message only when it is new", () => {
      const timeline = section(withPulumi, "Timeline");
      expect(timeline).toContain(
        "| 2025-11-24 10:00:02 UTC | pulumi | update #1 succeeded | resources: 14 created; message: Layout: program/ \\| tools/ |",
      );
      expect(timeline).toContain(
        "| 2025-11-24 10:01:20 UTC | pulumi | update #2 failed | resources: 1 updated, 12 unchanged |\n",
      );
      expect(timeline).toContain(
        "| 2025-11-24 10:04:08 UTC | pulumi | destroy #3 succeeded | resources: 14 deleted; message: Next commit |",
      );
    });
  });

  it("says plainly when there is nothing recorded", () => {
    const empty = renderAuditReport([], [], { available: true, updates: [] }, NOW);
    expect(section(empty, "Timeline")).toContain(
      "No deploys, gate decisions, releases or teardowns recorded.",
    );
    expect(section(empty, "Releases")).toContain("No releases or mode changes recorded.");
    expect(section(empty, "Metrics Summary")).toContain("No scrapes recorded");
    expect(section(empty, "Metrics Summary")).toContain("No canary gate windows recorded");
    expect(section(empty, "Charts")).toContain("No interval values to chart yet.");
    expect(section(empty, "Policy Violations")).toContain("None: all 0 gate decisions allowed.");
  });

  it("shows an event type it does not know with its fields rather than dropping it", () => {
    const odd: HistoryEvent = {
      v: 1,
      ts: "2025-11-24T11:00:00.000Z",
      stack: "dev",
      type: "config_set",
      key: "mode",
    };
    expect(section(renderAuditReport([odd], [], NO_PULUMI, NOW), "Timeline")).toContain(
      '| 2025-11-24 11:00:00 UTC | history.jsonl | config_set | {"key":"mode"} |',
    );
  });
});

describe("renderAuditReport on a history with corrupt lines", () => {
  const corrupt = readHistory(path.join(FIXTURES, "corrupt.jsonl"));
  const text = renderAuditReport(corrupt.events, corrupt.skipped, NO_PULUMI, NOW);

  it("skips each corrupt or truncated line and reports it with its line number and reason", () => {
    expect(corrupt.skipped.map((s) => s.line)).toEqual([5, 6, 7, 8]);
    expect(text).toContain(
      "> **Warning:** 4 line(s) of history.jsonl are corrupt or truncated and were skipped",
    );
    const skipped = section(text, "Skipped Lines");
    for (const s of corrupt.skipped) expect(skipped).toContain(`| ${s.line} | `);
    expect(skipped).toContain("| 6 | not valid JSON");
    expect(skipped).toContain("`Killed`");
    expect(skipped).toContain("| 7 | unsupported version: v is 2, expected 1 |");
  });

  it("still reports every whole line", () => {
    expect(corrupt.events).toHaveLength(6);
    expect(section(text, "Timeline")).toContain("| 2025-11-24 10:00:14 UTC | history.jsonl | deploy |");
    expect(chartData(text, "Error rate over time").values).toEqual([0, 0, 0]);
  });
});
