// The canary gate's provider, run in the dynamic-provider host (components/providers.ts bundles this module
// with esbuild into the gate's __provider). It guards every move of the release state (program/release.ts):
// a promotion is judged by swiftdeploy.canary over one observation window of both sets' traffic (the
// canary against stable, or alone when there is no baseline); a release that skips the canary and a
// rollback are decided by swiftdeploy.release; starting, changing or aborting a canary needs no decision.
// Every move is recorded in history.jsonl. The gate keeps the release state it let through: a denial or a
// failure leaves it (and every set, which depends on the gate) as it was. No runtime import of
// @pulumi/pulumi: the host would load the whole SDK for it.
import type * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import type { ReleaseEvent } from "../lib/history-events";
import { setFacts, windowStats, type TrafficSample } from "../lib/metrics";
import type { Mode } from "../lib/modes";
import {
  EMPTY_RELEASE_STATE,
  releaseStateOf,
  sameRelease,
  type ReleaseMove,
  type ReleaseState,
} from "../lib/release-state";
import { ScrapeError, scrapeTraffic } from "../lib/scrape";
import type { CanaryFacts, PolicyCheck, ReleaseFacts } from "../lib/types";
import { decideGate, type GateTarget } from "./decide";

export type { ReleaseMove } from "../lib/release-state";

export interface CanaryGateInputs extends GateTarget {
  move: ReleaseMove;
  /** The running sets' admin listeners on 127.0.0.1 (found by label when the program started). */
  observed: { stable: string[]; canary: string[] };
  /** Length of the observation window in seconds. */
  windowSeconds: number;
}

/** The explanation a promotion verdict carries. */
export interface CanaryVerdict {
  allow: boolean;
  violations: string[];
  checks: PolicyCheck[];
  notes: string[];
  decisionId: string | null;
  facts: CanaryFacts;
  checkedAt: string;
  /** Time spent beyond the observation window (scrapes, math, OPA), in ms. */
  overheadMs: number;
}

export interface CanaryGateOutputs extends CanaryGateInputs {
  /** The release state the gate let through (the stack exports it; the next update plans from it). */
  state: ReleaseState;
  /** The state that move started from: an update that stopped after the gate left the stack's outputs at it. */
  previous: ReleaseState;
  /** The mode the stack runs: canary while a canary set runs. */
  mode: Mode;
  /** The last promotion's verdict (null until one was judged). */
  verdict: CanaryVerdict | null;
}

/** What `pulumi up` says when a replica's /metrics cannot be used. */
function scrapeFailureMessage(err: ScrapeError): string {
  switch (err.kind) {
    case "http_status":
      return `[CANARY] ${err.url} answered HTTP ${err.status}`;
    case "not_metrics":
      return `[CANARY] ${err.url} did not answer the app's metrics: ${err.detail}`;
    case "timeout":
      return `[CANARY] cannot scrape ${err.url} (${err.detail}): is the app overloaded?`;
    case "unreachable":
      return `[CANARY] cannot scrape ${err.url} (${err.code ?? err.detail}): is the app running?`;
  }
}

/** The release event of a move, allowed or refused. */
function releaseEvent(
  inputs: CanaryGateInputs,
  allowed: boolean,
  extra: { decision_id?: string | null; reason?: string },
): ReleaseEvent & { stack: string } {
  const { move } = inputs;
  const version = move.to.canary?.version ?? move.to.stable?.version ?? "";
  return {
    stack: inputs.stack,
    type: "release",
    action: move.action as ReleaseEvent["action"],
    allowed,
    version: move.action === "canary_aborted" ? (move.from.canary?.version ?? version) : version,
    stable_version: move.from.stable?.version ?? null,
    canary_version: move.from.canary?.version ?? null,
    to_stable: move.to.stable?.version ?? null,
    to_canary: move.to.canary?.version ?? null,
    weight: move.weight,
    judgement: move.judgement,
    ...(move.reason === null ? {} : { reason: move.reason }),
    ...extra,
  };
}

/** Records a refused move: the release event, with OPA's decision id when it gave one. */
function recordRefusal(inputs: CanaryGateInputs) {
  return (reason: string, decisionId: string | null) =>
    appendHistory(
      inputs.historyFile,
      releaseEvent(inputs, false, { reason, ...(decisionId === null ? {} : { decision_id: decisionId }) }),
    );
}

/**
 * Every listed replica's traffic at one end of the window. A replica that cannot be scraped refuses the
 * promotion: the failure and the refusal are recorded, then thrown with a message that names the replica.
 */
async function scrapeAll(inputs: CanaryGateInputs, urls: string[], at: "window_start" | "window_end") {
  const results = await Promise.allSettled(urls.map((url) => scrapeTraffic(url, inputs.timeoutMs)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed === undefined) return results.map((r) => (r as PromiseFulfilledResult<TrafficSample>).value);
  const err: unknown = failed.reason;
  if (!(err instanceof ScrapeError)) throw err;
  for (const r of results) {
    if (r.status === "fulfilled" || !(r.reason instanceof ScrapeError)) continue;
    const { url, kind, detail, status } = r.reason;
    appendHistory(inputs.historyFile, {
      stack: inputs.stack,
      type: "scrape_failed",
      gate: "canary",
      url,
      at,
      kind,
      detail,
      status,
    });
  }
  const message = scrapeFailureMessage(err);
  appendHistory(inputs.historyFile, releaseEvent(inputs, false, { reason: message }));
  throw new Error(message);
}

/** How to go on after a refused promotion: printed under OPA's violations. */
function refusalAdvice(move: ReleaseMove): string {
  const canary = move.from.canary?.version ?? "the canary";
  const stable = move.from.stable?.version;
  const abort =
    stable === undefined
      ? ""
      : `; to abort, set service.version back to ${stable} (mode canary) and run \`pulumi up\``;
  return `Nothing changed: ${canary} keeps running as the canary. To retry, run \`pulumi up\` again (a new window is observed)${abort}.`;
}

/**
 * Observes one window of traffic on both sets (the canary alone without a baseline) and asks OPA; throws
 * on denial or failure.
 */
async function judgePromotion(inputs: CanaryGateInputs): Promise<CanaryVerdict> {
  const { move, observed } = inputs;
  const canaryVersion = move.from.canary?.version;
  if (canaryVersion === undefined || observed.canary.length === 0) {
    const reason = `[CANARY] no running canary container to observe (expected ${canaryVersion ?? "a canary"}); run \`pulumi up\` in mode canary first`;
    appendHistory(inputs.historyFile, releaseEvent(inputs, false, { reason }));
    throw new Error(reason);
  }
  if (move.from.stable !== null && observed.stable.length === 0) {
    // A canary is judged against stable: without a stable container to observe, there is no verdict.
    const reason = `[CANARY] no running stable container to observe (expected ${move.from.stable.version}); is the stable set running?`;
    appendHistory(inputs.historyFile, releaseEvent(inputs, false, { reason }));
    throw new Error(reason);
  }
  const baseline = move.from.stable === null ? [] : observed.stable;
  const urls = [...observed.canary, ...baseline];
  const started = Date.now();
  const startSamples = await scrapeAll(inputs, urls, "window_start");
  const afterStart = Date.now();
  await new Promise((resolve) => setTimeout(resolve, inputs.windowSeconds * 1000));
  const windowEnd = Date.now();
  const endSamples = await scrapeAll(inputs, urls, "window_end");
  const pairs = startSamples.map((start, i) => ({ start, end: endSamples[i] }));
  const canaryStats = windowStats(pairs.slice(0, observed.canary.length));
  const facts: CanaryFacts = {
    window_seconds: canaryStats.windowSeconds,
    canary: setFacts(canaryVersion, canaryStats),
  };
  if (move.from.stable !== null) {
    facts.stable = setFacts(move.from.stable.version, windowStats(pairs.slice(observed.canary.length)));
  }
  let overheadMs = 0;
  const verdict = await decideGate(inputs, "canary", facts, {
    startedAt: started,
    extraFields: () => {
      overheadMs = afterStart - started + (Date.now() - windowEnd);
      return { overhead_ms: overheadMs };
    },
    advice: refusalAdvice(move),
    onRefused: recordRefusal(inputs),
  });
  appendHistory(inputs.historyFile, releaseEvent(inputs, true, { decision_id: verdict.decisionId }));
  return {
    allow: verdict.decision.allow,
    violations: verdict.decision.violations,
    checks: verdict.decision.checks,
    notes: verdict.decision.notes ?? [],
    decisionId: verdict.decisionId,
    facts,
    checkedAt: new Date().toISOString(),
    overheadMs,
  };
}

/** A release without the canary judgement (a version never canaried, a rollback): swiftdeploy.release decides. */
async function decideRelease(inputs: CanaryGateInputs): Promise<void> {
  const { move } = inputs;
  const facts: ReleaseFacts = {
    action: move.action === "rolled_back" ? "rollback" : "unjudged",
    version: move.to.stable?.version ?? "",
    stable_version: move.from.stable?.version ?? null,
    retained_versions: move.from.retained.map((r) => r.version),
  };
  const verdict = await decideGate(inputs, "release", facts, {
    advice: "Nothing changed.",
    onRefused: recordRefusal(inputs),
  });
  appendHistory(inputs.historyFile, releaseEvent(inputs, true, { decision_id: verdict.decisionId }));
}

/** The message when the stack's last outputs and the gate's record name different releases. */
function mismatchMessage(recorded: ReleaseState, move: ReleaseMove): string {
  const describe = (s: ReleaseState) =>
    `stable ${s.stable?.version ?? "none"}, canary ${s.canary?.version ?? "none"}`;
  return (
    `[RELEASE] the stack's last outputs (${describe(move.from)}) and the canary gate's record ` +
    `(${describe(recorded)}) disagree, and no interrupted update explains it (was the state edited or ` +
    `imported?). Export the stack (\`pulumi stack export\`) to see both; to start over, \`pulumi destroy\` ` +
    `and \`pulumi up\` again.`
  );
}

/**
 * Carries out the move from the gate's record: a decision where one is needed, an event, the new record.
 * The record and the stack's outputs (the move's `from`) agree after every update that went to its end.
 * An update that stopped after the gate (a canary that never got ready, say) left the outputs at the
 * state the gate's last move started from: the stack plans from them again, so the next move starts there.
 * Any other disagreement is not explained, and refused.
 */
async function move(olds: Partial<CanaryGateOutputs>, inputs: CanaryGateInputs): Promise<CanaryGateOutputs> {
  const recorded = releaseStateOf(olds.state);
  const lastVerdict = olds.verdict ?? null;
  const { move } = inputs;
  const outs = (verdict: CanaryVerdict | null, previous: ReleaseState): CanaryGateOutputs => ({
    ...inputs,
    state: move.to,
    previous,
    mode: move.runningMode,
    verdict,
  });
  // Already let through (an update that stopped after the gate, run again): carry on without a new decision.
  if (sameRelease(recorded, move.to)) return outs(lastVerdict, releaseStateOf(olds.previous ?? recorded));
  const interrupted = olds.previous !== undefined && sameRelease(releaseStateOf(olds.previous), move.from);
  if (!sameRelease(recorded, move.from) && !interrupted) throw new Error(mismatchMessage(recorded, move));
  const from = move.from;
  // A promotion or an abort ends the canary: its events name the weight it ran with, from the last move.
  const weight = move.weight ?? (from.canary !== null ? (olds.move?.weight ?? null) : null);
  const withWeight = { ...inputs, move: { ...move, weight } };
  if (move.judgement === "canary") return outs(await judgePromotion(withWeight), from);
  if (move.judgement === "release") await decideRelease(withWeight);
  else if (move.action !== "none") appendHistory(inputs.historyFile, releaseEvent(withWeight, true, {}));
  return outs(lastVerdict, from);
}

export const canaryGateProvider: pulumi.dynamic.ResourceProvider = {
  // Only a move of the release state calls for a decision (or the tag service/ builds to, which the record
  // keeps). The other inputs say where to scrape and ask and for how long; they alone change nothing (the
  // replicas' admin URLs move with every restart, and a no-op `pulumi up` must stay one).
  async diff(_id: string, olds: Partial<CanaryGateOutputs>, news: CanaryGateInputs) {
    const recorded = releaseStateOf(olds.state);
    return {
      changes: !sameRelease(recorded, news.move.to) || recorded.built !== news.move.to.built,
    };
  },
  async create(inputs: CanaryGateInputs) {
    return { id: "canary-gate", outs: await move({ state: EMPTY_RELEASE_STATE }, inputs) };
  },
  async update(_id: string, olds: Partial<CanaryGateOutputs>, news: CanaryGateInputs) {
    return { outs: await move(olds, news) };
  },
};
