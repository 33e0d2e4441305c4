// The events of history.jsonl, one type per kind: the gates, the audit record's CLI and the dashboard write
// them through appendHistory (lib/history.ts); the audit report reads them (tools/audit/events.ts). Extend,
// never break: a field once written keeps its name and meaning.
import type { Mode } from "./modes";
import type { ReleaseAction } from "./release-state";
import type { OpaFailureKind } from "./opa";
import type { ScrapeFailureKind } from "./scrape";
import type { GateName, PolicyDecision } from "./types";

/** A gate asked OPA (or tried to): what it asked, what OPA answered, how long it took. */
export interface GateEvent {
  type: "gate";
  gate: GateName;
  input: unknown;
  /** OPA's decision; null when OPA gave none (then `error` says why). */
  result: PolicyDecision | null;
  decision_id: string | null;
  duration_ms: number;
  /** Why OPA gave no decision, in words (the message `pulumi up` fails with, without the gate's header). */
  error?: string;
  /** The same, as one word: unreachable (OPA down), timeout (OPA slow), malformed (garbage), undefined. */
  error_kind?: OpaFailureKind;
  /** The canary gate's time beyond its observation window. */
  overhead_ms?: number;
}

/** What runs after a `pulumi up` that changed it (the audit record's create/update). */
export interface DeployEvent {
  type: "deploy";
  mode?: string;
  /** The version that takes most requests: stable's, or the only set's. */
  version?: string;
  /** The canary's version while one runs beside stable. */
  canary_version?: string;
  /** Container ids, comma-separated. */
  app?: string;
  nginx?: string;
}

/** A `pulumi up` that a gate stopped. */
export interface DeployFailedEvent {
  type: "deploy_failed";
  reason: string;
}

/**
 * A change of the app's mode, allowed or refused. Written until the two-set release model; since then a
 * move between releases is a `release` event (a promotion is `release` with action canary_promoted).
 */
export interface ModeChangeEvent {
  type: "mode_change";
  from: Mode;
  to: Mode;
  allowed: boolean;
  reason?: string;
  decision_id?: string | null;
}

/**
 * A move of the release state (lib/release-state.ts), allowed or refused: a canary started, changed, aborted
 * or promoted, a version released without the canary judgement, a rollback. Versions are the ones before
 * the move (`stable_version`, `canary_version`) and after it (`to_stable`, `to_canary`).
 */
export interface ReleaseEvent {
  type: "release";
  action: Exclude<ReleaseAction, "none">;
  allowed: boolean;
  /** The version the move is about: the canary's, or the one that becomes stable. */
  version: string;
  stable_version: string | null;
  canary_version: string | null;
  to_stable: string | null;
  to_canary: string | null;
  /** Percent of requests to the canary while two sets run; null with one set. */
  weight: number | null;
  /** Which policy decided: the canary judgement, the release rule, or none. */
  judgement: "canary" | "release" | null;
  decision_id?: string | null;
  /** Why (a refusal's message, "first deploy", "rollback from 1.0.1", ...). */
  reason?: string;
}

/** One dashboard refresh: the replicas' public traffic over the interval since the last one. */
export interface ScrapeEvent {
  type: "scrape";
  requests: number | null;
  errors: number | null;
  error_rate_percent: number | null;
  p99_latency_ms: number | null;
  requests_per_second: number | null;
  window_seconds: number | null;
  mode: string;
  chaos: string;
  uptime_seconds: number | null;
}

/**
 * A replica's /metrics that the canary gate could not use, so the promotion was refused before OPA was
 * asked (the refusal itself is the release event that follows).
 */
export interface ScrapeFailedEvent {
  type: "scrape_failed";
  gate: "canary";
  /** The /metrics URL. */
  url: string;
  /** Which scrape of the observation window failed. */
  at: "window_start" | "window_end";
  kind: ScrapeFailureKind;
  /** What went wrong, e.g. "connect ECONNREFUSED 127.0.0.1:9100", "HTTP 500". */
  detail: string;
  /** The HTTP status of a non-2xx answer, else null. */
  status: number | null;
}

/** The stack was destroyed. */
export interface TeardownEvent {
  type: "teardown";
}

export type HistoryEventBody =
  | GateEvent
  | DeployEvent
  | DeployFailedEvent
  | ModeChangeEvent
  | ReleaseEvent
  | ScrapeEvent
  | ScrapeFailedEvent
  | TeardownEvent;
export type HistoryEventType = HistoryEventBody["type"];

/** Every kind once: a kind added to the union and not here fails the type check. */
const EVERY_TYPE: Record<HistoryEventType, true> = {
  gate: true,
  deploy: true,
  deploy_failed: true,
  mode_change: true,
  release: true,
  scrape: true,
  scrape_failed: true,
  teardown: true,
};

export const HISTORY_EVENT_TYPES = Object.keys(EVERY_TYPE) as readonly HistoryEventType[];

export function isHistoryEventType(value: unknown): value is HistoryEventType {
  return HISTORY_EVENT_TYPES.some((t) => t === value);
}

/** An event as a writer hands it to appendHistory: the writer adds `v` and `ts`. */
export type NewHistoryEvent = HistoryEventBody & { stack: string };

/** The fields every stored line has, whatever its kind. */
export interface StoredFields {
  v: 1;
  /** ISO-8601, set by the writer. */
  ts: string;
  stack: string;
}

/** An event as written. */
export type WrittenHistoryEvent = NewHistoryEvent & StoredFields;
