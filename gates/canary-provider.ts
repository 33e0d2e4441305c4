// The canary gate's provider, run in the dynamic-provider host (components/providers.ts bundles this module with
// esbuild into the gate's __provider). When the stack's mode goes from canary to stable it scrapes every
// replica's admin /metrics at the start and the end of the observation window, computes error rate and P99
// of the public traffic in between, and asks OPA. No runtime import of @pulumi/pulumi: the host would load
// the whole SDK for it.
import type * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import { canaryFacts, windowStats, type TrafficSample } from "../lib/metrics";
import type { Mode } from "../lib/modes";
import { ScrapeError, scrapeTraffic } from "../lib/scrape";
import type { CanaryFacts, PolicyCheck } from "../lib/types";
import { decideGate, type GateTarget } from "./decide";

export interface CanaryGateInputs extends GateTarget {
  /** The mode the stack config asks for. */
  mode: Mode;
  /** The replicas' admin listeners on 127.0.0.1, e.g. http://127.0.0.1:9100. */
  adminUrls: string[];
  /** Length of the observation window in seconds. */
  windowSeconds: number;
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

const PROMOTION = { type: "mode_change", from: "canary", to: "stable" } as const;

/**
 * Every replica's traffic at one end of the window. A replica that cannot be scraped refuses the promotion:
 * the failure and the refusal are recorded, then thrown with a message that names the replica.
 */
async function scrapeAll(inputs: CanaryGateInputs, at: "window_start" | "window_end") {
  const results = await Promise.allSettled(
    inputs.adminUrls.map((url) => scrapeTraffic(url, inputs.timeoutMs)),
  );
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
  appendHistory(inputs.historyFile, { stack: inputs.stack, ...PROMOTION, allowed: false, reason: message });
  throw new Error(message);
}

/** Observes one window of traffic on every replica and asks OPA; throws on denial or failure. */
async function judgePromotion(inputs: CanaryGateInputs): Promise<CanaryVerdict> {
  const started = Date.now();
  const startSamples = await scrapeAll(inputs, "window_start");
  const afterStart = Date.now();
  await new Promise((resolve) => setTimeout(resolve, inputs.windowSeconds * 1000));
  const windowEnd = Date.now();
  const endSamples = await scrapeAll(inputs, "window_end");
  const stats = windowStats(startSamples.map((start, i) => ({ start, end: endSamples[i] })));
  const facts = canaryFacts({ ...stats, windowSeconds: inputs.windowSeconds });
  const promotion = { stack: inputs.stack, ...PROMOTION };
  let overheadMs = 0;
  const verdict = await decideGate(inputs, "canary", facts, {
    startedAt: started,
    extraFields: () => {
      overheadMs = afterStart - started + (Date.now() - windowEnd);
      return { overhead_ms: overheadMs };
    },
    onRefused: (reason, decisionId) =>
      appendHistory(inputs.historyFile, {
        ...promotion,
        allowed: false,
        reason,
        ...(decisionId === null ? {} : { decision_id: decisionId }),
      }),
  });
  appendHistory(inputs.historyFile, { ...promotion, allowed: true, decision_id: verdict.decisionId });
  return {
    ...verdict.decision,
    decisionId: verdict.decisionId,
    facts,
    checkedAt: new Date().toISOString(),
    overheadMs,
  };
}

export const canaryGateProvider: pulumi.dynamic.ResourceProvider = {
  // Only a change of mode can call for a decision. The other inputs say where to scrape and ask and for how
  // long; update reads them fresh from `news` when a decision comes, so they alone change nothing (the
  // replicas' admin URLs move with every app generation, and a no-op `pulumi up` must stay one).
  async diff(_id: string, olds: CanaryGateInputs, news: CanaryGateInputs) {
    return { changes: olds.mode !== news.mode };
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
