import { collectHostFacts } from "../../lib/host-facts";
import { queryDecision } from "../../lib/opa";
import { fetchMetrics } from "../../lib/scrape";
import type { CollectorDeps } from "./collect";

export interface LiveOptions {
  opaSocket: string;
  opaTimeoutMs: number;
  scrapeTimeoutMs: number;
}

/** The collector's I/O against a real stack: HTTP on 127.0.0.1 for metrics, OPA over its Unix socket. */
export function liveDeps(options: LiveOptions): CollectorDeps {
  return {
    scrape: (adminUrl) => fetchMetrics(adminUrl, options.scrapeTimeoutMs),
    hostFacts: () => collectHostFacts(),
    decide: async (packagePath, input) => {
      const answer = await queryDecision(
        { socketPath: options.opaSocket, timeoutMs: options.opaTimeoutMs },
        packagePath,
        input,
      );
      return {
        decision: answer.decision,
        decisionId: answer.decisionId ?? null,
        durationMs: answer.durationMs,
      };
    },
    now: () => Date.now(),
  };
}
