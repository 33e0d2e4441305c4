// Promotion of the first version (the only set, a canary with no stable baseline) with the real engine:
// `mode: stable` + `pulumi up` runs the canary gate, which watches the canary's public traffic for the
// observation window (6 s here) and asks OPA, which judges it on the absolute rules alone
// (test/integration/canary.test.ts judges a canary against stable). Chaos injected through the
// loopback admin port makes it refuse; a refused promotion leaves the canary container as it was. Each test
// judges only the history events its own `pulumi up` appended.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory, type HistoryEvent } from "../../lib/history";
import { httpGet, steadyTraffic, TestProject } from "./support/project";

let project: TestProject;
const WINDOW_S = 6;

beforeAll(async () => {
  project = await TestProject.create({
    name: "promote",
    manifest: (t) => t.replace(/observation_window_s: \d+/, `observation_window_s: ${WINDOW_S}`),
  });
  await project.up();
});

afterAll(async () => {
  await project?.dispose();
});

/**
 * `mode stable` + `pulumi up` while traffic flows (if asked): whether it passed, the up's output or failure
 * text, and the history events it appended.
 */
async function promote(opts: {
  traffic: boolean;
  concurrency?: number;
}): Promise<{ ok: boolean; output: string; events: HistoryEvent[] }> {
  await project.stack.setConfig("swiftdeploy:mode", { value: "stable" });
  const recorded = readHistory(project.historyFile).events.length;
  const appended = () => readHistory(project.historyFile).events.slice(recorded);
  const stop = opts.traffic
    ? steadyTraffic(`${project.publicUrl}/`, {
        concurrency: opts.concurrency ?? 4,
        maxSeconds: 120,
        maxRequests: 5000,
      })
    : async () => 0;
  try {
    const { output } = await project.up();
    await stop();
    return { ok: true, output, events: appended() };
  } catch (err) {
    await stop();
    return { ok: false, output: (err as Error).message, events: appended() };
  }
}

/** A refused promotion's record: one canary gate decision that denied, then the refused release. */
function expectRefusalRecorded(events: HistoryEvent[]): void {
  expect(events.map((e) => e.type)).toEqual(["gate", "gate", "release"]);
  const [infrastructure, canary, change] = events;
  expect(infrastructure).toMatchObject({ gate: "infrastructure" });
  expect(canary).toMatchObject({
    gate: "canary",
    input: { window_seconds: WINDOW_S, canary: { version: "1.0.0" } },
    result: { allow: false, notes: ["No stable baseline: judged on the absolute rules only"] },
  });
  expect(canary.input).not.toHaveProperty("stable");
  expect(canary.decision_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(change).toMatchObject({
    action: "canary_promoted",
    version: "1.0.0",
    stable_version: null,
    canary_version: "1.0.0",
    allowed: false,
    decision_id: canary.decision_id,
  });
}

async function appMode(): Promise<string> {
  return JSON.parse((await httpGet(`${project.publicUrl}/`)).body).mode;
}

describe("promoting the canary", () => {
  it("refuses while 80% of requests fail, naming the error rate, and keeps the canary container", async () => {
    const before = await project.containerIds("app");
    await project.setChaos({ mode: "error", rate: 0.8 });
    const { ok, output, events } = await promote({ traffic: true });
    expect(ok).toBe(false);
    expect(output).toContain("[OPA/CANARY] Policy FAILED");
    expect(output).toMatch(
      new RegExp(
        `Error rate \\([\\d.]+%\\) exceeds maximum threshold \\(1\\.00%\\) over the last ${WINDOW_S}s`,
      ),
    );
    expect(await project.containerIds("app")).toEqual(before);
    expectRefusalRecorded(events);
    await project.setChaos({ mode: "none" });
    expect(await appMode()).toBe("canary");
  });

  it("refuses while requests take 2 s, naming the P99 latency", async () => {
    await project.setChaos({ mode: "slow", duration_ms: 2000 });
    try {
      const { ok, output, events } = await promote({ traffic: true, concurrency: 12 });
      expect(ok).toBe(false);
      expectRefusalRecorded(events);
      expect(output).toMatch(
        new RegExp(
          `P99 latency \\(\\d+ ms\\) exceeds maximum threshold \\(500 ms\\) over the last ${WINDOW_S}s`,
        ),
      );
    } finally {
      await project.setChaos({ mode: "none" });
    }
    expect(await appMode()).toBe("canary");
  });

  it("refuses with no traffic, though healthchecks and scrapes go on, saying there is not enough data", async () => {
    const { ok, output, events } = await promote({ traffic: false });
    expect(ok).toBe(false);
    expectRefusalRecorded(events);
    expect(output).toMatch(
      new RegExp(`Only 0 requests in the last ${WINDOW_S}s; at least 20 are needed to judge the canary`),
    );
    expect(await appMode()).toBe("canary");
  });

  it("promotes once a clean window passes, and GET / answers stable right after pulumi up returns", async () => {
    const { ok, output, events } = await promote({ traffic: true });
    expect(ok, output).toBe(true);
    const { status, body } = await httpGet(`${project.publicUrl}/`);
    expect(status).toBe(200);
    expect(JSON.parse(body).mode).toBe("stable");
    expect((await project.stack.outputs()).mode.value).toBe("stable");
    for (const url of await project.adminUrls()) {
      expect((await httpGet(`${url}/metrics`)).body).toMatch(/^app_mode 0$/m);
    }
    const canary = events.filter((e) => e.type === "gate" && e.gate === "canary");
    expect(canary).toHaveLength(1);
    expect(canary[0]).toMatchObject({ result: { allow: true } });
    const releases = events.filter((e) => e.type === "release");
    expect(releases).toEqual([
      expect.objectContaining({
        action: "canary_promoted",
        to_stable: "1.0.0",
        to_canary: null,
        allowed: true,
        decision_id: canary[0].decision_id,
      }),
    ]);
    expect((await project.stack.outputs()).stableVersion.value).toBe("1.0.0");
  });

  it("does nothing in mode canary with the stable version: no gate, no container replaced, the stack runs stable", async () => {
    const before = await project.containerIds("app");
    await project.stack.setConfig("swiftdeploy:mode", { value: "canary" });
    const recorded = readHistory(project.historyFile).events.length;
    const { steps } = await project.up();
    expect(steps.filter((s) => s.startsWith("app-") || s.startsWith("canary-gate"))).toEqual([]);
    expect(await project.containerIds("app")).toEqual(before);
    expect(await appMode()).toBe("stable");
    expect((await project.stack.outputs()).mode.value).toBe("stable");
    const events = readHistory(project.historyFile).events.slice(recorded);
    expect(events.filter((e) => e.type === "release" || (e.type === "gate" && e.gate === "canary"))).toEqual(
      [],
    );
  });
});
