// audit_report.md from history.jsonl and Pulumi's update history. Pure: the same inputs give the same text.
import type { HistoryEvent, HistoryRead } from "../../lib/history";
import { byTime, gateEvent, gateVerdict, modeChange, modeChangeKind } from "./events";
import { cell, table, text, utc } from "./markdown";
import { chartsSection, metricsSummarySection } from "./metrics-summary";
import type { PulumiHistory } from "./pulumi-history";
import { pulumiUpdatesSection } from "./pulumi-updates";
import { timelineSection } from "./timeline";

export type SkippedLine = HistoryRead["skipped"][number];

export function renderAuditReport(
  events: HistoryEvent[],
  skipped: SkippedLine[],
  pulumi: PulumiHistory,
  now: Date,
): string {
  const ordered = byTime(events);
  const sections = [
    header(ordered, skipped, pulumi, now),
    timelineSection(ordered, pulumi),
    modeChangesSection(ordered),
    violationsSection(ordered),
    metricsSummarySection(ordered),
    chartsSection(ordered),
    pulumiUpdatesSection(pulumi),
    skippedSection(skipped),
  ];
  return `${sections.join("\n\n")}\n`;
}

function header(events: HistoryEvent[], skipped: SkippedLine[], pulumi: PulumiHistory, now: Date): string {
  const stacks = [...new Set(events.map((e) => e.stack))];
  const span = events.length > 0 ? `, ${utc(events[0].ts)} to ${utc(events[events.length - 1].ts)}` : "";
  const source = pulumi.available
    ? `and Pulumi's update history (${pulumi.updates.length} updates)`
    : "(Pulumi's update history unavailable, see Pulumi Updates)";
  const lines = [
    "# SwiftDeploy audit report",
    "",
    `Stack: ${stacks.length > 0 ? stacks.map((s) => `**${text(s)}**`).join(", ") : "none recorded"}  `,
    `Generated: ${utc(now.toISOString())}  `,
    `Sources: history.jsonl (${events.length} events${span}) ${source}`,
  ];
  if (skipped.length > 0) {
    lines.push(
      "",
      `> **Warning:** ${skipped.length} line(s) of history.jsonl are corrupt or truncated and were skipped; ` +
        "see Skipped Lines.",
    );
  }
  return lines.join("\n");
}

function modeChangesSection(events: HistoryEvent[]): string {
  const changes = events.filter((e) => e.type === "mode_change").map(modeChange);
  const lines = ["## Mode Changes", ""];
  if (changes.length === 0) {
    lines.push("No mode changes recorded.");
    return lines.join("\n");
  }
  const outcome = (allowed: boolean | null) =>
    allowed === true ? "done" : allowed === false ? "refused" : "unknown";
  const rows = changes.map((m) => [
    utc(m.ts),
    modeChangeKind(m),
    m.from,
    m.to,
    outcome(m.allowed),
    m.reason ?? "",
  ]);
  lines.push(
    table(
      ["Time", "Change", "From", "To", "Outcome", "Reason"],
      rows.map((r) => r.map(cell)),
    ),
  );
  return lines.join("\n");
}

/** Every denial with OPA's sentences in full, and every gate that got no decision at all. */
function violationsSection(events: HistoryEvent[]): string {
  const gates = events.filter((e) => e.type === "gate").map(gateEvent);
  const problems = gates.filter((g) => gateVerdict(g) !== "ALLOW");
  const lines = ["## Policy Violations", ""];
  if (problems.length === 0) {
    lines.push(`None: all ${gates.length} gate decisions allowed.`);
    return lines.join("\n");
  }
  lines.push(`${problems.length} of ${gates.length} gate decisions did not allow.`);
  for (const g of problems) {
    const verdict = gateVerdict(g) === "DENY" ? "denied" : "no decision (OPA error)";
    lines.push("", `### ${utc(g.ts)} · ${text(g.gate)} gate · ${verdict}`, "");
    if (g.decisionId) lines.push(`Decision ID: \`${g.decisionId}\`  `);
    lines.push(`Input: \`${JSON.stringify(g.input ?? null)}\``, "");
    if (g.result) lines.push(...g.result.violations.map((v) => `- ${text(v)}`));
    if (g.error) lines.push(`- ${text(g.error)}`);
  }
  return lines.join("\n");
}

function skippedSection(skipped: SkippedLine[]): string {
  const lines = ["## Skipped Lines", ""];
  if (skipped.length === 0) {
    lines.push("None: every line of history.jsonl is a whole event.");
    return lines.join("\n");
  }
  const rows = skipped.map((s) => [
    String(s.line),
    cell(s.reason),
    `\`${s.excerpt.replace(/`/g, "'").replace(/\|/g, "\\|")}\``,
  ]);
  lines.push(table(["Line", "Reason", "Excerpt"], rows));
  return lines.join("\n");
}
