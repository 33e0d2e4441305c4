import { describe, expect, it } from "vitest";
import { ChaosInputError, parseChaos } from "../../../service/chaos";

describe("parseChaos", () => {
  it.each([
    [{ mode: "none" }],
    [{ mode: "slow", duration_ms: 1 }],
    [{ mode: "slow", duration_ms: 10_000 }],
    [{ mode: "error", rate: 0 }],
    [{ mode: "error", rate: 0.25 }],
    [{ mode: "error", rate: 1 }],
  ])("accepts %o as it is", (body) => {
    expect(parseChaos(body)).toEqual(body);
  });

  it.each([
    [null, "body must be a JSON object, got null"],
    [[{ mode: "none" }], "body must be a JSON object"],
    ["none", 'body must be a JSON object, got "none"'],
    [{}, "mode must be one of none, slow, error, got undefined"],
    [{ mode: "fast" }, 'mode must be one of none, slow, error, got "fast"'],
    [{ mode: "toString" }, 'mode must be one of none, slow, error, got "toString"'],
    [{ mode: 1 }, "mode must be one of none, slow, error, got 1"],
    [{ mode: "none", rate: 1 }, 'unknown key(s) for mode "none": rate (allowed: mode)'],
    [{ mode: "slow", duration: 100 }, 'unknown key(s) for mode "slow": duration'],
    [{ mode: "error", rate: 0.5, duration_ms: 5 }, 'unknown key(s) for mode "error": duration_ms'],
    [{ mode: "slow" }, "duration_ms must be an integer with 0 < duration_ms <= 10000, got undefined"],
    [{ mode: "slow", duration_ms: 0 }, "got 0"],
    [{ mode: "slow", duration_ms: -5 }, "got -5"],
    [{ mode: "slow", duration_ms: 10_001 }, "got 10001"],
    [{ mode: "slow", duration_ms: 1.5 }, "got 1.5"],
    [{ mode: "slow", duration_ms: "100" }, 'got "100"'],
    [{ mode: "error" }, "rate must be a number with 0 <= rate <= 1, got undefined"],
    [{ mode: "error", rate: -0.01 }, "got -0.01"],
    [{ mode: "error", rate: 1.01 }, "got 1.01"],
    [{ mode: "error", rate: "0.5" }, 'got "0.5"'],
    [{ mode: "error", rate: null }, "got null"],
    [{ mode: "error", rate: Infinity }, "got Infinity"],
  ])("refuses %o with a reason", (body, reason) => {
    expect(() => parseChaos(body)).toThrow(ChaosInputError);
    expect(() => parseChaos(body)).toThrow(reason);
  });
});
