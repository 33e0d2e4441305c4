import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectSnapshot, INITIAL_STATE, type CollectorDeps } from "../../../../tools/status/collect";
import { liveDeps } from "../../../../tools/status/live-deps";
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
    checks: [{ id: "x", title: packagePath, passed: !denied, observed: 1, threshold: 2, unit: "u" }],
  };
}

let dir: string;
let apps: FakeApp[];
let opa: FakeOpa;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-collect-"));
  apps = [await startFakeApp("canary"), await startFakeApp("canary")];
  opa = await startFakeOpa(path.join(dir, "opa.sock"), decide);
});

afterEach(async () => {
  await Promise.all([...apps.map((a) => a.close()), opa.close()]);
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

function target(adminUrls: string[]) {
  return { stack: "test", adminUrls, configuredMode: "canary", intervalSeconds: 5 };
}

describe("collectSnapshot", () => {
  it("has no rates on the first scrape and says why, then measures the interval over all replicas", async () => {
    const clock = { ms: Date.parse("2025-11-24T10:00:00Z") };
    apps[0].record("/", 200, 0.004, 40); // before the first scrape: must not count in the interval
    const first = await collectSnapshot(target(apps.map((a) => a.url)), INITIAL_STATE, depsAt(clock));

    expect(first.snapshot.traffic).toEqual({
      state: "pending",
      reason: expect.stringContaining("first scrape"),
    });
    expect(first.snapshot.policies.canary).toEqual({ state: "waiting", reason: expect.any(String) });
    expect(first.snapshot.totals).toEqual({ requests: 40, errors: 0 });

    apps[0].record("/", 200, 0.004, 30);
    apps[1].record("/", 500, 0.004, 10);
    apps[1].record("/healthz", 200, 0.001, 50); // healthchecks are not public traffic
    clock.ms += 5000;
    const second = await collectSnapshot(target(apps.map((a) => a.url)), first.state, depsAt(clock));

    expect(second.snapshot.traffic).toMatchObject({
      state: "measured",
      requests: 40,
      errors: 10,
      errorRatePercent: 25,
      requestsPerSecond: 8,
      windowSeconds: 5,
    });
    expect(second.snapshot.recent.errorRatePercent).toEqual([25]);
    expect(second.snapshot.replicas).toEqual([
      { url: apps[0].url, up: true, mode: "canary", chaos: "none", uptimeSeconds: expect.any(Number) },
      { url: apps[1].url, up: true, mode: "canary", chaos: "none", uptimeSeconds: expect.any(Number) },
    ]);
  });

  it("asks OPA both policies with the facts it collected and keeps OPA's answers verbatim", async () => {
    const clock = { ms: 0 };
    const first = await collectSnapshot(target([apps[0].url]), INITIAL_STATE, depsAt(clock));
    apps[0].record("/", 200, 0.03, 3);
    clock.ms += 5000;
    const { snapshot } = await collectSnapshot(target([apps[0].url]), first.state, depsAt(clock));

    const canaryInput = { error_rate_percent: 0, p99_latency_ms: 50, requests: 3, window_seconds: 5 };
    expect(opa.asked.slice(-2)).toEqual(
      expect.arrayContaining([
        { packagePath: POLICY_PACKAGES.infrastructure, input: HOST },
        { packagePath: POLICY_PACKAGES.canary, input: canaryInput },
      ]),
    );
    expect(snapshot.policies.canary).toMatchObject({
      state: "decided",
      decision: decide(POLICY_PACKAGES.canary),
      decisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      input: canaryInput,
    });
    expect(snapshot.policies.infrastructure).toMatchObject({ state: "decided", decision: { allow: true } });
  });

  it("reports chaos as the app's chaos_active gauge names it", async () => {
    apps[0].setChaos("error");
    const { snapshot } = await collectSnapshot(target([apps[0].url]), INITIAL_STATE, depsAt({ ms: 0 }));
    expect(snapshot.replicas[0]).toMatchObject({ up: true, chaos: "error" });
  });

  it("says which replica is down and why when its metrics are unreachable, and still asks the host policy", async () => {
    const url = apps[1].url;
    await apps[1].close();
    const { snapshot } = await collectSnapshot(target([url]), INITIAL_STATE, depsAt({ ms: 0 }));

    expect(snapshot.replicas).toEqual([{ url, up: false, error: expect.stringContaining("ECONNREFUSED") }]);
    expect(snapshot.replicas[0]).toMatchObject({ error: expect.stringContaining(`${url}/metrics`) });
    expect(snapshot.traffic).toEqual({ state: "pending", reason: "no replica answered" });
    expect(snapshot.totals).toBeNull();
    expect(snapshot.policies.canary.state).toBe("waiting");
    expect(snapshot.policies.infrastructure.state).toBe("decided");
  });

  it("says OPA is unreachable, naming the socket, when nothing listens on it", async () => {
    const missing = path.join(dir, "no-opa.sock");
    const { snapshot } = await collectSnapshot(
      target([apps[0].url]),
      INITIAL_STATE,
      depsAt({ ms: 0 }, missing),
    );
    expect(snapshot.policies.infrastructure).toEqual({
      state: "failed",
      kind: "unreachable",
      message: expect.stringContaining(missing),
    });
    expect(snapshot.replicas[0].up).toBe(true);
  });

  it("does not ask the infrastructure policy when the host facts cannot be read", async () => {
    const deps = { ...depsAt({ ms: 0 }), hostFacts: () => Promise.reject(new Error("df: not found")) };
    const { snapshot } = await collectSnapshot(target([apps[0].url]), INITIAL_STATE, deps);
    expect(snapshot.policies.infrastructure).toEqual({
      state: "waiting",
      reason: "host facts unavailable: df: not found",
    });
    expect(opa.asked.filter((q) => q.packagePath === POLICY_PACKAGES.infrastructure)).toEqual([]);
  });
});
