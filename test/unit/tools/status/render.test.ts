import { describe, expect, it } from "vitest";
import { renderFrame } from "../../../../tools/status/render";
import type { Snapshot } from "../../../../tools/status/snapshot";
import {
  chaosSnapshot,
  deniedSnapshot,
  healthySnapshot,
  opaUnreachableSnapshot,
  stackDownSnapshot,
} from "./snapshot-fixtures";

const plain = (s: Snapshot) => renderFrame(s, { color: false, width: 100 });
const ESC = "\u001b";

describe("renderFrame", () => {
  it.each([
    ["a healthy stack", healthySnapshot],
    ["a canary denial", deniedSnapshot],
    ["active chaos", chaosSnapshot],
    ["a stack that is down", stackDownSnapshot],
    ["an unreachable OPA", opaUnreachableSnapshot],
  ])("renders %s as the stored frame", (_name, make) => {
    expect(plain(make())).toMatchSnapshot();
  });

  it("prints no ANSI control codes without colour, and colours the frame with it", () => {
    expect(plain(deniedSnapshot())).not.toContain(ESC);
    expect(renderFrame(deniedSnapshot(), { color: true, width: 100 })).toContain(`${ESC}[31m`);
  });

  it("lists each rule with OPA's verdict, observed value and threshold, whatever the threshold is", () => {
    const s = healthySnapshot();
    const frame = plain(s);
    expect(frame).toMatch(/PASS +Disk free space +77\.89 GB +threshold 10 GB/);
    expect(frame).toMatch(/PASS +P99 latency +24 ms +threshold 500 ms/);

    // The dashboard judges nothing itself: another threshold and verdict from OPA show as they are.
    if (s.policies.infrastructure.state !== "decided") throw new Error("fixture");
    s.policies.infrastructure.decision.checks[0] = {
      ...s.policies.infrastructure.decision.checks[0],
      passed: false,
      threshold: 80,
    };
    expect(plain(s)).toMatch(/FAIL +Disk free space +77\.89 GB +threshold 80 GB/);
  });

  it("shows a denial with every violation as OPA worded it", () => {
    const frame = plain(deniedSnapshot());
    expect(frame).toContain("Canary policy  DENY");
    expect(frame).toContain("    Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 5s");
    expect(frame).toContain("    P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 5s");
    expect(frame).toMatch(/Error rate +46\.94% +▁▁▁/);
  });

  it("names the active chaos mode in the header", () => {
    expect(plain(chaosSnapshot())).toContain("Chaos error (ACTIVE)");
    expect(plain(healthySnapshot())).toContain("Chaos none");
  });

  it("says the stack is down, with each replica's error, and falls back to the configured mode", () => {
    const frame = plain(stackDownSnapshot());
    expect(frame).toContain("STACK DOWN");
    expect(frame).toContain(
      "replica http://127.0.0.1:9101: GET http://127.0.0.1:9101/metrics: connect ECONNREFUSED",
    );
    expect(frame).toContain("Mode canary (configured)");
    expect(frame).toContain("Canary policy  WAITING  no metrics: no replica answered");
  });

  it("says OPA is unreachable once, with OPA's message, instead of any verdict", () => {
    const frame = plain(opaUnreachableSnapshot());
    expect(frame).toContain(
      "OPA UNREACHABLE\n  OPA unreachable at unix socket /work/main/.swiftdeploy/dev/opa.sock",
    );
    expect(frame.match(/OPA unreachable at/g)).toHaveLength(1);
    expect(frame).not.toMatch(/ALLOW|DENY|PASS|FAIL/);
  });

  it("says there are no rates yet on a first frame", () => {
    const s = healthySnapshot();
    s.traffic = {
      state: "pending",
      reason: "first scrape: rates over the last interval appear after the next refresh",
    };
    s.recent = { requestsPerSecond: [], errorRatePercent: [], p99LatencyMs: [] };
    const frame = plain(s);
    expect(frame).toContain(
      "Traffic: no rates yet (first scrape: rates over the last interval appear after the next refresh)",
    );
    expect(frame).toMatch(/Throughput +-\n/);
  });

  it("keeps the newest values in a sparkline no wider than the terminal allows", () => {
    const s = healthySnapshot();
    s.recent.requestsPerSecond = Array.from({ length: 60 }, (_, i) => i);
    const spark = (width: number) => {
      const line = renderFrame(s, { color: false, width })
        .split("\n")
        .find((l) => l.includes("Throughput"))!;
      return line.replace(/^.*req\/s +/, "");
    };
    expect(spark(60)).toHaveLength(20); // the 20 newest of 60 values
    expect(spark(60)).toBe("▆▆▆▆▆▇▇▇▇▇▇▇████████"); // 40..59 on a scale from 0
    expect(spark(120)).toHaveLength(60);
  });
});
