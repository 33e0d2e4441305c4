// The release model with the real engine, on one stack of its own, in the order a user meets it: the first
// version as the only set, its promotion with no baseline, a canary beside stable that gets its share of
// the requests (and a header that pins one), promotions refused on the canary's errors and on its latency
// against stable, a healthy promotion, an abort, a rollback, a version that never ran as a canary, service/
// changed under a running version, and a first deploy in mode stable after `pulumi destroy`. Every change
// of what serves runs under a bounded load through the 127.0.0.1 ingress and counts failed requests.
import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadResult } from "../../bench/load";
import { readHistory } from "../../lib/history";
import { setFacts, windowStats } from "../../lib/metrics";
import { scrapeTraffic } from "../../lib/scrape";
import { Prometheus } from "./support/prometheus";
import { httpGet, TestProject, underLoad as underLoadOf } from "./support/project";

/** Short: each promotion is judged on the load that runs while it is observed. */
const WINDOW_S = 5;

let project: TestProject;

beforeAll(async () => {
  project = await TestProject.create({
    name: "canary",
    manifest: (t) =>
      t
        .replace(/observation_window_s: \d+/, `observation_window_s: ${WINDOW_S}`)
        .replace(/^(\s*weight:) \d+/m, "$1 20"),
  });
  await project.stack.setConfig("swiftdeploy:mode", { value: "canary" });
  await project.up();
}, 240_000);

afterAll(async () => {
  await project?.dispose();
});

async function setMode(mode: "canary" | "stable"): Promise<void> {
  await project.stack.setConfig("swiftdeploy:mode", { value: mode });
}

function setVersion(version: string): void {
  project.editFile("manifest.yaml", (t) => t.replace(/version: "[^"]+"/, `version: "${version}"`));
}

/** Runs `change` under the bounded load of support/project.ts through this stack's ingress. */
function underLoad<T>(change: () => Promise<T>) {
  return underLoadOf(project.publicUrl, change, 120);
}

function expectNoFailure(load: LoadResult): void {
  expect({ failures: load.failures, byKind: load.failuresByKind }).toEqual({ failures: 0, byKind: {} });
  expect(load.requests).toBeGreaterThan(200);
}

/**
 * `count` GET / through the ingress, 8 at a time on kept-alive connections; how many each "set version"
 * answered (a failed answer counts as "HTTP <status>").
 */
async function served(count: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const counts: Record<string, number> = {};
  let next = 0;
  const one = () =>
    new Promise<string>((resolve, reject) => {
      const req = http.get(`${project.publicUrl}/`, { agent, headers, timeout: 5000 }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => {
          // A failed answer counts under its status: a test that expects none sees it in the counts.
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
          const { set, version } = JSON.parse(body) as { set: string; version: string };
          resolve(`${set} ${version}`);
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
  const worker = async () => {
    while (next++ < count) {
      const key = await one();
      counts[key] = (counts[key] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  return counts;
}

/** The release events recorded since `from` (an index into the history's events). */
function releasesSince(from: number) {
  return readHistory(project.historyFile)
    .events.slice(from)
    .filter((e) => e.type === "release");
}

/** The versions whose app image this stack keeps in Docker (tags <version>-<content hash>), sorted. */
async function appImageVersions(): Promise<string[]> {
  const images = await project.docker("images", "--format", "{{.Repository}}:{{.Tag}}");
  return images
    .split("\n")
    .filter((i) => i.startsWith(`${project.dockerPrefix}/`) && i.includes("-app:"))
    .map((i) => i.slice(i.lastIndexOf(":") + 1).replace(/-[0-9a-f]{8}$/, ""))
    .sort();
}

function historyLength(): number {
  return readHistory(project.historyFile).events.length;
}

/** One sample of each admin listener's traffic, as the canary gate takes it. */
function scrapeAll(urls: string[]) {
  return Promise.all(urls.map((url) => scrapeTraffic(url, 5000)));
}

async function versions() {
  return {
    stable: await project.output("stableVersion"),
    canary: await project.output("canaryVersion"),
    mode: await project.output("mode"),
  };
}

describe("the release model", () => {
  it("runs the first version as the only set, the canary, taking every request", async () => {
    expect(await versions()).toEqual({ stable: null, canary: "1.0.0", mode: "canary" });
    expect(await served(50)).toEqual({ "canary 1.0.0": 50 });
    expect(await project.adminUrlsOf("canary")).toHaveLength(1);
  });

  it("promotes it with no baseline, judged on the absolute rules alone, losing no request", async () => {
    await setMode("stable");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.0", canary: null, mode: "stable" });
    const verdict = (await project.output("canaryVerdict")) as {
      allow: boolean;
      notes: string[];
      facts: object;
    };
    expect(verdict.allow).toBe(true);
    expect(verdict.notes).toEqual(["No stable baseline: judged on the absolute rules only"]);
    expect(verdict.facts).not.toHaveProperty("stable");
    expect(await served(50)).toEqual({ "stable 1.0.0": 50 });
  });

  it("starts a canary beside stable losing no request, splits per request within 3 points at weight 20, and pins by header", async () => {
    const from = historyLength();
    await setMode("canary");
    setVersion("1.0.1");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.0", canary: "1.0.1", mode: "canary" });
    expect(await project.output("canaryWeight")).toBe(20);

    const counts = await served(2400);
    expect(Object.keys(counts).sort()).toEqual(["canary 1.0.1", "stable 1.0.0"]);
    const share = (counts["canary 1.0.1"] / 2400) * 100;
    expect(share, JSON.stringify(counts)).toBeGreaterThanOrEqual(17);
    expect(share, JSON.stringify(counts)).toBeLessThanOrEqual(23);

    expect(await served(40, { "X-Canary": "always" })).toEqual({ "canary 1.0.1": 40 });
    expect(await served(40, { "X-Canary": "never" })).toEqual({ "stable 1.0.0": 40 });

    expect(releasesSince(from)).toMatchObject([
      {
        action: "canary_started",
        allowed: true,
        version: "1.0.1",
        stable_version: "1.0.0",
        canary_version: null,
        to_stable: "1.0.0",
        to_canary: "1.0.1",
        weight: 20,
      },
    ]);
  });

  it("measures each set's requests, errors, error rate and P99 as PromQL does, against a real Prometheus", async () => {
    // Both sets run, one replica each. Prometheus scrapes their admin listeners from the file_sd file the
    // rollout step wrote; the window is taken between two quiet moments, so both sides see the same counters.
    const prometheus = await Prometheus.start(project.scrapeTargetsFile);
    try {
      await prometheus.waitForTargets(2);
      const urls = {
        stable: await project.adminUrlsOf("stable"),
        canary: await project.adminUrlsOf("canary"),
      };
      await project.setChaos({ mode: "error", rate: 0.3 }, "canary");
      // Every series (the canary's 500s too, and the unmatched 404s) exists before the window opens.
      await served(200);
      await httpGet(`${project.publicUrl}/no-such-route`);
      const quiet = () => new Promise((resolve) => setTimeout(resolve, 2500));
      await quiet();
      const t1 = Date.now() / 1000;
      const start = { stable: await scrapeAll(urls.stable), canary: await scrapeAll(urls.canary) };
      const window = await served(1500);
      expect(window["HTTP 500"], JSON.stringify(window)).toBeGreaterThan(0); // the canary's, on purpose
      for (let i = 0; i < 30; i++) await httpGet(`${project.publicUrl}/no-such-route-${i}`);
      await quiet();
      const t2 = Date.now() / 1000;
      const end = { stable: await scrapeAll(urls.stable), canary: await scrapeAll(urls.canary) };
      const matched = 'path!~"/healthz|/metrics|/chaos|unmatched"';
      const requests = `http_requests_total{${matched}}`;
      const errors = `http_requests_total{${matched},status_code=~"5.."}`;
      const buckets = `http_request_duration_seconds_bucket{${matched}}`;
      // The counters' change between the last samples before t1 and t2 (quiet then: the gate's own scrapes
      // saw the same values). increase() over the same range would extrapolate each series to the range's
      // edges on its own (by up to half a scrape interval, less for a counter near zero), so a ratio of two
      // increases drifts by points: the gate's window has exact edges, its two scrapes.
      const between = (selector: string, by: string) =>
        `(sum by (${by}) (${selector} @ ${t2.toFixed(3)}) - sum by (${by}) (${selector} @ ${t1.toFixed(3)}))`;
      // A set with no 5xx series has an error rate of 0, not no answer.
      const errorRateOf = (delta: typeof between) =>
        `(${delta(errors, "set")} or ${delta(requests, "set")} * 0) / ${delta(requests, "set")} * 100`;
      const p99Of = (delta: typeof between) =>
        `histogram_quantile(0.99, ${delta(buckets, "set, le")}) * 1000`;
      const bySet = async (promql: string) =>
        Object.fromEntries((await prometheus.query(promql, t2)).map((r) => [r.metric.set, r.value]));
      const exact = {
        requests: await bySet(between(requests, "set")),
        errorRate: await bySet(errorRateOf(between)),
        p99: await bySet(p99Of(between)),
      };
      for (const set of ["stable", "canary"] as const) {
        const ours = setFacts(set, windowStats(start[set].map((s, i) => ({ start: s, end: end[set][i] }))));
        expect(ours.requests, set).toBeGreaterThan(set === "canary" ? 100 : 800);
        // The same counters: the same numbers, to the digit the gate hands OPA.
        expect(ours.requests, set).toBe(exact.requests[set]);
        expect(ours.error_rate_percent, set).toBe(Math.round(exact.errorRate[set] * 100) / 100);
        expect(ours.p99_latency_ms, set).toBe(Math.round(exact.p99[set]));
      }
      // The canary failed about 30 % of its requests; stable none.
      expect(exact.errorRate.canary).toBeGreaterThan(15);
      expect(exact.errorRate.stable).toBe(0);
    } finally {
      await project.setChaos({ mode: "none" }, "canary");
      await prometheus.stop();
    }
  });

  it("refuses to promote a canary that fails requests, naming both error rates, and changes nothing", async () => {
    const containers = await project.containersOf("app");
    const nginxHealth = (await httpGet(`${project.publicUrl}/nginx-health`)).body;
    const from = historyLength();
    await project.setChaos({ mode: "error", rate: 0.5 }, "canary");
    await setMode("stable");
    try {
      const { result } = await underLoad(() => project.failedUp());
      expect(result).toContain("[OPA/CANARY] Policy FAILED");
      expect(result).toMatch(
        new RegExp(
          String.raw`Canary error rate \(\d+\.\d\d%\) exceeds stable \(0\.00%\) by \d+\.\d\d points; at most 1\.00 allowed over the last ${WINDOW_S}s`,
        ),
      );
      expect(result).toContain("Nothing changed: 1.0.1 keeps running as the canary");
      expect(result).toContain("to abort, set service.version back to 1.0.0 (mode canary)");
    } finally {
      await project.setChaos({ mode: "none" }, "canary");
      await setMode("canary");
    }
    expect(await project.containersOf("app")).toEqual(containers);
    expect((await httpGet(`${project.publicUrl}/nginx-health`)).body).toBe(nginxHealth);
    expect(await versions()).toEqual({ stable: "1.0.0", canary: "1.0.1", mode: "canary" });
    const [refused] = releasesSince(from);
    expect(refused).toMatchObject({ action: "canary_promoted", allowed: false, judgement: "canary" });
    expect(refused.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    const gate = readHistory(project.historyFile)
      .events.slice(from)
      .find((e) => e.type === "gate" && e.gate === "canary");
    expect(gate?.input).toMatchObject({
      window_seconds: WINDOW_S,
      canary: { version: "1.0.1" },
      stable: { version: "1.0.0", errors: 0 },
    });
  });

  it("refuses to promote a canary slower than stable on the P99 ratio", async () => {
    await project.setChaos({ mode: "slow", duration_ms: 300 }, "canary");
    await setMode("stable");
    try {
      const { result } = await underLoad(() => project.failedUp());
      expect(result).toMatch(
        new RegExp(
          String.raw`Canary P99 latency \(\d+ ms\) exceeds 1\.50 × max\(stable \d+ ms, floor 100 ms\) = [\d.]+ ms over the last ${WINDOW_S}s`,
        ),
      );
      // 300 ms is under the absolute maximum (500 ms): only the comparison with stable refuses it.
      expect(result).not.toMatch(/^\s*- P99 latency \(/m);
    } finally {
      await project.setChaos({ mode: "none" }, "canary");
      await setMode("canary");
    }
    expect(await versions()).toEqual({ stable: "1.0.0", canary: "1.0.1", mode: "canary" });
  });

  it("says, without deploying anything, that service/ changed under a running version", async () => {
    const containers = await project.containersOf("app");
    // A change that reaches the bundle (esbuild drops comments): an export of the entry module stays.
    const change = '\nexport const CHANGED = "a change without a new version";\n';
    project.editFile("service/server.ts", (t) => `${t}${change}`);
    try {
      const output = await project.failedUp();
      expect(output).toContain('service.version "1.0.1" is the canary version and runs image');
      expect(output).toContain("Set a new service.version in manifest.yaml for the changed code");
    } finally {
      project.editFile("service/server.ts", (t) => t.replace(change, ""));
    }
    expect(await project.containersOf("app")).toEqual(containers);
  });

  it("promotes a healthy canary under load with no failed request; then every request answers it as stable", async () => {
    const from = historyLength();
    await setMode("stable");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.1", canary: null, mode: "stable" });
    expect(await served(200)).toEqual({ "stable 1.0.1": 200 });
    expect(await project.containersOf("app")).toHaveLength(1);
    expect(releasesSince(from)).toMatchObject([
      { action: "canary_promoted", allowed: true, version: "1.0.1", to_stable: "1.0.1", to_canary: null },
    ]);
    const release = (await project.output("release")) as { retained: { version: string }[] };
    expect(release.retained.map((r) => r.version)).toEqual(["1.0.0"]);
  });

  it("changes a running canary to another version under load with no failed request", async () => {
    await setMode("canary");
    setVersion("1.0.2");
    await project.up();
    expect(await versions()).toEqual({ stable: "1.0.1", canary: "1.0.2", mode: "canary" });
    const from = historyLength();
    setVersion("1.0.3");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.1", canary: "1.0.3", mode: "canary" });
    expect(await served(40, { "X-Canary": "always" })).toEqual({ "canary 1.0.3": 40 });
    expect(releasesSince(from)).toMatchObject([
      {
        action: "canary_changed",
        allowed: true,
        version: "1.0.3",
        canary_version: "1.0.2",
        to_canary: "1.0.3",
      },
    ]);
    // 1.0.2's image went with it: only the stable, retained and running canary versions keep theirs.
    expect(await appImageVersions()).toEqual(["1.0.0", "1.0.1", "1.0.3"]);
  });

  it("aborts a canary under load with no failed request", async () => {
    const from = historyLength();
    setVersion("1.0.1");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.1", canary: null, mode: "stable" });
    expect(await served(100)).toEqual({ "stable 1.0.1": 100 });
    expect(releasesSince(from)).toMatchObject([
      { action: "canary_aborted", allowed: true, version: "1.0.3", canary_version: "1.0.3", to_canary: null },
    ]);
    expect(await appImageVersions()).toEqual(["1.0.0", "1.0.1"]);
  });

  it("refuses, in mode stable, a version that never ran as a canary with the policy's sentence", async () => {
    const containers = await project.containersOf("app");
    await setMode("stable");
    setVersion("1.0.9");
    try {
      const output = await project.failedUp();
      expect(output).toContain("[OPA/RELEASE] Policy FAILED");
      expect(output).toContain("1.0.9 has not run as a canary: set mode canary, pulumi up, then promote");
    } finally {
      setVersion("1.0.1");
    }
    expect(await project.containersOf("app")).toEqual(containers);
    expect(await versions()).toEqual({ stable: "1.0.1", canary: null, mode: "stable" });
  });

  it("rolls, when require_canary is off, to a version that never ran as a canary under load with no failed request, recorded unjudged", async () => {
    project.setThreshold("release", "require_canary", false);
    const from = historyLength();
    setVersion("1.1.0");
    try {
      const { load } = await underLoad(() => project.up());
      expectNoFailure(load);
    } finally {
      setVersion("1.0.1");
      project.setThreshold("release", "require_canary", true);
    }
    expect(await versions()).toEqual({ stable: "1.1.0", canary: null, mode: "stable" });
    expect(await served(100)).toEqual({ "stable 1.1.0": 100 });
    const [unjudged] = releasesSince(from);
    expect(unjudged).toMatchObject({
      action: "release_unjudged",
      allowed: true,
      version: "1.1.0",
      stable_version: "1.0.1",
      judgement: "release",
      reason: "1.1.0 has not run as a canary",
    });
    expect(unjudged.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    const release = (await project.output("release")) as { retained: { version: string }[] };
    expect(release.retained.map((r) => r.version)).toEqual(["1.0.1", "1.0.0"]);
  });

  it("rolls back to a retained stable version under load with no failed request, on its recorded image", async () => {
    const from = historyLength();
    setVersion("1.0.0");
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(await versions()).toEqual({ stable: "1.0.0", canary: null, mode: "stable" });
    expect(await served(100)).toEqual({ "stable 1.0.0": 100 });
    const [rollback] = releasesSince(from);
    expect(rollback).toMatchObject({
      action: "rolled_back",
      allowed: true,
      version: "1.0.0",
      judgement: "release",
    });
    expect(rollback.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    // Nothing to do now: the same up again replaces nothing.
    const { steps } = await project.up();
    expect(steps.filter((s) => s.startsWith("app-"))).toEqual([]);
  });

  it("deploys directly in mode stable after pulumi destroy: stable at once, recorded unjudged as the first deploy", async () => {
    await project.stack.destroy({ onOutput: () => undefined });
    expect(await project.containersOf("app")).toEqual([]);
    const from = historyLength();
    setVersion("2.0.0");
    await project.up();
    expect(await versions()).toEqual({ stable: "2.0.0", canary: null, mode: "stable" });
    expect(await served(50)).toEqual({ "stable 2.0.0": 50 });
    expect(releasesSince(from)).toMatchObject([
      {
        action: "release_unjudged",
        allowed: true,
        version: "2.0.0",
        reason: "first deploy",
        judgement: null,
      },
    ]);
    // The images of the destroyed stack's versions went with it.
    const images = await project.docker("images", "--format", "{{.Repository}}:{{.Tag}}");
    expect(
      images.split("\n").filter((i) => i.startsWith(project.dockerPrefix) && i.includes("app:")),
    ).toEqual([expect.stringMatching(/:2\.0\.0-[0-9a-f]{8}$/)]);
  });
});
