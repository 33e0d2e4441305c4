// Reading history.jsonl events for the report. Events come from several writers and versions of the code, so
// every field is checked before use: a field of the wrong type reads as missing, never as a crash.
import type { HistoryEvent } from "../../lib/history";
import type {
  GateEvent as GateEventFields,
  HistoryEventBody,
  ModeChangeEvent,
  ReleaseEvent,
  ScrapeEvent,
  ScrapeFailedEvent,
  StoredFields,
} from "../../lib/history-events";
import type { CanaryFacts, PolicyDecision, SetFacts } from "../../lib/types";

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
  decisionId: string | null;
}

export function modeChange(line: HistoryEvent): ModeChange {
  const e = stored<ModeChangeEvent>(line);
  return {
    ts: e.ts,
    from: str(e.from) ?? "?",
    to: str(e.to) ?? "?",
    allowed: typeof e.allowed === "boolean" ? e.allowed : null,
    reason: str(e.reason),
    decisionId: str(e.decision_id),
  };
}

/** "promotion" for canary → stable, "rollback" for stable → canary, else "mode change" (before the two sets). */
export function modeChangeKind(m: ModeChange): string {
  if (m.from === "canary" && m.to === "stable") return "promotion";
  if (m.from === "stable" && m.to === "canary") return "rollback";
  return "mode change";
}

/** A move of the release state (history type "release"), allowed or refused. */
export interface Release {
  ts: string;
  action: string;
  allowed: boolean | null;
  version: string | null;
  /** The versions before the move and after it (the one asked for, when refused). */
  from: ReleaseSets;
  to: ReleaseSets;
  weight: number | null;
  judgement: string | null;
  decisionId: string | null;
  reason: string | null;
}

export interface ReleaseSets {
  stable: string | null;
  canary: string | null;
}

export function releaseEvent(line: HistoryEvent): Release {
  const e = stored<ReleaseEvent>(line);
  return {
    ts: e.ts,
    action: str(e.action) ?? "?",
    allowed: typeof e.allowed === "boolean" ? e.allowed : null,
    version: str(e.version),
    from: { stable: str(e.stable_version), canary: str(e.canary_version) },
    to: { stable: str(e.to_stable), canary: str(e.to_canary) },
    weight: num(e.weight),
    judgement: str(e.judgement),
    decisionId: str(e.decision_id),
    reason: str(e.reason),
  };
}

/** What happened, and what was refused: the action's words when done, the attempt's when refused. */
const RELEASE_WORDS: Record<string, [done: string, attempt: string]> = {
  canary_started: ["canary started", "canary start"],
  canary_changed: ["canary changed", "canary change"],
  canary_aborted: ["canary aborted", "canary abort"],
  canary_promoted: ["canary promoted", "promotion"],
  release_unjudged: ["released unjudged", "unjudged release"],
  rolled_back: ["rolled back", "rollback"],
};

/** "canary promoted", "promotion refused", "rolled back (outcome not recorded)"; unknown actions as they are. */
export function releaseLabel(r: Release): string {
  const [done, attempt] = RELEASE_WORDS[r.action] ?? [
    r.action.replace(/_/g, " "),
    r.action.replace(/_/g, " "),
  ];
  if (r.allowed === false) return `${attempt} refused`;
  return r.allowed === true ? done : `${done} (outcome not recorded)`;
}

/** "stable 1.0.0 + canary 1.1.0", "canary 1.0.0", "nothing". */
export function setsText(sets: ReleaseSets): string {
  const parts = [
    sets.stable === null ? null : `stable ${sets.stable}`,
    sets.canary === null ? null : `canary ${sets.canary}`,
  ].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(" + ") : "nothing";
}

/** Which policy decided a move: the canary judgement, the release rule, or none (nothing to decide). */
export function judgementText(judgement: string | null): string {
  if (judgement === "canary") return "canary gate";
  if (judgement === "release") return "release rule";
  return judgement ?? "";
}

/** One set's traffic over a canary gate window; null where the recorded input lacks the value. */
export interface SetWindow {
  version: string | null;
  requests: number | null;
  errors: number | null;
  errorRatePercent: number | null;
  p99LatencyMs: number | null;
}

/** The window a canary gate observed: both sets (stable null without a baseline), and what OPA said. */
export interface CanaryWindow {
  ts: string;
  windowSeconds: number | null;
  canary: SetWindow;
  stable: SetWindow | null;
  verdict: "ALLOW" | "DENY" | "ERROR";
  decisionId: string | null;
}

/**
 * The window a canary gate event observed, from its input: per set since the two sets (CanaryFacts); before
 * them the input was one flat set of facts, the canary's (errors not recorded). null for any other gate, or
 * an input with none of the facts.
 */
export function canaryWindow(g: GateEvent): CanaryWindow | null {
  if (g.gate !== "canary" || typeof g.input !== "object" || g.input === null) return null;
  const input = g.input as Partial<Record<keyof CanaryFacts, unknown>> &
    Partial<Record<keyof SetFacts, unknown>>;
  const nested = typeof input.canary === "object" && input.canary !== null;
  const canary = setWindow(nested ? input.canary : input);
  if (canary === null) return null;
  return {
    ts: g.ts,
    windowSeconds: num(input.window_seconds),
    canary,
    stable: nested ? setWindow(input.stable) : null,
    verdict: gateVerdict(g),
    decisionId: g.decisionId,
  };
}

function setWindow(value: unknown): SetWindow | null {
  if (typeof value !== "object" || value === null) return null;
  const facts = value as Partial<Record<keyof SetFacts, unknown>>;
  const window: SetWindow = {
    version: str(facts.version),
    requests: num(facts.requests),
    errors: num(facts.errors),
    errorRatePercent: num(facts.error_rate_percent),
    p99LatencyMs: num(facts.p99_latency_ms),
  };
  const known = [window.requests, window.errorRatePercent, window.p99LatencyMs].some((v) => v !== null);
  return known ? window : null;
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
