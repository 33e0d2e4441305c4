import { collectHostFacts } from "../../lib/host-facts";
import { queryDecision } from "../../lib/opa";
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

export async function fetchMetrics(adminUrl: string, timeoutMs: number): Promise<string> {
  const url = `${adminUrl.replace(/\/+$/, "")}/metrics`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`GET ${url}: ${fetchFailure(err, timeoutMs)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  return response.text();
}

/** fetch() hides the useful part (ECONNREFUSED, the address) in `cause`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { message?: unknown } | undefined) : undefined;
  if (typeof cause?.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
