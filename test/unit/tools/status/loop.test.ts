import { describe, expect, it } from "vitest";
import { INITIAL_STATE, type CollectorState } from "../../../../tools/status/collect";
import { refreshUntilStopped, sampleSnapshots, type Refresh } from "../../../../tools/status/loop";
import type { Snapshot } from "../../../../tools/status/snapshot";
import { healthySnapshot } from "./snapshot-fixtures";

/** A refresh that counts its calls and checks that each gets the state the previous one returned. */
function countingRefresh(delayMs = 0) {
  const seen: CollectorState[] = [];
  const refresh: Refresh = async (state) => {
    seen.push(state);
    await new Promise((r) => setTimeout(r, delayMs));
    const snapshot = { ...healthySnapshot(), stack: `refresh-${seen.length}` };
    return { snapshot, state: { ...state, previous: new Map() } };
  };
  return { seen, refresh };
}

describe("sampleSnapshots", () => {
  it("refreshes the asked number of times, threading the state, and returns the last snapshot", async () => {
    const { seen, refresh } = countingRefresh();
    const snapshot = await sampleSnapshots(refresh, 3, 1);
    expect(snapshot.stack).toBe("refresh-3");
    expect(seen[0]).toBe(INITIAL_STATE);
    expect(seen[1]).not.toBe(INITIAL_STATE);
  });
});

describe("refreshUntilStopped", () => {
  it("draws every refresh until stopped, and returns at once when stopped mid-refresh", async () => {
    const { refresh } = countingRefresh(30);
    const drawn: Snapshot[] = [];
    const stop = new AbortController();
    const done = refreshUntilStopped(refresh, (s) => drawn.push(s), 10, stop.signal);
    await new Promise((r) => setTimeout(r, 100));
    const drawnBeforeStop = drawn.length;
    stop.abort();
    const started = Date.now();
    await done;
    expect(Date.now() - started).toBeLessThan(20);
    expect(drawnBeforeStop).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(drawn.length).toBe(drawnBeforeStop); // the refresh cut short is never drawn
  });
});
