import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  collectSnapshot,
  INITIAL_STATE,
  type CollectorDeps,
  type CollectTarget,
} from "../../../../tools/status/collect";
import { liveDeps } from "../../../../tools/status/live-deps";
import { UNMATCHED_PATH } from "../../../../lib/metric-codes";
import { POLICY_PACKAGES, type HostFacts, type PolicyDecision } from "../../../../lib/types";
import { startFakeApp, startFakeOpa, type FakeApp, type FakeOpa } from "../../../../bench/fake-stack";

const HOST: HostFacts = { disk_free_gb: 50, cpu_load: 0.5, mem_free_percent: 40 };

// Whatever the fake OPA answers: the collector must pass it through untouched, so each package answers
// something recognisable.
function decide(packagePath: string): PolicyDecision {
  const denied = packagePath === POLICY_PACKAGES.canary;
  return {
    allow: !denied,
    violations: denied ? ["Only 3 requests in the last 5s; at least 20 are needed to judge the canary"] : [],
    checks: [
      {
        id: "x",
        title: packagePath,
        passed: !denied,
        status: denied ? "no_data" : "pass",
        observed: 1,
        stable: 0,
        threshold: 2,
        unit: "u",
      },
    ],
    notes: ["a note"],
  };
}

let dir: string;
/** Two replicas of the stable set (1.0.0) and one of the canary set (1.1.0). */
let stable: FakeApp[];
let canary: FakeApp;
let opa: FakeOpa;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-collect-"));
  stable = [await startFakeApp("stable"), await startFakeApp("stable")];
  canary = await startFakeApp("canary");
  opa = await startFakeOpa(path.join(dir, "opa.sock"), decide);
});

afterEach(async () => {
  await Promise.all([...stable.map((a) => a.close()), canary.close(), opa.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Real HTTP and OPA exchanges; host facts and the clock are fixed so the numbers are exact. */
function depsAt(clock: { ms: number }, socketPath = opa.socketPath): CollectorDeps {
  return {
    ...liveDeps({ opaSocket: socketPath, opaTimeoutMs: 1000, scrapeTimeoutMs: 1000 }),
    hostFacts: async () => HOST,
    now: () => clock.ms,
  };
}

/** A stack running stable 1.0.0 and canary 1.1.0, as its outputs and the containers' labels say. */
function twoSets(): CollectTarget {
  const target = (app: FakeApp, set: string, version: string) => ({ url: app.url, labels: { set, version } });
  return {
    stack: "test",
    adminUrls: [...stable, canary].map((a) => a.url),
    adminTargets: [...stable.map((a) => target(a, "stable", "1.0.0")), target(canary, "canary", "1.1.0")],
    release: { stableVersion: "1.0.0", canaryVersion: "1.1.0", weight: 10 },
    configuredMode: "canary",
    intervalSeconds: 5,
  };
}

/** The canary set alone: no version has been stable yet. */
function canaryOnly(): CollectTarget {
  return {
    stack: "test",
    adminUrls: [canary.url],
    adminTargets: [{ url: canary.url, labels: { set: "canary", version: "1.0.0" } }],
    release: { stableVersion: null, canaryVersion: "1.0.0", weight: null },
    configuredMode: "canary",
    intervalSeconds: 5,
  };
}

/** A stack deployed before the two sets: admin URLs only. */
function legacy(adminUrls: string[]): CollectTarget {
  return { stack: "test", adminUrls, configuredMode: "canary", intervalSeconds: 5 };
}

/** Two refreshes 5 s apart, with `traffic` recorded between them. */
async function interval(target: CollectTarget, traffic: () => void) {
  const clock = { ms: Date.parse("2025-11-24T10:00:00Z") };
  const first = await collectSnapshot(target, INITIAL_STATE, depsAt(clock));
  traffic();
  clock.ms += 5000;
  const second = await collectSnapshot(target, first.state, depsAt(clock));
  return { first: first.snapshot, second: second.snapshot };
}

const canaryQuestions = () => opa.asked.filter((q) => q.packagePath === POLICY_PACKAGES.canary);

describe("collectSnapshot", () => {
  it("has no rates on the first scrape and says why, then measures each set and both together", async () => {
    stable[0].record("/", 200, 0.004, 40); // before the first scrape: must not count in the interval
    const { first, second } = await interval(twoSets(), () => {
      stable[0].record("/", 200, 0.004, 30);
      stable[1].record("/", 500, 0.004, 6);
      stable[1].record("/", 200, 0.004, 24);
      stable[1].record("/healthz", 200, 0.001, 50); // healthchecks are not public traffic
      canary.record("/", 500, 0.004, 10);
    });

    expect(first.traffic).toEqual({ state: "pending", reason: expect.stringContaining("first scrape") });
    expect(first.sets.map((s) => s.traffic)).toEqual([
      { state: "pending", reason: expect.stringContaining("first scrape") },
      { state: "pending", reason: expect.stringContaining("first scrape") },
    ]);
    expect(first.policies.canary).toEqual({
      state: "waiting",
      reason: expect.stringMatching(/^canary set: first scrape/),
    });
    expect(first.totals).toEqual({ requests: 40, errors: 0 });

    expect(second.traffic).toMatchObject({
      state: "measured",
      requests: 70,
      errors: 16,
      requestsPerSecond: 14,
      windowSeconds: 5,
    });
    expect(second.sets).toEqual([
      {
        set: "stable",
        version: "1.0.0",
        replicas: 2,
        replicasUp: 2,
        traffic: expect.objectContaining({
          requests: 60,
          errors: 6,
          errorRatePercent: 10,
          sharePercent: (60 / 70) * 100,
        }),
      },
      {
        set: "canary",
        version: "1.1.0",
        replicas: 1,
        replicasUp: 1,
        traffic: expect.objectContaining({
          requests: 10,
          errors: 10,
          errorRatePercent: 100,
          sharePercent: (10 / 70) * 100,
        }),
      },
    ]);
    expect(second.release).toEqual({ stableVersion: "1.0.0", canaryVersion: "1.1.0", weight: 10 });
    expect(second.recent.requestsPerSecond).toEqual([14]);
    expect(second.replicas).toEqual([
      ...stable.map((a) => ({
        url: a.url,
        set: "stable",
        version: "1.0.0",
        up: true,
        mode: "stable",
        chaos: "none",
        uptimeSeconds: expect.any(Number),
      })),
      {
        url: canary.url,
        set: "canary",
        version: "1.1.0",
        up: true,
        mode: "canary",
        chaos: "none",
        uptimeSeconds: expect.any(Number),
      },
    ]);
  });

  it("asks the canary policy with each set's facts over the interval and keeps OPA's answer verbatim", async () => {
    const { second } = await interval(twoSets(), () => {
      stable[0].record("/", 200, 0.004, 40);
      canary.record("/", 200, 0.03, 3);
      canary.record(UNMATCHED_PATH, 404, 0.001, 9); // requests no route matched are no set's traffic
    });

    const input = {
      window_seconds: 5,
      canary: { version: "1.1.0", requests: 3, errors: 0, error_rate_percent: 0, p99_latency_ms: 50 },
      stable: { version: "1.0.0", requests: 40, errors: 0, error_rate_percent: 0, p99_latency_ms: 5 },
    };
    expect(canaryQuestions()).toEqual([{ packagePath: POLICY_PACKAGES.canary, input }]);
    expect(opa.asked).toContainEqual({ packagePath: POLICY_PACKAGES.infrastructure, input: HOST });
    expect(second.policies.canary).toEqual({
      state: "decided",
      decision: decide(POLICY_PACKAGES.canary),
      decisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      durationMs: expect.any(Number),
      input,
    });
    expect(second.policies.infrastructure).toMatchObject({ state: "decided", decision: { allow: true } });
  });

  it("asks about the canary alone, without a stable set in the facts, when it is the only set", async () => {
    const { second } = await interval(canaryOnly(), () => canary.record("/", 200, 0.004, 25));

    expect(canaryQuestions().map((q) => q.input)).toEqual([
      {
        window_seconds: 5,
        canary: { version: "1.0.0", requests: 25, errors: 0, error_rate_percent: 0, p99_latency_ms: 5 },
      },
    ]);
    expect(second.sets.map((s) => [s.set, s.version])).toEqual([["canary", "1.0.0"]]);
    expect(second.policies.canary.state).toBe("decided");
  });

  it("does not ask the canary policy when no canary is in flight", async () => {
    const target: CollectTarget = {
      ...twoSets(),
      adminUrls: stable.map((a) => a.url),
      adminTargets: stable.map((a) => ({ url: a.url, labels: { set: "stable", version: "1.1.0" } })),
      release: { stableVersion: "1.1.0", canaryVersion: null, weight: null },
    };
    const { second } = await interval(target, () => stable[0].record("/", 200, 0.004, 25));

    expect(second.policies.canary).toEqual({ state: "idle", reason: "no canary in flight" });
    expect(canaryQuestions()).toEqual([]);
    expect(second.sets).toEqual([
      expect.objectContaining({
        set: "stable",
        version: "1.1.0",
        traffic: expect.objectContaining({ sharePercent: 100 }),
      }),
    ]);
  });

  it("counts every admin URL as the stable set's when the stack has no adminTargets (deployed before the two sets)", async () => {
    const { second } = await interval(legacy([stable[0].url, canary.url]), () => {
      stable[0].record("/", 200, 0.004, 5);
      canary.record("/", 200, 0.004, 15);
    });

    expect(second.release).toBeNull();
    expect(second.sets).toEqual([
      {
        set: "stable",
        version: null,
        replicas: 2,
        replicasUp: 2,
        traffic: expect.objectContaining({ requests: 20, sharePercent: 100 }),
      },
    ]);
    expect(second.replicas.map((r) => r.set)).toEqual(["stable", "stable"]);
    expect(second.policies.canary.state).toBe("idle");
  });

  it("waits rather than judge the canary without its baseline when the stable set cannot be measured", async () => {
    const target = twoSets();
    const down = stable.map((a) => a.url);
    await Promise.all(stable.map((a) => a.close()));
    stable = [await startFakeApp("stable")]; // afterEach closes it; the set's own URLs stay unreachable
    const { second } = await interval(target, () => canary.record("/", 200, 0.004, 25));

    expect(second.policies.canary).toEqual({ state: "waiting", reason: "stable set: no replica answered" });
    expect(canaryQuestions()).toEqual([]);
    expect(second.sets[0]).toMatchObject({ set: "stable", replicas: 2, replicasUp: 0 });
    expect(second.sets[1].traffic).toMatchObject({ state: "measured", requests: 25, sharePercent: 100 });
    expect(second.replicas.filter((r) => !r.up).map((r) => r.url)).toEqual(down);
  });

  it("shows a set the release names even when none of its replicas runs", async () => {
    const target = { ...twoSets(), adminTargets: twoSets().adminTargets!.slice(0, 2) };
    const { second } = await interval(target, () => stable[0].record("/", 200, 0.004, 25));
    expect(second.sets[1]).toEqual({
      set: "canary",
      version: "1.1.0",
      replicas: 0,
      replicasUp: 0,
      traffic: { state: "pending", reason: "no replica running" },
    });
    expect(second.policies.canary).toEqual({ state: "waiting", reason: "canary set: no replica running" });
  });

  it("reports chaos as the app's chaos_active gauge names it", async () => {
    canary.setChaos("error");
    const { snapshot } = await collectSnapshot(twoSets(), INITIAL_STATE, depsAt({ ms: 0 }));
    expect(snapshot.replicas.map((r) => r.up && r.chaos)).toEqual(["none", "none", "error"]);
  });

  it("says which replica is down and why when its metrics are unreachable, and still asks the host policy", async () => {
    const url = canary.url;
    await canary.close();
    canary = await startFakeApp("canary"); // afterEach closes it
    const { snapshot } = await collectSnapshot(legacy([url]), INITIAL_STATE, depsAt({ ms: 0 }));

    expect(snapshot.replicas).toEqual([
      { url, set: "stable", version: null, up: false, error: expect.stringContaining("ECONNREFUSED") },
    ]);
    expect(snapshot.replicas[0]).toMatchObject({ error: expect.stringContaining(`${url}/metrics`) });
    expect(snapshot.traffic).toEqual({ state: "pending", reason: "no replica answered" });
    expect(snapshot.totals).toBeNull();
    expect(snapshot.policies.infrastructure.state).toBe("decided");
  });

  it("says OPA is unreachable, naming the socket, when nothing listens on it", async () => {
    const missing = path.join(dir, "no-opa.sock");
    const { snapshot } = await collectSnapshot(twoSets(), INITIAL_STATE, depsAt({ ms: 0 }, missing));
    expect(snapshot.policies.infrastructure).toEqual({
      state: "failed",
      kind: "unreachable",
      message: expect.stringContaining(missing),
    });
    expect(snapshot.replicas[0].up).toBe(true);
  });

  it("does not ask the infrastructure policy when the host facts cannot be read", async () => {
    const deps = { ...depsAt({ ms: 0 }), hostFacts: () => Promise.reject(new Error("df: not found")) };
    const { snapshot } = await collectSnapshot(twoSets(), INITIAL_STATE, deps);
    expect(snapshot.policies.infrastructure).toEqual({
      state: "waiting",
      reason: "host facts unavailable: df: not found",
    });
    expect(opa.asked.filter((q) => q.packagePath === POLICY_PACKAGES.infrastructure)).toEqual([]);
  });
});
