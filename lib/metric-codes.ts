// Numbers the app's gauges encode and the dashboard decodes: `app_mode` and `chaos_active`. Written once,
// here; the service sets them (service/metrics.ts), everything else reads them.
import type { Mode } from "./modes";

export const CHAOS_MODES = ["none", "slow", "error"] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];

/** `app_mode`: 0 stable, 1 canary. */
export const APP_MODE_CODE: Record<Mode, number> = { stable: 0, canary: 1 };
/** `chaos_active`: 0 none, 1 slow, 2 error. */
export const CHAOS_CODE: Record<ChaosMode, number> = { none: 0, slow: 1, error: 2 };

/** The help text of each gauge, naming its codes. */
export const APP_MODE_HELP = `Deployment mode: ${describeCodes(APP_MODE_CODE)}.`;
export const CHAOS_ACTIVE_HELP = `Active chaos mode: ${describeCodes(CHAOS_CODE)}.`;

/** The mode an `app_mode` value stands for; unknown values are shown as they are. */
export function modeName(value: number | null): string {
  return decode(APP_MODE_CODE, value, "app_mode");
}

/** The chaos mode a `chaos_active` value stands for. */
export function chaosName(value: number | null): string {
  return decode(CHAOS_CODE, value, "chaos_active");
}

function decode(codes: Record<string, number>, value: number | null, metric: string): string {
  if (value === null) return "unknown";
  const name = Object.keys(codes).find((k) => codes[k] === value);
  return name ?? `${metric} ${value}`;
}

function describeCodes(codes: Record<string, number>): string {
  return Object.entries(codes)
    .sort((a, b) => a[1] - b[1])
    .map(([name, code]) => `${code} ${name}`)
    .join(", ");
}

/** The `path` label of every request no route matched (the app's metrics): unknown URLs must not grow the series count, and never count as a set's traffic. */
export const UNMATCHED_PATH = "unmatched";
