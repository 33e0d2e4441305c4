// The one scrape of an app replica's admin /metrics (127.0.0.1-published port), used by the canary gate and
// the dashboard. A failure is a ScrapeError that says what went wrong, by kind: no answer (with the errno
// code when there is one), no answer in time, an answer that was not 2xx, or a 2xx answer that is not the
// app's Prometheus text (another program on the port, an error page).
import { parseTrafficSample, type TrafficSample } from "./metrics";

export type ScrapeFailureKind = "unreachable" | "timeout" | "http_status" | "not_metrics";

export class ScrapeError extends Error {
  constructor(
    /** The /metrics URL. */
    readonly url: string,
    readonly kind: ScrapeFailureKind,
    /** What failed: "connect ECONNREFUSED 127.0.0.1:9100", "no answer within 2000 ms", "HTTP 500". */
    readonly detail: string,
    /** The errno code when the connection failed (ECONNREFUSED), else null. */
    readonly code: string | null = null,
    /** The HTTP status when the replica answered with something other than 2xx, else null. */
    readonly status: number | null = null,
  ) {
    super(`GET ${url}: ${detail}`);
    this.name = "ScrapeError";
  }
}

/** The /metrics URL of an admin listener (http://127.0.0.1:9100 → http://127.0.0.1:9100/metrics). */
export function metricsUrl(adminUrl: string): string {
  return `${adminUrl.replace(/\/+$/, "")}/metrics`;
}

interface MetricsAnswer {
  text: string;
  contentType: string;
}

async function fetchAnswer(adminUrl: string, timeoutMs: number): Promise<MetricsAnswer> {
  const url = metricsUrl(adminUrl);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause =
      err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === "string" ? cause.code : null;
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    throw new ScrapeError(url, timedOut ? "timeout" : "unreachable", fetchFailure(err, timeoutMs), code);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ScrapeError(url, "http_status", `HTTP ${response.status}`, null, response.status);
  }
  return { text: await response.text(), contentType: response.headers.get("content-type") ?? "" };
}

/** GET <adminUrl>/metrics; the text of a 2xx answer, or a ScrapeError. */
export async function fetchMetrics(adminUrl: string, timeoutMs: number): Promise<string> {
  return (await fetchAnswer(adminUrl, timeoutMs)).text;
}

/** Content types of Prometheus' text exposition formats (prom-client answers the first). */
const PROMETHEUS_TEXT = /^\s*(?:text\/plain|application\/openmetrics-text)\s*(?:;|$)/i;

/**
 * One replica's traffic counters, parsed from its /metrics. The answer must be the app's own: Prometheus
 * text with the app's app_uptime_seconds, which it always exports. Prometheus text parsers accept almost
 * any line, so an error page or another program's answer would otherwise read as "no traffic".
 */
export async function scrapeTraffic(adminUrl: string, timeoutMs: number): Promise<TrafficSample> {
  const { text, contentType } = await fetchAnswer(adminUrl, timeoutMs);
  const notMetrics = (why: string) => new ScrapeError(metricsUrl(adminUrl), "not_metrics", why);
  if (!PROMETHEUS_TEXT.test(contentType)) {
    throw notMetrics(
      `not Prometheus text: content-type ${JSON.stringify(contentType)}, body ${excerpt(text)}`,
    );
  }
  let sample: TrafficSample;
  try {
    sample = parseTrafficSample(text, Date.now());
  } catch (err) {
    throw notMetrics((err as Error).message);
  }
  if (sample.uptimeSeconds === null) {
    throw notMetrics(`not the app's metrics: no app_uptime_seconds in ${excerpt(text)}`);
  }
  return sample;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat);
}

/** fetch() hides the useful part (ECONNREFUSED, the address) in `cause`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { message?: unknown } | undefined) : undefined;
  if (typeof cause?.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
