import type { GateName, PolicyDecision } from "../../lib/types";

/** What the dashboard knows at one refresh: everything `renderFrame` needs, and what `--json` prints. */
export interface Snapshot {
  /** ISO-8601 time of the scrape. */
  at: string;
  stack: string;
  intervalSeconds: number;
  /** The mode the stack is configured for (stack output), shown when no replica answers. */
  configuredMode: string | null;
  replicas: ReplicaStatus[];
  traffic: Traffic;
  /** Counters since each replica started, summed over the replicas that answered; null when none did. */
  totals: { requests: number; errors: number } | null;
  /** Recent interval values, oldest first, for the sparklines. */
  recent: RecentSeries;
  policies: Record<GateName, PolicyStatus>;
  /** Problems that do not stop the dashboard, e.g. history.jsonl not writable. */
  warnings: string[];
}

export type ReplicaStatus =
  | { url: string; up: true; mode: string; chaos: string; uptimeSeconds: number | null }
  | { url: string; up: false; error: string };

/** Traffic over the last interval, or why there is none yet. */
export type Traffic =
  | {
      state: "measured";
      requests: number;
      errors: number;
      requestsPerSecond: number;
      errorRatePercent: number;
      /** null when the interval saw no public request. */
      p99LatencyMs: number | null;
      windowSeconds: number;
    }
  | { state: "pending"; reason: string };

export interface RecentSeries {
  requestsPerSecond: number[];
  errorRatePercent: number[];
  p99LatencyMs: (number | null)[];
}

/** One policy as OPA answered it this refresh, or why it could not be asked or did not answer. */
export type PolicyStatus =
  | {
      state: "decided";
      decision: PolicyDecision;
      decisionId: string | null;
      durationMs: number;
      /** The facts sent as `input`. */
      input: object;
    }
  /** OPA was asked and failed: kind is the OpaError kind (unreachable, timeout, malformed, undefined). */
  | { state: "failed"; kind: string; message: string }
  /** OPA was not asked because the facts are missing (first frame, app down, host facts failed). */
  | { state: "waiting"; reason: string };

export const EMPTY_RECENT: RecentSeries = { requestsPerSecond: [], errorRatePercent: [], p99LatencyMs: [] };

/** How many interval values the sparklines keep. */
export const RECENT_LIMIT = 60;

/** The series with this interval's values appended, keeping the newest RECENT_LIMIT. */
export function pushRecent(recent: RecentSeries, traffic: Traffic): RecentSeries {
  if (traffic.state !== "measured") return recent;
  const keep = <T>(values: T[], value: T): T[] => [...values, value].slice(-RECENT_LIMIT);
  return {
    requestsPerSecond: keep(recent.requestsPerSecond, traffic.requestsPerSecond),
    errorRatePercent: keep(recent.errorRatePercent, traffic.errorRatePercent),
    p99LatencyMs: keep(recent.p99LatencyMs, traffic.p99LatencyMs),
  };
}

export type UpReplica = Extract<ReplicaStatus, { up: true }>;

export function upReplicas(s: Snapshot): UpReplica[] {
  return s.replicas.filter((r): r is UpReplica => r.up);
}

/** The uptime of the most recently started replica that reports one: a restart shows up here. */
export function youngestUptime(replicas: UpReplica[]): number | null {
  const known = replicas.flatMap((r) => (r.uptimeSeconds === null ? [] : [r.uptimeSeconds]));
  return known.length > 0 ? Math.min(...known) : null;
}
