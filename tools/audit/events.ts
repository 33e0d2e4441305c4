// Reading history.jsonl events for the report. Events come from several writers and versions of the code, so
// every field is checked before use: a field of the wrong type reads as missing, never as a crash.
import type { HistoryEvent } from "../../lib/history";
import type {
  GateEvent as GateEventFields,
  HistoryEventBody,
  ModeChangeEvent,
  ScrapeEvent,
  ScrapeFailedEvent,
  StoredFields,
} from "../../lib/history-events";
import type { PolicyDecision } from "../../lib/types";

/**
 * A stored line read as the kind `E` of lib/history-events.ts: its field names come from there (a renamed
 * field fails the type check here), its values are still to be checked.
 */
type Stored<E extends HistoryEventBody> = { [K in keyof E]?: unknown } & StoredFields;

function stored<E extends HistoryEventBody>(e: HistoryEvent): Stored<E> {
  return e as Stored<E>;
}

export function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export interface GateEvent {
  ts: string;
  gate: string;
  input: unknown;
  result: PolicyDecision | null;
  decisionId: string | null;
  durationMs: number | null;
  error: string | null;
  /** unreachable, timeout, malformed, undefined: why OPA gave no decision. */
  errorKind: string | null;
}

export function gateEvent(line: HistoryEvent): GateEvent {
  const e = stored<GateEventFields>(line);
  return {
    ts: e.ts,
    gate: str(e.gate) ?? "unknown",
    input: e.input,
    result: isDecision(e.result) ? e.result : null,
    decisionId: str(e.decision_id),
    durationMs: num(e.duration_ms),
    error: str(e.error),
    errorKind: str(e.error_kind),
  };
}

function isDecision(value: unknown): value is PolicyDecision {
  const d = value as PolicyDecision | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.allow === "boolean" &&
    Array.isArray(d.violations) &&
    d.violations.every((v) => typeof v === "string")
  );
}

/** What a gate event concluded: ALLOW, DENY, or ERROR when OPA gave no decision. */
export function gateVerdict(g: GateEvent): "ALLOW" | "DENY" | "ERROR" {
  if (!g.result) return "ERROR";
  return g.result.allow ? "ALLOW" : "DENY";
}

export interface ScrapeFailure {
  gate: string;
  url: string;
  at: string;
  kind: string;
  detail: string;
}

export function scrapeFailure(line: HistoryEvent): ScrapeFailure {
  const e = stored<ScrapeFailedEvent>(line);
  return {
    gate: str(e.gate) ?? "?",
    url: str(e.url) ?? "?",
    at: str(e.at) ?? "?",
    kind: str(e.kind) ?? "?",
    detail: str(e.detail) ?? "",
  };
}

export interface ModeChange {
  ts: string;
  from: string;
  to: string;
  allowed: boolean | null;
  reason: string | null;
}

export function modeChange(line: HistoryEvent): ModeChange {
  const e = stored<ModeChangeEvent>(line);
  return {
    ts: e.ts,
    from: str(e.from) ?? "?",
    to: str(e.to) ?? "?",
    allowed: typeof e.allowed === "boolean" ? e.allowed : null,
    reason: str(e.reason),
  };
}

/** "promotion" for canary → stable, "rollback" for stable → canary, else "mode change". */
export function modeChangeKind(m: ModeChange): string {
  if (m.from === "canary" && m.to === "stable") return "promotion";
  if (m.from === "stable" && m.to === "canary") return "rollback";
  return "mode change";
}

/** One scrape's interval values; null where the scrape had none (a first scrape, an interval without requests). */
export interface ScrapeValues {
  ts: string;
  errorRatePercent: number | null;
  p99LatencyMs: number | null;
  requestsPerSecond: number | null;
  requests: number | null;
  errors: number | null;
}

export function scrapeValues(line: HistoryEvent): ScrapeValues {
  const e = stored<ScrapeEvent>(line);
  return {
    ts: e.ts,
    errorRatePercent: num(e.error_rate_percent),
    p99LatencyMs: num(e.p99_latency_ms),
    requestsPerSecond: num(e.requests_per_second),
    requests: num(e.requests),
    errors: num(e.errors),
  };
}

/** Events in time order; events with the same time keep their order in the file. */
export function byTime(events: HistoryEvent[]): HistoryEvent[] {
  return events
    .map((event, index) => ({ event, index, at: Date.parse(event.ts) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ event }) => event);
}
