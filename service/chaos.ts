// Chaos injection: the state, the strict parser of POST /chaos bodies, and the middleware that applies the
// state to public requests. A bad body never reaches the state: parseChaos either returns a whole valid
// state or throws a ChaosInputError with the reason.
import type { Context, Middleware } from "koa";
import type { ChaosMode } from "../lib/metric-codes";

export type ChaosState =
  { mode: "none" } | { mode: "slow"; duration_ms: number } | { mode: "error"; rate: number };

export type { ChaosMode };

export const MAX_SLOW_MS = 10_000;

export class ChaosInputError extends Error {}

/** The keys each mode accepts; any other key is refused so a typo ("duration") never passes silently. */
const KEYS: Record<ChaosMode, readonly string[]> = {
  none: ["mode"],
  slow: ["mode", "duration_ms"],
  error: ["mode", "rate"],
};

/** Numbers as numbers (JSON.stringify would print Infinity as null), the rest as JSON. */
function show(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

function isMode(value: unknown): value is ChaosMode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(KEYS, value);
}

function checkKeys(body: Record<string, unknown>, mode: ChaosMode): void {
  const allowed = KEYS[mode];
  const extra = Object.keys(body).filter((key) => !allowed.includes(key));
  if (extra.length > 0) {
    throw new ChaosInputError(
      `unknown key(s) for mode "${mode}": ${extra.join(", ")} (allowed: ${allowed.join(", ")})`,
    );
  }
}

function durationMs(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_SLOW_MS) {
    throw new ChaosInputError(
      `duration_ms must be an integer with 0 < duration_ms <= ${MAX_SLOW_MS}, got ${show(value)}`,
    );
  }
  return value;
}

function rate(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ChaosInputError(`rate must be a number with 0 <= rate <= 1, got ${show(value)}`);
  }
  return value;
}

/** Validates a parsed JSON body of POST /chaos and returns the state it asks for. */
export function parseChaos(body: unknown): ChaosState {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ChaosInputError(`body must be a JSON object, got ${show(body)}`);
  }
  const record = body as Record<string, unknown>;
  if (!isMode(record.mode)) {
    throw new ChaosInputError(`mode must be one of none, slow, error, got ${show(record.mode)}`);
  }
  checkKeys(record, record.mode);
  switch (record.mode) {
    case "none":
      return { mode: "none" };
    case "slow":
      return { mode: "slow", duration_ms: durationMs(record.duration_ms) };
    case "error":
      return { mode: "error", rate: rate(record.rate) };
  }
}

export interface ChaosOptions {
  /** Read on every request, so a POST /chaos takes effect on the next public request. */
  current: () => ChaosState;
  /** Requests chaos must leave alone (the health check: a slow or failing probe would restart the container). */
  isExempt: (ctx: Context) => boolean;
  /** Uniform in [0, 1); injectable so tests can pin it. */
  random?: () => number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Applies the current chaos state to public requests: delay them, or answer a fraction with 500. */
export function injectChaos({ current, isExempt, random = Math.random }: ChaosOptions): Middleware {
  return async function chaos(ctx, next) {
    const state = current();
    // The common case (no chaos) costs one property read.
    if (state.mode === "none" || isExempt(ctx)) return next();
    if (state.mode === "slow") {
      await sleep(state.duration_ms);
      return next();
    }
    if (random() < state.rate) {
      ctx.status = 500;
      ctx.body = { error: `injected failure (chaos mode error, rate ${state.rate})` };
      return;
    }
    return next();
  };
}
