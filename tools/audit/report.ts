// audit_report.md from history.jsonl and Pulumi's update history. Pure: the same inputs give the same text.
import type { HistoryEvent, HistoryRead } from "../../lib/history";
import {
  byTime,
  canaryWindow,
  gateEvent,
  gateVerdict,
  judgementText,
  modeChange,
  modeChangeKind,
  releaseEvent,
  releaseLabel,
  setsText,
  type CanaryWindow,
  type SetWindow,
} from "./events";
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
    releasesSection(ordered),
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

/**
 * Every move of the release state, allowed or refused, with the versions before and after it; the mode
 * changes recorded before the two sets are listed among them as they were (modes, not versions).
 */
function releasesSection(events: HistoryEvent[]): string {
  const rows = events.flatMap((e) => {
    if (e.type === "release") {
      const r = releaseEvent(e);
      return [
        [
          utc(r.ts),
          releaseLabel(r),
          setsText(r.from),
          setsText(r.to),
          r.weight === null ? "" : `${r.weight}%`,
          judgementText(r.judgement),
          r.decisionId ?? "",
          r.reason ?? "",
        ],
      ];
    }
    if (e.type !== "mode_change") return [];
    const m = modeChange(e);
    const outcome = m.allowed === true ? "" : m.allowed === false ? " refused" : " (outcome not recorded)";
    return [
      [
        utc(m.ts),
        `${modeChangeKind(m)}${outcome}`,
        `mode ${m.from}`,
        `mode ${m.to}`,
        "",
        "",
        m.decisionId ?? "",
        m.reason ?? "",
      ],
    ];
  });
  const lines = ["## Releases", ""];
  if (rows.length === 0) {
    lines.push("No releases or mode changes recorded.");
    return lines.join("\n");
  }
  lines.push(
    table(
      ["Time", "Event", "From", "To", "Canary weight", "Decided by", "Decision", "Reason"],
      rows.map((r) => r.map(cell)),
    ),
  );
  if (events.some((e) => e.type === "mode_change")) {
    lines.push(
      "",
      "Rows whose From and To are modes were recorded before the two sets (mode_change events).",
    );
  }
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
    const window = canaryWindow(g);
    if (window) lines.push(`Window: ${text(windowText(window))}  `);
    lines.push(`Input: \`${JSON.stringify(g.input ?? null)}\``, "");
    if (g.result) lines.push(...g.result.violations.map((v) => `- ${text(v)}`));
    if (g.error) lines.push(`- ${text(g.error)}`);
    for (const note of g.result?.notes ?? []) lines.push(`- Note: ${text(note)}`);
  }
  return lines.join("\n");
}

/** "30 s; canary 1.1.0: 148 requests, 12 errors (8.11%), P99 412 ms; stable 1.0.0: ..." */
function windowText(w: CanaryWindow): string {
  const set = (name: string, s: SetWindow) => {
    const counts = [
      s.requests === null ? null : `${s.requests} requests`,
      s.errors === null ? null : `${s.errors} errors`,
    ].filter(Boolean);
    const rate = s.errorRatePercent === null ? "" : ` (${s.errorRatePercent}%)`;
    const p99 = s.p99LatencyMs === null ? "" : `, P99 ${s.p99LatencyMs} ms`;
    return `${name}${s.version ? ` ${s.version}` : ""}: ${counts.join(", ")}${rate}${p99}`;
  };
  const parts = [
    w.windowSeconds === null ? "window unknown" : `${w.windowSeconds} s`,
    set("canary", w.canary),
  ];
  parts.push(w.stable === null ? "no stable set" : set("stable", w.stable));
  return parts.join("; ");
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
