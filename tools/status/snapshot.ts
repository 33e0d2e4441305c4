import type { AppSet } from "../../lib/release-state";
import type { PolicyDecision } from "../../lib/types";

/** What the dashboard knows at one refresh: everything `renderFrame` needs, and what `--json` prints. */
export interface Snapshot {
  /** ISO-8601 time of the scrape. */
  at: string;
  stack: string;
  intervalSeconds: number;
  /** The mode the stack is configured for (stack output), shown when no replica answers. */
  configuredMode: string | null;
  /** The release the stack's outputs name; null when they were not read (or predate the two sets). */
  release: ReleaseView | null;
  replicas: ReplicaStatus[];
  /** Each set that runs or should run, stable first: its replicas and its traffic over the last interval. */
  sets: SetStatus[];
  /** Both sets' traffic together. */
  traffic: Traffic;
  /** Counters since each replica started, summed over the replicas that answered; null when none did. */
  totals: { requests: number; errors: number } | null;
  /** Recent interval values (both sets together), oldest first, for the sparklines. */
  recent: RecentSeries;
  /** The policies the dashboard asks (the release rule decides only when a release moves). */
  policies: { infrastructure: PolicyStatus; canary: PolicyStatus };
  /** Problems that do not stop the dashboard, e.g. history.jsonl not writable. */
  warnings: string[];
}

/** The versions and the traffic split the stack's outputs name (`release`, `canaryWeight`). */
export interface ReleaseView {
  /** null until a version first becomes stable. */
  stableVersion: string | null;
  /** null when no canary is in flight. */
  canaryVersion: string | null;
  /** Percent of requests to the canary while two sets run; null with one set. */
  weight: number | null;
}

/** Where a replica serves: its set, and the version its container is labelled with (null when unlabelled). */
export interface ReplicaPlace {
  set: AppSet;
  version: string | null;
}

export type ReplicaStatus = ReplicaPlace &
  (
    | { url: string; up: true; mode: string; chaos: string; uptimeSeconds: number | null }
    | { url: string; up: false; error: string }
  );

export interface SetStatus {
  set: AppSet;
  /** The set's version (its containers' labels, else the stack's outputs); null when neither says. */
  version: string | null;
  replicas: number;
  replicasUp: number;
  traffic: SetTraffic;
}

/** Public matched traffic over the last interval, or why there is none yet. */
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

/** One set's traffic; `sharePercent` is its part of the requests both sets served (null when they served none). */
export type SetTraffic =
  | (Extract<Traffic, { state: "measured" }> & { sharePercent: number | null })
  | Extract<Traffic, { state: "pending" }>;

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
  | { state: "waiting"; reason: string }
  /** Nothing to ask about: no canary in flight. */
  | { state: "idle"; reason: string };

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

export function upReplicas(s: Pick<Snapshot, "replicas">): UpReplica[] {
  return s.replicas.filter((r): r is UpReplica => r.up);
}

/** The uptime of the most recently started replica that reports one: a restart shows up here. */
export function youngestUptime(replicas: UpReplica[]): number | null {
  const known = replicas.flatMap((r) => (r.uptimeSeconds === null ? [] : [r.uptimeSeconds]));
  return known.length > 0 ? Math.min(...known) : null;
}
