// The Timeline section: every event of history.jsonl except scrapes, and Pulumi's own updates, in time order.
import type { HistoryEvent } from "../../lib/history";
import {
  gateEvent,
  gateVerdict,
  judgementText,
  modeChange,
  modeChangeKind,
  releaseEvent,
  releaseLabel,
  scrapeFailure,
  setsText,
  str,
} from "./events";
import { cell, table, utc } from "./markdown";
import type { PulumiHistory, PulumiUpdate } from "./pulumi-history";
import { newMessages, resourceChanges } from "./pulumi-updates";

interface Row {
  at: number;
  order: number;
  cells: [time: string, source: string, event: string, details: string];
}

export function timelineSection(events: HistoryEvent[], pulumi: PulumiHistory): string {
  const fromHistory = events.filter((e) => e.type !== "scrape").map((e, i) => historyRow(e, i));
  const fromPulumi = pulumi.available ? pulumiRows(pulumi.updates, events.length) : [];
  const rows = [...fromHistory, ...fromPulumi].sort((a, b) => a.at - b.at || a.order - b.order);
  const scrapes = events.filter((e) => e.type === "scrape").length;
  const lines = ["## Timeline", ""];
  if (rows.length === 0) lines.push("No deploys, gate decisions, releases or teardowns recorded.");
  else
    lines.push(
      table(
        ["Time", "Source", "Event", "Details"],
        rows.map((r) => r.cells.map(cell)),
      ),
    );
  if (scrapes > 0)
    lines.push(
      "",
      `${scrapes} dashboard scrapes are summarised under Metrics Summary rather than listed here.`,
    );
  return lines.join("\n");
}

function historyRow(e: HistoryEvent, order: number): Row {
  const [event, details] = describe(e);
  return { at: Date.parse(e.ts), order, cells: [utc(e.ts), "history.jsonl", event, details] };
}

/** The event column and the details column of one history event. */
function describe(e: HistoryEvent): [string, string] {
  switch (e.type) {
    case "deploy":
      return ["deploy", `mode ${str(e.mode) ?? "?"}, version ${str(e.version) ?? "?"}`];
    case "deploy_failed":
      return ["deploy failed", str(e.reason) ?? ""];
    case "gate": {
      const g = gateEvent(e);
      const verdict = gateVerdict(g);
      const parts: string[] = [];
      if (g.result && !g.result.allow)
        parts.push(`${g.result.violations.length} violation(s), see Policy Violations`);
      if (g.error) parts.push(g.errorKind ? `${g.errorKind}: ${g.error}` : g.error);
      if (g.decisionId) parts.push(`decision ${g.decisionId}`);
      if (g.durationMs !== null) parts.push(`${g.durationMs} ms`);
      return [`${g.gate} gate: ${verdict}`, parts.join("; ")];
    }
    case "mode_change": {
      const m = modeChange(e);
      const outcome = m.allowed === true ? "" : m.allowed === false ? " refused" : " (outcome not recorded)";
      return [`${modeChangeKind(m)}${outcome}`, `${m.from} → ${m.to}${m.reason ? `: ${m.reason}` : ""}`];
    }
    case "release": {
      const r = releaseEvent(e);
      const parts = [`${setsText(r.from)} → ${setsText(r.to)}`];
      if (r.weight !== null) parts.push(`canary weight ${r.weight}%`);
      if (r.judgement !== null) {
        parts.push(
          `decided by the ${judgementText(r.judgement)}${r.decisionId ? ` (decision ${r.decisionId})` : ""}`,
        );
      }
      if (r.reason) parts.push(r.reason);
      return [releaseLabel(r), parts.join("; ")];
    }
    case "scrape_failed": {
      const f = scrapeFailure(e);
      return [
        `${f.gate} gate: scrape failed`,
        `${f.url} at the ${f.at.replace("_", " ")}: ${f.kind}, ${f.detail}`,
      ];
    }
    case "teardown":
      return ["teardown", "stack destroyed"];
    default:
      return [e.type, otherFields(e)];
  }
}

/** An event type this report does not know: its fields as JSON, so nothing recorded goes unseen. */
function otherFields(e: HistoryEvent): string {
  const { v: _v, ts: _ts, stack: _stack, type: _type, ...fields } = e;
  return JSON.stringify(fields);
}

/** Pulumi's updates; `firstOrder` keeps them after history events of the same time. */
function pulumiRows(updates: PulumiUpdate[], firstOrder: number): Row[] {
  const messages = newMessages(updates);
  return updates.map((u, i) => {
    const changes = resourceChanges(u);
    const details = [changes && `resources: ${changes}`, messages[i] && `message: ${messages[i]}`]
      .filter(Boolean)
      .join("; ");
    return {
      at: Date.parse(u.startTime),
      order: firstOrder + i,
      cells: [utc(u.startTime), "pulumi", `${u.kind} #${u.number} ${u.result}`, details],
    };
  });
}
