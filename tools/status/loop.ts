import { setTimeout as sleep } from "node:timers/promises";
import { INITIAL_STATE, type CollectorState } from "./collect";
import type { Snapshot } from "./snapshot";

/** One refresh: collect a snapshot from the state the previous refresh left. */
export type Refresh = (state: CollectorState) => Promise<{ snapshot: Snapshot; state: CollectorState }>;

/** `samples` refreshes, `intervalMs` apart, for --once and --json; the last snapshot. */
export async function sampleSnapshots(
  refresh: Refresh,
  samples: number,
  intervalMs: number,
): Promise<Snapshot> {
  let result = await refresh(INITIAL_STATE);
  for (let i = 1; i < samples; i++) {
    await sleep(intervalMs);
    result = await refresh(result.state);
  }
  return result.snapshot;
}

/**
 * Refreshes every `intervalMs` and draws each snapshot until `stop` aborts (Ctrl+C). An abort ends the
 * wait at once, also in the middle of a refresh, whose late answer is then dropped.
 */
export async function refreshUntilStopped(
  refresh: Refresh,
  draw: (snapshot: Snapshot) => void,
  intervalMs: number,
  stop: AbortSignal,
): Promise<void> {
  let state = INITIAL_STATE;
  while (!stop.aborted) {
    const started = Date.now();
    const result = await untilAborted(refresh(state), stop);
    if (!result) return;
    state = result.state;
    draw(result.snapshot);
    const rested = await untilAborted(sleep(Math.max(0, intervalMs - (Date.now() - started)), true), stop);
    if (!rested) return;
  }
}

/** The promise's value, or null as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
