// Promotion with the real engine: `mode: stable` + `pulumi up` runs the canary gate, which watches the
// app's public traffic for the observation window (6 s here) and asks OPA. Chaos injected through the
// loopback admin port makes it refuse; a refused promotion leaves the canary container as it was.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../lib/history";
import { httpGet, steadyTraffic, TestProject } from "./support/project";

let project: TestProject;
const WINDOW_S = 6;

beforeAll(async () => {
  project = await TestProject.create({
    name: "promote",
    ingressPort: 18381,
    adminPort: 19381,
    manifest: (t) => t.replace(/observation_window_s: \d+/, `observation_window_s: ${WINDOW_S}`),
  });
  await project.up();
});

afterAll(async () => {
  await project?.dispose();
});

/** `mode stable` + `pulumi up` while traffic flows (if asked); the result of the up, or its failure text. */
async function promote(opts: {
  traffic: boolean;
  concurrency?: number;
}): Promise<{ ok: boolean; output: string }> {
  await project.stack.setConfig("swiftdeploy:mode", { value: "stable" });
  const stop = opts.traffic
    ? steadyTraffic(`${project.publicUrl}/`, {
        concurrency: opts.concurrency ?? 4,
        maxSeconds: 120,
        maxRequests: 5000,
      })
    : async () => 0;
  try {
    const { output } = await project.up();
    return { ok: true, output };
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  } finally {
    await stop();
  }
}

async function appMode(): Promise<string> {
  return JSON.parse((await httpGet(`${project.publicUrl}/`)).body).mode;
}

describe("promoting the canary", () => {
  it("refuses while 80% of requests fail, naming the error rate, and keeps the canary container", async () => {
    const before = await project.containerId("app-0");
    await project.setChaos({ mode: "error", rate: 0.8 });
    const { ok, output } = await promote({ traffic: true });
    expect(ok).toBe(false);
    expect(output).toContain("[OPA/CANARY] Policy FAILED");
    expect(output).toMatch(
      new RegExp(
        `Error rate \\([\\d.]+%\\) exceeds maximum threshold \\(1\\.00%\\) over the last ${WINDOW_S}s`,
      ),
    );
    expect(await project.containerId("app-0")).toBe(before);
    await project.setChaos({ mode: "none" });
    expect(await appMode()).toBe("canary");
  });

  it("refuses while requests take 2 s, naming the P99 latency", async () => {
    await project.setChaos({ mode: "slow", duration_ms: 2000 });
    try {
      const { ok, output } = await promote({ traffic: true, concurrency: 12 });
      expect(ok).toBe(false);
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
    const { ok, output } = await promote({ traffic: false });
    expect(ok).toBe(false);
    expect(output).toMatch(
      new RegExp(`Only 0 requests in the last ${WINDOW_S}s; at least 20 are needed to judge the canary`),
    );
    expect(await appMode()).toBe("canary");
  });

  it("records every refused promotion with its verdict and decision id", () => {
    const { events } = readHistory(project.historyFile);
    const refused = events.filter((e) => e.type === "mode_change" && e.allowed === false);
    expect(refused).toHaveLength(3);
    const gates = events.filter((e) => e.type === "gate" && e.gate === "canary");
    expect(gates).toHaveLength(3);
    for (const gate of gates) {
      expect(gate.decision_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(gate.input).toMatchObject({ window_seconds: WINDOW_S });
      expect((gate.result as { allow: boolean }).allow).toBe(false);
    }
  });

  it("promotes once a clean window passes, and GET / answers stable right after pulumi up returns", async () => {
    const { ok, output } = await promote({ traffic: true });
    expect(ok, output).toBe(true);
    const { status, body } = await httpGet(`${project.publicUrl}/`);
    expect(status).toBe(200);
    expect(JSON.parse(body).mode).toBe("stable");
    expect((await project.stack.outputs()).mode.value).toBe("stable");
    const metrics = await httpGet(`${project.adminUrl}/metrics`);
    expect(metrics.body).toMatch(/^app_mode 0$/m);
    const allowed = readHistory(project.historyFile)
      .events.filter((e) => e.type === "mode_change")
      .at(-1);
    expect(allowed).toMatchObject({ from: "canary", to: "stable", allowed: true });
  });

  it("switches back to canary with no gate, and records it", async () => {
    await project.stack.setConfig("swiftdeploy:mode", { value: "canary" });
    await project.up();
    expect(await appMode()).toBe("canary");
    const { events } = readHistory(project.historyFile);
    expect(events.filter((e) => e.type === "mode_change").at(-1)).toMatchObject({
      from: "stable",
      to: "canary",
      allowed: true,
    });
    // No canary gate decision was made for this direction: still the 3 refusals and 1 promotion.
    expect(events.filter((e) => e.type === "gate" && e.gate === "canary")).toHaveLength(4);
  });
});
