import { chaosName, modeName } from "../../lib/metric-codes";
import {
  parseTrafficSample,
  setFacts,
  windowStats,
  type TrafficSample,
  type WindowStats,
} from "../../lib/metrics";
import { APP_SETS, type AppSet } from "../../lib/release-state";
import { POLICY_PACKAGES, type CanaryFacts, type HostFacts, type PolicyDecision } from "../../lib/types";
import {
  EMPTY_RECENT,
  pushRecent,
  type PolicyStatus,
  type RecentSeries,
  type ReleaseView,
  type ReplicaPlace,
  type ReplicaStatus,
  type SetStatus,
  type Snapshot,
  type Traffic,
} from "./snapshot";
import type { AdminTarget } from "./stack";

/** Where to look: each app replica's admin URL and set, the release the stack runs. */
export interface CollectTarget {
  stack: string;
  /** One admin URL per app replica. */
  adminUrls: string[];
  /**
   * The replicas with their labels (`set`, `version`), scraped instead of adminUrls; absent or null for a
   * stack deployed before the two sets: every admin URL is then the stable set's.
   */
  adminTargets?: AdminTarget[] | null;
  /** The stack's release (its outputs); absent or null when unknown. */
  release?: ReleaseView | null;
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

type TargetReplica = ReplicaPlace & { url: string };
type ScrapeResult = TargetReplica & ({ sample: TrafficSample } | { error: string });

/** One set's replicas and what their interval gave: stats, or why there are none. */
interface MeasuredSet {
  set: AppSet;
  version: string | null;
  urls: string[];
  measured: Measured;
}
type Measured = { stats: WindowStats } | { reason: string };

const NO_ADMIN_URLS: Measured = { reason: "the stack has no admin URLs" };

/** One refresh: scrape every replica and the host, ask OPA both policies, compare with the last refresh. */
export async function collectSnapshot(
  target: CollectTarget,
  state: CollectorState,
  deps: CollectorDeps,
): Promise<{ snapshot: Snapshot; state: CollectorState }> {
  const atMs = deps.now();
  const replicas = targetReplicas(target);
  const [scrapes, hostFacts] = await Promise.all([
    Promise.all(replicas.map((replica) => scrapeReplica(replica, atMs, deps))),
    settle(deps.hostFacts()),
  ]);
  const current = new Map<string, TrafficSample>();
  for (const s of scrapes) if ("sample" in s) current.set(s.url, s.sample);

  const interval = (urls: string[]) => measure(urls, state.previous, current);
  const sets = setsOf(replicas, target.release ?? null).map((s) => ({ ...s, measured: interval(s.urls) }));
  const traffic = trafficOf(replicas.length === 0 ? NO_ADMIN_URLS : interval(replicas.map((r) => r.url)));
  const [infrastructure, canary] = await Promise.all([
    askInfrastructure(hostFacts, deps),
    askCanary(sets, deps),
  ]);
  const recent = pushRecent(state.recent, traffic);
  const snapshot: Snapshot = {
    at: new Date(atMs).toISOString(),
    stack: target.stack,
    intervalSeconds: target.intervalSeconds,
    configuredMode: target.configuredMode,
    release: target.release ?? null,
    replicas: scrapes.map(replicaStatus),
    sets: setStatuses(sets, current),
    traffic,
    totals: totalsOf([...current.values()]),
    recent,
    policies: { infrastructure, canary },
    warnings: [],
  };
  return { snapshot, state: { previous: current, recent } };
}

/** Each replica with its set: adminTargets by their labels; without them, every admin URL is stable's. */
export function targetReplicas(target: Pick<CollectTarget, "adminUrls" | "adminTargets">): TargetReplica[] {
  if (!target.adminTargets) return target.adminUrls.map((url) => ({ url, set: "stable", version: null }));
  return target.adminTargets.map(({ url, labels }) => ({
    url,
    set: labels.set === "canary" ? "canary" : "stable",
    version: labels.version ?? null,
  }));
}

/**
 * The sets to show, stable first: each set a replica serves in, and each the release names (its replicas
 * may all be gone). The version is the replicas' labels' (two while a set rolls), else the release's.
 */
function setsOf(replicas: TargetReplica[], release: ReleaseView | null): Omit<MeasuredSet, "measured">[] {
  return APP_SETS.flatMap((set) => {
    const members = replicas.filter((r) => r.set === set);
    const released = set === "stable" ? release?.stableVersion : release?.canaryVersion;
    if (members.length === 0 && !released) return [];
    const labelled = distinct(members.flatMap((r) => (r.version === null ? [] : [r.version])));
    const version = labelled.length > 0 ? labelled.join(" / ") : (released ?? null);
    return [{ set, version, urls: members.map((r) => r.url) }];
  });
}

async function scrapeReplica(
  replica: TargetReplica,
  atMs: number,
  deps: CollectorDeps,
): Promise<ScrapeResult> {
  try {
    return { ...replica, sample: parseTrafficSample(await deps.scrape(replica.url), atMs) };
  } catch (err) {
    return { ...replica, error: errorMessage(err) };
  }
}

/**
 * Rates of `urls` from counter deltas between this scrape and the previous one of the same replica
 * (windowStats treats a replica that restarted in between as counting from zero, as Prometheus' rate()
 * does); why there are none when no replica has two scrapes.
 */
function measure(
  urls: string[],
  previous: Map<string, TrafficSample>,
  current: Map<string, TrafficSample>,
): Measured {
  if (urls.length === 0) return { reason: "no replica running" };
  const answered = urls.filter((url) => current.has(url));
  if (answered.length === 0) return { reason: "no replica answered" };
  const pairs = answered.flatMap((url) => {
    const start = previous.get(url);
    return start ? [{ start, end: current.get(url)! }] : [];
  });
  if (pairs.length === 0) {
    return { reason: "first scrape: rates over the last interval appear after the next refresh" };
  }
  return { stats: windowStats(pairs) };
}

function trafficOf(measured: Measured): Traffic {
  if ("reason" in measured) return { state: "pending", reason: measured.reason };
  const stats = measured.stats;
  return {
    state: "measured",
    requests: stats.requests,
    errors: stats.errors,
    requestsPerSecond: stats.requestsPerSecond,
    errorRatePercent: stats.errorRatePercent,
    p99LatencyMs: stats.p99LatencyMs,
    windowSeconds: stats.windowSeconds,
  };
}

/** Each set's replicas up and traffic; its share is its part of the requests the measured sets served. */
function setStatuses(sets: MeasuredSet[], current: Map<string, TrafficSample>): SetStatus[] {
  const served = sets.reduce((sum, s) => sum + ("stats" in s.measured ? s.measured.stats.requests : 0), 0);
  return sets.map(({ set, version, urls, measured }) => {
    const traffic = trafficOf(measured);
    return {
      set,
      version,
      replicas: urls.length,
      replicasUp: urls.filter((url) => current.has(url)).length,
      traffic:
        traffic.state === "measured"
          ? { ...traffic, sharePercent: served > 0 ? (traffic.requests / served) * 100 : null }
          : traffic,
    };
  });
}

async function askInfrastructure(hostFacts: Settled<HostFacts>, deps: CollectorDeps): Promise<PolicyStatus> {
  if (!hostFacts.ok) return { state: "waiting", reason: `host facts unavailable: ${hostFacts.error}` };
  return ask(POLICY_PACKAGES.infrastructure, hostFacts.value, deps);
}

/**
 * The canary policy over the interval, asked only while a canary runs: the canary against stable, or
 * alone when it is the only set (no version has been stable yet), as the canary gate asks it.
 */
async function askCanary(sets: MeasuredSet[], deps: CollectorDeps): Promise<PolicyStatus> {
  const canary = sets.find((s) => s.set === "canary");
  const stable = sets.find((s) => s.set === "stable");
  if (!canary) return { state: "idle", reason: "no canary in flight" };
  if ("reason" in canary.measured)
    return { state: "waiting", reason: `canary set: ${canary.measured.reason}` };
  if (stable && "reason" in stable.measured) {
    return { state: "waiting", reason: `stable set: ${stable.measured.reason}` };
  }
  const facts: CanaryFacts = {
    window_seconds: canary.measured.stats.windowSeconds,
    canary: setFacts(canary.version ?? "unknown", canary.measured.stats),
  };
  if (stable && "stats" in stable.measured) {
    facts.stable = setFacts(stable.version ?? "unknown", stable.measured.stats);
  }
  return ask(POLICY_PACKAGES.canary, facts, deps);
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
  const { url, set, version } = result;
  if ("error" in result) return { url, set, version, up: false, error: result.error };
  const { mode, chaos, uptimeSeconds } = result.sample;
  return { url, set, version, up: true, mode: modeName(mode), chaos: chaosName(chaos), uptimeSeconds };
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

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}
