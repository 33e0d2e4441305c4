import { describe, expect, it } from "vitest";
import { renderFrame } from "../../../../tools/status/render";
import type { Snapshot } from "../../../../tools/status/snapshot";
import {
  canaryOnlySnapshot,
  chaosSnapshot,
  deniedSnapshot,
  healthySnapshot,
  legacyStackSnapshot,
  noCanarySnapshot,
  opaUnreachableSnapshot,
  stackDownSnapshot,
  tooFewRequestsSnapshot,
} from "./snapshot-fixtures";

const plain = (s: Snapshot) => renderFrame(s, { color: false, width: 100 });
const ESC = "\u001b";

/** The lines of the frame from the one starting with `title` up to the next blank line. */
function block(frame: string, title: string): string[] {
  const lines = frame.split("\n");
  const start = lines.findIndex((l) => l.startsWith(title));
  if (start === -1) throw new Error(`no block ${title} in\n${frame}`);
  const end = lines.indexOf("", start);
  return lines.slice(start, end === -1 ? undefined : end);
}

describe("renderFrame", () => {
  it.each([
    ["a canary beside stable", healthySnapshot],
    ["a canary denial", deniedSnapshot],
    ["a canary with too few requests to judge", tooFewRequestsSnapshot],
    ["the canary as the only set", canaryOnlySnapshot],
    ["no canary in flight", noCanarySnapshot],
    ["a stack deployed before the two sets", legacyStackSnapshot],
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

  it("shows both sets side by side with version, replicas up, share, requests, error rate and P99, and the weight", () => {
    const sets = block(plain(healthySnapshot()), "Sets");
    expect(sets[0]).toBe("Sets · canary weight 10% of requests");
    expect(sets[1]).toMatch(/^ +Set +Version +Replicas +Share +Requests +Error rate +P99$/);
    expect(sets[2]).toMatch(/^ +stable +1\.0\.0 +2\/2 up +90\.00% +225 +0\.00% +24 ms$/);
    expect(sets[3]).toMatch(/^ +canary +1\.1\.0 +1\/1 up +10\.00% +25 +0\.00% +31 ms$/);
    expect(sets).toHaveLength(4);
  });

  it.each<[string, () => Snapshot, string]>([
    ["no canary in flight", noCanarySnapshot, "Sets · no canary in flight"],
    ["the canary alone", canaryOnlySnapshot, "Sets · the canary is the only set (no stable version yet)"],
    [
      "a weight missing from the outputs",
      () => ({ ...healthySnapshot(), release: null }),
      "Sets · canary weight unknown (no release read from the stack's outputs)",
    ],
  ])("says so when there is %s", (_name, make, heading) => {
    expect(block(plain(make()), "Sets")[0]).toBe(heading);
  });

  it("shows why a set has no rates instead of numbers", () => {
    const s = healthySnapshot();
    s.sets[1] = {
      ...s.sets[1],
      replicasUp: 1,
      traffic: {
        state: "pending",
        reason: "first scrape: rates over the last interval appear after the next refresh",
      },
    };
    expect(block(plain(s), "Sets")[3]).toMatch(
      /^ +canary +1\.1\.0 +1\/1 up +- +- +- +- +first scrape: rates over the last interval/,
    );
  });

  it("lists each rule with OPA's verdict, observed value and threshold, whatever the threshold is", () => {
    const s = healthySnapshot();
    const frame = plain(s);
    expect(frame).toMatch(/PASS +Disk free space +77\.89 GB +threshold 10 GB/);
    expect(frame).toMatch(/PASS +P99 latency +31 ms +stable 24 ms +threshold 500 ms/);

    // The dashboard judges nothing itself: another threshold and verdict from OPA show as they are.
    if (s.policies.infrastructure.state !== "decided") throw new Error("fixture");
    s.policies.infrastructure.decision.checks[0] = {
      ...s.policies.infrastructure.decision.checks[0],
      passed: false,
      threshold: 80,
    };
    expect(plain(s)).toMatch(/FAIL +Disk free space +77\.89 GB +threshold 80 GB/);
  });

  it("shows the canary's value beside stable's and the limit OPA computed for each relative rule", () => {
    const policy = block(plain(deniedSnapshot()), "Canary policy");
    expect(policy[1]).toBe("  canary 1.1.0 against stable 1.0.0 over the last 5 s");
    expect(policy).toContainEqual(
      expect.stringMatching(/^ +FAIL +Error rate vs stable +46\.94% +stable 0\.23% +threshold 1\.23%$/),
    );
    expect(policy).toContainEqual(
      expect.stringMatching(/^ +FAIL +P99 latency vs stable +2004 ms +stable 24 ms +threshold 150 ms$/),
    );
    expect(policy).toContainEqual(
      expect.stringMatching(/^ +PASS +Stable requests in the window +441 requests +stable 441 requests/),
    );
  });

  it("shows a rule OPA could not judge for too few requests as no data, never as a failure", () => {
    const policy = block(plain(tooFewRequestsSnapshot()), "Canary policy");
    expect(policy).toContainEqual(
      expect.stringMatching(/^ +no data +Error rate +0% +stable 0% +threshold 1%$/),
    );
    expect(policy).toContainEqual(expect.stringMatching(/^ +no data +P99 latency vs stable /));
    expect(policy).toContainEqual(expect.stringMatching(/^ +FAIL +Requests in the window +6 requests /));
    expect(policy.filter((l) => /FAIL/.test(l))).toHaveLength(1);
  });

  it("reads a check without a status (an older policy) by its passed flag", () => {
    const s = tooFewRequestsSnapshot();
    if (s.policies.canary.state !== "decided") throw new Error("fixture");
    s.policies.canary.decision.checks = s.policies.canary.decision.checks.map(
      ({ status: _s, ...check }) => check,
    );
    expect(block(plain(s), "Canary policy")).toContainEqual(
      expect.stringMatching(/^ +FAIL +Error rate +0% /),
    );
  });

  it("judges the canary alone without a stable set, with OPA's note saying so", () => {
    const policy = block(plain(canaryOnlySnapshot()), "Canary policy");
    expect(policy[0]).toMatch(/^Canary policy  ALLOW/);
    expect(policy[1]).toBe("  canary 1.0.0 alone (no stable set) over the last 5 s");
    expect(policy).toContain("  Note: No stable baseline: judged on the absolute rules only");
    expect(policy.join("\n")).not.toContain("stable 0");
  });

  it("does not ask about a canary when none is in flight", () => {
    expect(plain(noCanarySnapshot())).toContain("Canary policy  NOT ASKED  no canary in flight");
  });

  it("shows a denial with every violation as OPA worded it", () => {
    const frame = plain(deniedSnapshot());
    expect(frame).toContain("Canary policy  DENY");
    expect(frame).toContain("    Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 5s");
    expect(frame).toContain(
      "    Canary error rate (46.94%) exceeds stable (0.23%) by 46.71 points; at most 1.00 allowed over the last 5s",
    );
    expect(frame).toMatch(/Error rate +4\.90% +▁▁▁▆█/);
  });

  it("names the active chaos mode in the header", () => {
    expect(plain(chaosSnapshot())).toContain("Chaos error (ACTIVE)");
    expect(plain(healthySnapshot())).toContain("Chaos none");
  });

  it("says the stack is down, with each replica's set and error, and falls back to the configured mode", () => {
    const frame = plain(stackDownSnapshot());
    expect(frame).toContain("STACK DOWN");
    expect(frame).toContain(
      "canary replica http://127.0.0.1:9102: GET http://127.0.0.1:9102/metrics: connect ECONNREFUSED",
    );
    expect(frame).toContain("Mode canary (configured)");
    expect(frame).toContain("Canary policy  WAITING  canary set: no replica answered");
    expect(block(frame, "Sets")[2]).toMatch(/stable +1\.0\.0 +0\/2 up +- +- +- +- +no replica answered/);
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
