// The audit report for history captured from a real run of the dev stack (test/fixtures/history/
// recorded.jsonl): deploys, dashboard scrapes under chaos, an allowed promotion, a return to canary, a
// teardown and redeploy, and a promotion the canary gate refused. Every section is there and the charts
// carry exactly the recorded values.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { PulumiHistory } from "../../../../tools/audit/pulumi-history";
import { renderAuditReport } from "../../../../tools/audit/report";
import { readHistory } from "../../../../lib/history";
import type { PolicyDecision } from "../../../../lib/types";

const recorded = readHistory(path.join(__dirname, "../../../fixtures/history/recorded.jsonl"));
const NO_PULUMI: PulumiHistory = { available: false, reason: "not asked in this test" };
const report = renderAuditReport(
  recorded.events,
  recorded.skipped,
  NO_PULUMI,
  new Date("2026-11-25T01:00:00Z"),
);
const ofType = (type: string) => recorded.events.filter((e) => e.type === type);

function section(title: string): string {
  const start = report.indexOf(`\n## ${title}\n`);
  expect(start, `section ${title}`).toBeGreaterThan(-1);
  const end = report.indexOf("\n## ", start + 1);
  return report.slice(start, end === -1 ? undefined : end);
}

function chartValues(heading: string): number[] {
  const block = report.split(`### ${heading}`)[1].split("```mermaid\n")[1].split("\n```")[0];
  return /line \[(.*)\]/.exec(block)![1].split(", ").map(Number);
}

describe("the audit report of a recorded real session", () => {
  it("reads every line of the capture", () => {
    expect(recorded.skipped).toEqual([]);
    expect(ofType("deploy").length).toBeGreaterThan(0);
    expect(ofType("teardown")).toHaveLength(1);
  });

  it("has every section", () => {
    for (const title of ["Timeline", "Releases", "Policy Violations", "Metrics Summary", "Charts"]) {
      expect(section(title).length).toBeGreaterThan(0);
    }
  });

  it("lists each mode change, allowed or refused, with its decision id", () => {
    const changes = ofType("mode_change");
    expect(changes.map((c) => c.allowed)).toEqual([true, true, false]);
    const rows = section("Releases")
      .split("\n")
      .filter((l) => l.startsWith("| 20"));
    expect(rows.map((r) => r.split(" | ").slice(1, 4))).toEqual([
      ["promotion", "mode canary", "mode stable"],
      ["rollback", "mode stable", "mode canary"],
      ["promotion refused", "mode canary", "mode stable"],
    ]);
    expect(rows[2]).toContain(" | 5aba2af1-81f6-4265-9bba-a4786f71a2c9 | ");
  });

  it("quotes the refused promotion's violation in full", () => {
    const denied = ofType("gate").filter((g) => (g.result as PolicyDecision | null)?.allow === false);
    expect(denied).toHaveLength(1);
    const violation = (denied[0].result as PolicyDecision).violations[0];
    expect(violation).toMatch(
      /^Error rate \([\d.]+%\) exceeds maximum threshold \(1\.00%\) over the last 30s$/,
    );
    expect(section("Policy Violations")).toContain(violation);
  });

  it.each([
    ["Error rate over time", "error_rate_percent"],
    ["P99 latency over time", "p99_latency_ms"],
  ])("charts %s with exactly the recorded scrape values", (heading, key) => {
    const values = ofType("scrape")
      .map((s) => s[key])
      .filter((v): v is number => typeof v === "number");
    expect(values.length).toBeGreaterThan(3);
    expect(chartValues(heading)).toEqual(values);
  });
});
