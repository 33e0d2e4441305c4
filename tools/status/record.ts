import { appendHistory } from "../../lib/history";
import type { ScrapeEvent } from "../../lib/history-events";
import { round2 } from "../../lib/numbers";
import { errorMessage } from "./collect";
import { upReplicas, youngestUptime, type Snapshot } from "./snapshot";

/**
 * The history.jsonl fields of one scrape (event type "scrape"), or null when no replica answered: there is
 * nothing scraped to record then. The rates are null on a first scrape, which has no interval yet.
 */
export function scrapeEventFields(s: Snapshot): Omit<ScrapeEvent, "type"> | null {
  const up = upReplicas(s);
  if (up.length === 0) return null;
  const t = s.traffic.state === "measured" ? s.traffic : null;
  return {
    requests: t?.requests ?? null,
    errors: t?.errors ?? null,
    error_rate_percent: round2OrNull(t?.errorRatePercent),
    p99_latency_ms: round2OrNull(t?.p99LatencyMs),
    requests_per_second: round2OrNull(t?.requestsPerSecond),
    window_seconds: t?.windowSeconds ?? null,
    mode: [...new Set(up.map((r) => r.mode))].join("/"),
    chaos: [...new Set(up.map((r) => r.chaos))].join("/"),
    uptime_seconds: round2OrNull(youngestUptime(up)),
  };
}

function round2OrNull(value: number | null | undefined): number | null {
  return typeof value === "number" ? round2(value) : null;
}

/** Appends the scrape to history.jsonl; a failure is returned as a warning for the frame, never thrown. */
export async function recordScrape(historyFile: string, snapshot: Snapshot): Promise<string | null> {
  const fields = scrapeEventFields(snapshot);
  if (!fields) return null;
  try {
    await appendHistory(historyFile, { stack: snapshot.stack, type: "scrape", ...fields });
    return null;
  } catch (err) {
    return `could not append to ${historyFile}: ${errorMessage(err)}`;
  }
}
