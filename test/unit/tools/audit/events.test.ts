import { describe, expect, it } from "vitest";
import {
  canaryWindow,
  gateEvent,
  releaseEvent,
  releaseLabel,
  setsText,
} from "../../../../tools/audit/events";
import type { HistoryEvent } from "../../../../lib/history";

const line = (fields: Record<string, unknown>): HistoryEvent => ({
  v: 1,
  ts: "2026-03-02T09:00:00.000Z",
  stack: "dev",
  type: "release",
  ...fields,
});

describe("releaseLabel", () => {
  it.each([
    ["canary_started", true, "canary started"],
    ["canary_changed", true, "canary changed"],
    ["canary_aborted", true, "canary aborted"],
    ["canary_promoted", true, "canary promoted"],
    ["canary_promoted", false, "promotion refused"],
    ["release_unjudged", true, "released unjudged"],
    ["release_unjudged", false, "unjudged release refused"],
    ["rolled_back", true, "rolled back"],
    ["rolled_back", false, "rollback refused"],
    ["rolled_back", "yes", "rolled back (outcome not recorded)"],
    ["canary_paused", true, "canary paused"],
  ])("calls %s with allowed %s %j", (action, allowed, label) => {
    expect(releaseLabel(releaseEvent(line({ action, allowed })))).toBe(label);
  });
});

describe("setsText", () => {
  it.each([
    [{ stable: "1.0.0", canary: "1.1.0" }, "stable 1.0.0 + canary 1.1.0"],
    [{ stable: null, canary: "1.0.0" }, "canary 1.0.0"],
    [{ stable: "1.0.0", canary: null }, "stable 1.0.0"],
    [{ stable: null, canary: null }, "nothing"],
  ])("names %j as %j", (sets, text) => {
    expect(setsText(sets)).toBe(text);
  });
});

describe("releaseEvent", () => {
  it("reads a field of the wrong type as missing", () => {
    const r = releaseEvent(line({ action: "canary_started", allowed: true, weight: "10", to_canary: 7 }));
    expect(r).toMatchObject({ weight: null, to: { stable: null, canary: null }, judgement: null });
  });
});

describe("canaryWindow", () => {
  const gate = (gateName: string, input: unknown) =>
    gateEvent(line({ type: "gate", gate: gateName, input, result: null, decision_id: null }));

  it("reads both sets of the gate's input since the two sets", () => {
    const input = {
      window_seconds: 30,
      canary: { version: "1.1.0", requests: 148, errors: 12, error_rate_percent: 8.11, p99_latency_ms: 412 },
      stable: { version: "1.0.0", requests: 1322, errors: 2, error_rate_percent: 0.15, p99_latency_ms: 88 },
    };
    expect(canaryWindow(gate("canary", input))).toEqual({
      ts: "2026-03-02T09:00:00.000Z",
      windowSeconds: 30,
      canary: { version: "1.1.0", requests: 148, errors: 12, errorRatePercent: 8.11, p99LatencyMs: 412 },
      stable: { version: "1.0.0", requests: 1322, errors: 2, errorRatePercent: 0.15, p99LatencyMs: 88 },
      verdict: "ERROR",
      decisionId: null,
    });
  });

  it("reads the flat input recorded before the two sets as the canary's, with no stable set", () => {
    const input = { error_rate_percent: 46.94, p99_latency_ms: 12, requests: 294, window_seconds: 30 };
    expect(canaryWindow(gate("canary", input))).toMatchObject({
      windowSeconds: 30,
      canary: { version: null, requests: 294, errors: null, errorRatePercent: 46.94, p99LatencyMs: 12 },
      stable: null,
    });
  });

  it.each([
    ["another gate", "release", { action: "rollback", version: "1.0.0" }],
    ["no input", "canary", null],
    ["an input without any fact", "canary", { window_seconds: 30, canary: { version: "1.1.0" } }],
  ])("has no window for %s", (_name, gateName, input) => {
    expect(canaryWindow(gate(gateName, input))).toBeNull();
  });
});
