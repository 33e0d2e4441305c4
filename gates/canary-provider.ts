// The canary gate's provider, run in the dynamic-provider host (components/providers.ts bundles this module with
// esbuild into the gate's __provider). When the stack's mode goes from canary to stable it scrapes every
// replica's admin /metrics at the start and the end of the observation window, computes error rate and P99
// of the public traffic in between, and asks OPA. No runtime import of @pulumi/pulumi: the host would load
// the whole SDK for it.
import type * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import { canaryFacts, parseTrafficSample, windowStats, type TrafficSample } from "../lib/metrics";
import { PolicyDeniedError, queryDecision } from "../lib/opa";
import { POLICY_PACKAGES, type CanaryFacts, type PolicyCheck } from "../lib/types";

interface CanaryGateInputs {
  mode: string;
  adminUrls: string[];
  windowSeconds: number;
  opaSocket: string;
  timeoutMs: number;
  historyFile: string;
  stack: string;
}

/** The explanation a promotion verdict carries. */
export interface CanaryVerdict {
  allow: boolean;
  violations: string[];
  checks: PolicyCheck[];
  decisionId: string | null;
  facts: CanaryFacts;
  checkedAt: string;
  /** Time spent beyond the observation window (scrapes, math, OPA), in ms. */
  overheadMs: number;
}

async function scrape(url: string, timeoutMs: number): Promise<TrafficSample> {
  const target = `${url}/metrics`;
  let response: Response;
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const { cause } = err as { cause?: { code?: string; message?: string } };
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Error(`[CANARY] cannot scrape ${target} (${why}): is the app running?`);
  }
  if (!response.ok) throw new Error(`[CANARY] ${target} answered HTTP ${response.status}`);
  return parseTrafficSample(await response.text(), Date.now());
}

/** Observes one window of traffic on every replica and asks OPA; throws on denial or failure. */
async function judgePromotion(inputs: CanaryGateInputs): Promise<CanaryVerdict> {
  const started = Date.now();
  const scrapeAll = () => Promise.all(inputs.adminUrls.map((url) => scrape(url, inputs.timeoutMs)));
  const startSamples = await scrapeAll();
  const afterStart = Date.now();
  await new Promise((resolve) => setTimeout(resolve, inputs.windowSeconds * 1000));
  const windowEnd = Date.now();
  const endSamples = await scrapeAll();
  const stats = windowStats(startSamples.map((start, i) => ({ start, end: endSamples[i] })));
  const facts = canaryFacts({ ...stats, windowSeconds: inputs.windowSeconds });
  const record = (type: string, fields: Record<string, unknown>) =>
    appendHistory(inputs.historyFile, { stack: inputs.stack, type, ...fields });

  let verdict;
  try {
    verdict = await queryDecision(
      { socketPath: inputs.opaSocket, timeoutMs: inputs.timeoutMs },
      POLICY_PACKAGES.canary,
      facts,
    );
  } catch (err) {
    const message = `[OPA/CANARY] no decision: ${(err as Error).message}`;
    record("gate", {
      gate: "canary",
      input: facts,
      result: null,
      decision_id: null,
      duration_ms: Date.now() - started,
      error: (err as Error).message,
    });
    record("mode_change", { from: "canary", to: "stable", allowed: false, reason: message });
    throw new Error(message);
  }
  const overheadMs = afterStart - started + (Date.now() - windowEnd);
  record("gate", {
    gate: "canary",
    input: facts,
    result: verdict.decision,
    decision_id: verdict.decisionId,
    duration_ms: Date.now() - started,
    overhead_ms: overheadMs,
  });
  if (!verdict.decision.allow) {
    const denied = new PolicyDeniedError("canary", verdict);
    record("mode_change", {
      from: "canary",
      to: "stable",
      allowed: false,
      reason: denied.message,
      decision_id: verdict.decisionId,
    });
    throw denied;
  }
  record("mode_change", { from: "canary", to: "stable", allowed: true, decision_id: verdict.decisionId });
  return {
    ...verdict.decision,
    decisionId: verdict.decisionId,
    facts,
    checkedAt: new Date().toISOString(),
    overheadMs,
  };
}

export const canaryGateProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: CanaryGateInputs, news: CanaryGateInputs) {
    const keys = Object.keys(news) as (keyof CanaryGateInputs)[];
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: changed.length > 0 };
  },
  // The first deploy has no canary to judge, whichever mode it starts in.
  async create(inputs: CanaryGateInputs) {
    return { id: "canary-gate", outs: { ...inputs, verdict: null } };
  },
  async update(
    _id: string,
    olds: CanaryGateInputs & { verdict?: CanaryVerdict | null },
    news: CanaryGateInputs,
  ) {
    if (olds.mode === "canary" && news.mode === "stable") {
      return { outs: { ...news, verdict: await judgePromotion(news) } };
    }
    if (olds.mode !== news.mode) {
      // Going back to canary (a new version to try) needs no gate; it is recorded all the same.
      appendHistory(news.historyFile, {
        stack: news.stack,
        type: "mode_change",
        from: olds.mode,
        to: news.mode,
        allowed: true,
        reason: "no gate guards this direction",
      });
    }
    return { outs: { ...news, verdict: olds.verdict ?? null } };
  },
};
