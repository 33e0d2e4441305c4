// The audit report of a session in the two-set release model (fixtures/releases.jsonl): the first version
// canaried alone and promoted without a baseline, a canary beside stable refused for its errors, changed,
// refused for too few requests and promoted, another canary aborted, a rollback by the release rule and an
// unjudged release it refused. The dashboard never ran: the metrics come from the canary gate's windows.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { PulumiHistory } from "../../../../tools/audit/pulumi-history";
import { renderAuditReport } from "../../../../tools/audit/report";
import { readHistory } from "../../../../lib/history";
import type { CanaryFacts } from "../../../../lib/types";

const history = readHistory(path.join(__dirname, "fixtures/releases.jsonl"));
const NO_PULUMI: PulumiHistory = { available: false, reason: "not asked in this test" };
const report = renderAuditReport(
  history.events,
  history.skipped,
  NO_PULUMI,
  new Date("2026-03-02T12:00:00Z"),
);

function section(title: string): string {
  const start = report.indexOf(`\n## ${title}\n`);
  expect(start, `section ${title}`).toBeGreaterThan(-1);
  const end = report.indexOf("\n## ", start + 1);
  return report.slice(start, end === -1 ? undefined : end);
}

/** The cells of each table row of `text` that starts with a time. */
function rows(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("| 20"))
    .map((l) => l.slice(2, -2).split(" | "));
}

/** Each mermaid chart of `text`: its title and line values. */
function charts(text: string): { title: string; values: number[] }[] {
  return text
    .split("```mermaid\n")
    .slice(1)
    .map((block) => ({
      title: /title "(.*)"/.exec(block)![1],
      values: /line \[(.*)\]/.exec(block)![1].split(", ").map(Number),
    }));
}

const canaryGates = history.events.filter((e) => e.type === "gate" && e.gate === "canary");

describe("the audit report of a two-set release session", () => {
  it("reads every line", () => {
    expect(history.skipped).toEqual([]);
    expect(history.events.filter((e) => e.type === "scrape")).toEqual([]);
  });

  it("tables every release: what happened, the versions from and to, the weight, who decided and why", () => {
    const table = rows(section("Releases")).map(([, event, from, to, weight, decidedBy, decision]) => [
      event,
      from,
      to,
      weight,
      decidedBy,
      decision.replace(/^(\w{8}).*-0*(\d+)$/, "$1…$2"),
    ]);
    expect(table).toEqual([
      ["canary started", "nothing", "canary 1.0.0", "", "", ""],
      ["canary promoted", "canary 1.0.0", "stable 1.0.0", "", "canary gate", "c0a1b2c3…1"],
      ["canary started", "stable 1.0.0", "stable 1.0.0 + canary 1.1.0", "10%", "", ""],
      ["promotion refused", "stable 1.0.0 + canary 1.1.0", "stable 1.1.0", "", "canary gate", "c0a1b2c3…2"],
      ["canary changed", "stable 1.0.0 + canary 1.1.0", "stable 1.0.0 + canary 1.1.1", "10%", "", ""],
      ["promotion refused", "stable 1.0.0 + canary 1.1.1", "stable 1.1.1", "", "canary gate", "c0a1b2c3…3"],
      ["canary promoted", "stable 1.0.0 + canary 1.1.1", "stable 1.1.1", "", "canary gate", "c0a1b2c3…4"],
      ["canary started", "stable 1.1.1", "stable 1.1.1 + canary 1.2.0", "25%", "", ""],
      ["canary aborted", "stable 1.1.1 + canary 1.2.0", "stable 1.1.1", "", "", ""],
      ["rolled back", "stable 1.1.1", "stable 1.0.0", "", "release rule", "e1e2e3e4…5"],
      ["unjudged release refused", "stable 1.0.0", "stable 2.0.0", "", "release rule", "e1e2e3e4…6"],
    ]);
    expect(section("Releases")).toContain(
      "<br>  - Only 12 requests in the last 30s; at least 20 are needed to judge the canary<br>",
    );
    expect(section("Releases")).not.toContain("Rows whose From and To are modes");
  });

  it("puts each release in the timeline with its versions, weight and decision", () => {
    const timeline = section("Timeline");
    expect(timeline).toContain(
      "| 2026-03-02 09:10:01 UTC | history.jsonl | canary started | stable 1.0.0 → stable 1.0.0 + canary 1.1.0; canary weight 10% |",
    );
    expect(timeline).toContain(
      "| 2026-03-02 09:40:00 UTC | history.jsonl | rolled back | stable 1.1.1 → stable 1.0.0; decided by the release rule (decision e1e2e3e4-0000-4000-8000-000000000005); rollback from 1.1.1 |",
    );
    expect(timeline).toContain(
      "| history.jsonl | release gate: DENY | 1 violation(s), see Policy Violations;",
    );
  });

  it("quotes each denial with the window each set had, and the release rule's refusal", () => {
    const violations = section("Policy Violations");
    expect(violations).toContain("3 of 17 gate decisions did not allow.");
    expect(violations).toContain(
      "Window: 30 s; canary 1.1.0: 148 requests, 12 errors (8.11%), P99 412 ms; stable 1.0.0: 1322 requests, 2 errors (0.15%), P99 88 ms  ",
    );
    expect(violations).toContain(
      "\n- Canary error rate (8.11%) exceeds stable (0.15%) by 7.96 points; at most 1.00 allowed over the last 30s\n",
    );
    expect(violations).toContain("### 2026-03-02 09:45:00 UTC · release gate · denied");
    expect(violations).toContain(
      "\n- 2.0.0 has not run as a canary: set mode canary, pulumi up, then promote",
    );
  });

  it("summarises each set's traffic over the canary gate's windows though the dashboard never ran", () => {
    const summary = section("Metrics Summary");
    expect(summary).toContain("No scrapes recorded");
    expect(rows(summary).map((r) => r.slice(0, 9))).toEqual([
      ["2026-03-02 09:05:30 UTC", "30 s", "canary", "1.0.0", "812", "0", "0", "41", "ALLOW"],
      ["2026-03-02 09:15:30 UTC", "30 s", "canary", "1.1.0", "148", "12", "8.11", "412", "DENY"],
      ["2026-03-02 09:21:30 UTC", "30 s", "canary", "1.1.1", "12", "0", "0", "35", "DENY"],
      ["2026-03-02 09:25:30 UTC", "30 s", "canary", "1.1.1", "251", "0", "0", "61", "ALLOW"],
    ]);
    expect(summary).toContain("|  |  | stable | 1.0.0 | 1322 | 2 | 0.15 | 88 |  |  |");
    expect(summary).toContain("| Error rate (%) | canary | 4 | 0 | 8.11 | 2.03 |");
    expect(summary).toContain("| P99 latency (ms) | stable | 3 | 80 | 88 | 84 |");
    expect(summary).toContain(
      "Over all windows: canary 1223 requests, 12 errors (0.98%); stable 3636 requests, 3 errors (0.08%).",
    );
  });

  it("charts each set's error rate and P99 per window with exactly the values the gate sent to OPA", () => {
    const facts = canaryGates.map((e) => e.input as CanaryFacts);
    const withStable = facts.filter((f) => f.stable !== undefined);
    expect(charts(section("Charts"))).toEqual([
      {
        title: "Canary set error rate per canary gate window (UTC)",
        values: facts.map((f) => f.canary.error_rate_percent),
      },
      {
        title: "Stable set error rate per canary gate window (UTC)",
        values: withStable.map((f) => f.stable!.error_rate_percent),
      },
      {
        title: "Canary set P99 latency per canary gate window (UTC)",
        values: facts.map((f) => f.canary.p99_latency_ms),
      },
      {
        title: "Stable set P99 latency per canary gate window (UTC)",
        values: withStable.map((f) => f.stable!.p99_latency_ms),
      },
    ]);
    expect(section("Charts")).not.toContain("### Error rate over time"); // no scrapes to chart
  });

  it("reads a history that spans the change: old mode changes and flat windows beside the new events", () => {
    const old = readHistory(path.join(__dirname, "../../../fixtures/history/sample.jsonl"));
    const both = renderAuditReport(
      [...old.events, ...history.events],
      [],
      NO_PULUMI,
      new Date("2026-03-02T12:00:00Z"),
    );
    const releases = both.slice(both.indexOf("## Releases"), both.indexOf("## Policy Violations"));
    expect(rows(releases).map((r) => r[1])).toEqual([
      "promotion refused",
      "promotion refused",
      "promotion",
      ...rows(section("Releases")).map((r) => r[1]),
    ]);
    expect(releases).toContain("Rows whose From and To are modes were recorded before the two sets");
    const windows = both.slice(both.indexOf("### Canary gate windows"), both.indexOf("## Charts"));
    expect(windows).toContain("| Error rate (%) | canary | 7 | 0 | 46.94 |");
    expect(windows).toContain("| Error rate (%) | stable | 3 | 0 | 0.15 |");
    expect(windows).toContain(
      "Over all windows: canary 1223 requests, 12 errors (0.98%) (4 windows record errors);",
    );
  });
});
