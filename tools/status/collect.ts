import { chaosName, modeName } from "../../lib/metric-codes";
import { canaryFacts, parseTrafficSample, windowStats, type TrafficSample } from "../../lib/metrics";
import { POLICY_PACKAGES, type GateName, type HostFacts, type PolicyDecision } from "../../lib/types";
import {
  EMPTY_RECENT,
  pushRecent,
  type PolicyStatus,
  type RecentSeries,
  type ReplicaStatus,
  type Snapshot,
  type Traffic,
} from "./snapshot";

/** Where to look: one admin URL per app replica, OPA's Unix socket. */
export interface CollectTarget {
  stack: string;
  adminUrls: string[];
  configuredMode: string | null;
  intervalSeconds: number;
}

/** The I/O the collector does, injectable so tests can stand in for the stack. */
export interface CollectorDeps {
  /** The text of `<adminUrl>/metrics`; rejects with a message that says why. */
  scrape(adminUrl: string): Promise<string>;
  hostFacts(): Promise<HostFacts>;
  decide(packagePath: string, input: object): Promise<Decided>;
  now(): number;
}

export interface Decided {
  decision: PolicyDecision;
  decisionId: string | null;
  durationMs: number;
}

/** What one refresh hands the next: the previous scrape of each replica, and the sparkline values. */
export interface CollectorState {
  previous: Map<string, TrafficSample>;
  recent: RecentSeries;
}

export const INITIAL_STATE: CollectorState = { previous: new Map(), recent: EMPTY_RECENT };

type ScrapeResult = { url: string; sample: TrafficSample } | { url: string; error: string };

/** One refresh: scrape every replica and the host, ask OPA both policies, compare with the last refresh. */
export async function collectSnapshot(
  target: CollectTarget,
  state: CollectorState,
  deps: CollectorDeps,
): Promise<{ snapshot: Snapshot; state: CollectorState }> {
  const atMs = deps.now();
  const [scrapes, hostFacts] = await Promise.all([
    Promise.all(target.adminUrls.map((url) => scrapeReplica(url, atMs, deps))),
    settle(deps.hostFacts()),
  ]);
  const current = new Map<string, TrafficSample>();
  for (const s of scrapes) if ("sample" in s) current.set(s.url, s.sample);

  const traffic = intervalTraffic(state.previous, current, target.adminUrls.length);
  const [infrastructure, canary] = await Promise.all([
    askInfrastructure(hostFacts, deps),
    askCanary(traffic.stats, current.size, deps),
  ]);
  const policies: Record<GateName, PolicyStatus> = { infrastructure, canary };
  const recent = pushRecent(state.recent, traffic.traffic);
  const snapshot: Snapshot = {
    at: new Date(atMs).toISOString(),
    stack: target.stack,
    intervalSeconds: target.intervalSeconds,
    configuredMode: target.configuredMode,
    replicas: scrapes.map(replicaStatus),
    traffic: traffic.traffic,
    totals: totalsOf([...current.values()]),
    recent,
    policies,
    warnings: [],
  };
  return { snapshot, state: { previous: current, recent } };
}

async function scrapeReplica(url: string, atMs: number, deps: CollectorDeps): Promise<ScrapeResult> {
  try {
    return { url, sample: parseTrafficSample(await deps.scrape(url), atMs) };
  } catch (err) {
    return { url, error: errorMessage(err) };
  }
}

type Stats = ReturnType<typeof windowStats>;

/**
 * Rates come from counter deltas between this scrape and the previous one of the same replica (windowStats
 * treats a replica that restarted in between as counting from zero, as Prometheus' rate() does).
 */
function intervalTraffic(
  previous: Map<string, TrafficSample>,
  current: Map<string, TrafficSample>,
  replicaCount: number,
): { traffic: Traffic; stats: Stats | null } {
  if (current.size === 0) {
    const reason = replicaCount === 0 ? "the stack has no admin URLs" : "no replica answered";
    return { traffic: { state: "pending", reason }, stats: null };
  }
  const pairs = [...current].flatMap(([url, end]) => {
    const start = previous.get(url);
    return start ? [{ start, end }] : [];
  });
  if (pairs.length === 0) {
    const reason = "first scrape: rates over the last interval appear after the next refresh";
    return { traffic: { state: "pending", reason }, stats: null };
  }
  const stats = windowStats(pairs);
  return {
    traffic: {
      state: "measured",
      requests: stats.requests,
      errors: stats.errors,
      requestsPerSecond: stats.requestsPerSecond,
      errorRatePercent: stats.errorRatePercent,
      p99LatencyMs: stats.p99LatencyMs,
      windowSeconds: stats.windowSeconds,
    },
    stats,
  };
}

async function askInfrastructure(hostFacts: Settled<HostFacts>, deps: CollectorDeps): Promise<PolicyStatus> {
  if (!hostFacts.ok) return { state: "waiting", reason: `host facts unavailable: ${hostFacts.error}` };
  return ask(POLICY_PACKAGES.infrastructure, hostFacts.value, deps);
}

async function askCanary(
  stats: Stats | null,
  replicasUp: number,
  deps: CollectorDeps,
): Promise<PolicyStatus> {
  if (stats) return ask(POLICY_PACKAGES.canary, canaryFacts(stats), deps);
  const reason =
    replicasUp === 0
      ? "no metrics: no replica answered"
      : "no interval measured yet: waiting for a second scrape";
  return { state: "waiting", reason };
}

async function ask(packagePath: string, input: object, deps: CollectorDeps): Promise<PolicyStatus> {
  try {
    const answer = await deps.decide(packagePath, input);
    return { state: "decided", ...answer, input };
  } catch (err) {
    return { state: "failed", kind: errorKind(err), message: errorMessage(err) };
  }
}

function replicaStatus(result: ScrapeResult): ReplicaStatus {
  if ("error" in result) return { url: result.url, up: false, error: result.error };
  const { mode, chaos, uptimeSeconds } = result.sample;
  return { url: result.url, up: true, mode: modeName(mode), chaos: chaosName(chaos), uptimeSeconds };
}

function totalsOf(samples: TrafficSample[]): Snapshot["totals"] {
  if (samples.length === 0) return null;
  return {
    requests: samples.reduce((sum, s) => sum + s.requests, 0),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** OpaError carries a kind (unreachable, timeout, malformed, undefined); anything else is "error". */
function errorKind(err: unknown): string {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return typeof kind === "string" ? kind : "error";
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
