// The one scrape of an app replica's admin /metrics (127.0.0.1-published port), used by the canary gate and
// the dashboard. A failure is a ScrapeError that keeps what went wrong apart: no answer (with the errno
// code when there is one), or an answer that was not 2xx.
import { parseTrafficSample, type TrafficSample } from "./metrics";

export class ScrapeError extends Error {
  constructor(
    /** The /metrics URL. */
    readonly url: string,
    /** What failed: "connect ECONNREFUSED 127.0.0.1:9100", "no answer within 2000 ms", "HTTP 500". */
    readonly detail: string,
    /** The errno code when the connection failed (ECONNREFUSED), else null. */
    readonly code: string | null,
    /** The HTTP status when the replica answered with something other than 2xx, else null. */
    readonly status: number | null,
  ) {
    super(`GET ${url}: ${detail}`);
    this.name = "ScrapeError";
  }
}

/** The /metrics URL of an admin listener (http://127.0.0.1:9100 → http://127.0.0.1:9100/metrics). */
export function metricsUrl(adminUrl: string): string {
  return `${adminUrl.replace(/\/+$/, "")}/metrics`;
}

/** GET <adminUrl>/metrics; the Prometheus text, or a ScrapeError. */
export async function fetchMetrics(adminUrl: string, timeoutMs: number): Promise<string> {
  const url = metricsUrl(adminUrl);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause =
      err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === "string" ? cause.code : null;
    throw new ScrapeError(url, fetchFailure(err, timeoutMs), code, null);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ScrapeError(url, `HTTP ${response.status}`, null, response.status);
  }
  return response.text();
}

/** One replica's traffic counters, parsed from its /metrics. */
export async function scrapeTraffic(adminUrl: string, timeoutMs: number): Promise<TrafficSample> {
  return parseTrafficSample(await fetchMetrics(adminUrl, timeoutMs), Date.now());
}

/** fetch() hides the useful part (ECONNREFUSED, the address) in `cause`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { message?: unknown } | undefined) : undefined;
  if (typeof cause?.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
