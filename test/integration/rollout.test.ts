// Changes to a running stack under load, with the real engine (its one set: the first version, a canary,
// then promoted; test/integration/canary.test.ts runs two): every change starts its new containers beside
// the old ones, rotates them in by an nginx reload once they answer, rotates the old ones out, and lets
// them drain before they stop — so no request fails. Each test drives its own bounded load (keep-alive
// and new-connection clients) through the stack's 127.0.0.1 ingress and counts failed requests.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadResult } from "../../bench/load";
import { httpGet, TestProject, underLoad as underLoadOf } from "./support/project";

let project: TestProject;

beforeAll(async () => {
  project = await TestProject.create({
    name: "rollout",
    // A short window: the promotion below is judged on the load it runs under.
    manifest: (t) => t.replace(/observation_window_s: \d+/, "observation_window_s: 5"),
  });
  await project.up();
});

afterAll(async () => {
  await project?.dispose();
});

/** Runs `change` under the bounded load of support/project.ts through this stack's ingress. */
function underLoad<T>(change: () => Promise<T>) {
  return underLoadOf(project.publicUrl, change, 150);
}

/**
 * Watches this stack's container lifecycle events from now on ("<action> <name>", in order) until the
 * returned function is called. Docker keeps only its last events in memory (healthcheck execs push them
 * out), so they are streamed while the change runs rather than asked for afterwards.
 */
function watchContainerEvents(): () => Promise<string[]> {
  const events = ["create", "start", "kill", "die", "stop", "destroy"].flatMap((e) => [
    "--filter",
    `event=${e}`,
  ]);
  const child = spawn(
    "docker",
    [
      "events",
      "--filter",
      "type=container",
      "--filter",
      `label=swiftdeploy.stack=${project.stackName}`,
      ...events,
      "--format",
      '{{.Action}} {{index .Actor.Attributes "name"}}',
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last events of the change
    child.kill();
    await new Promise((resolve) => child.on("close", resolve));
    return text.split("\n").filter(Boolean);
  };
}

function version(): Promise<string> {
  return httpGet(`${project.publicUrl}/`).then((r) => JSON.parse(r.body).version);
}

function expectNoFailure(load: LoadResult): void {
  expect({ failures: load.failures, byKind: load.failuresByKind }).toEqual({ failures: 0, byKind: {} });
  expect(load.requests).toBeGreaterThan(200);
}

describe("a rollout under load", () => {
  it("of a new version starts the new container before the old one stops, loses no request, and leaves no old container", async () => {
    const before = await project.containersOf("app");
    expect(before).toHaveLength(1);
    const stopWatching = watchContainerEvents();
    await new Promise((resolve) => setTimeout(resolve, 300)); // docker events is listening
    project.editFile("manifest.yaml", (t) => t.replace(/version: "1\.0\.0"/, 'version: "1.0.1"'));
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);

    const after = await project.containersOf("app");
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(await project.containerIds("app")).toHaveLength(1); // the old one is gone, not only stopped
    expect(await version()).toBe("1.0.1");

    const events = await stopWatching();
    const created = events.indexOf(`create ${after[0]}`);
    const oldStopped = events.findIndex((e) => e.endsWith(` ${before[0]}`));
    expect(created, events.join("\n")).toBeGreaterThanOrEqual(0);
    expect(oldStopped, events.join("\n")).toBeGreaterThan(created);
    // Stopped by SIGTERM and a grace, not removed while it ran: the app drained.
    expect(events.slice(oldStopped).filter((e) => e.endsWith(` ${before[0]}`))).toEqual([
      `kill ${before[0]}`,
      `die ${before[0]}`,
      `stop ${before[0]}`,
      `destroy ${before[0]}`,
    ]);
  });

  it("scaling up adds replicas beside the running one, and down removes them, losing no request either way", async () => {
    const [running] = await project.containersOf("app");
    project.editFile("manifest.yaml", (t) => t.replace(/^(\s*replicas:) \d+/m, "$1 3"));
    const up = await underLoad(() => project.up());
    expectNoFailure(up.load);
    const three = await project.containersOf("app");
    expect(three).toHaveLength(3);
    expect(three).toContain(running);
    const adminUrls = await project.adminUrls();
    expect(adminUrls).toHaveLength(3);
    // Prometheus finds exactly the replicas in rotation where Docker published them.
    const targets = JSON.parse(fs.readFileSync(project.scrapeTargetsFile, "utf8")) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(targets.flatMap((t) => t.targets.map((target) => `http://${target}`)).sort()).toEqual(
      [...adminUrls].sort(),
    );
    expect(targets.map((t) => t.labels.replica).sort()).toEqual(["0", "1", "2"]);

    project.editFile("manifest.yaml", (t) => t.replace(/^(\s*replicas:) \d+/m, "$1 1"));
    const down = await underLoad(() => project.up());
    expectNoFailure(down.load);
    expect(await project.containersOf("app")).toEqual([running]);
    expect(await project.containerIds("app")).toHaveLength(1);
  });

  it("of a mode change (a promotion judged on the load it runs under) loses no request", async () => {
    await project.stack.setConfig("swiftdeploy:mode", { value: "stable" });
    const { load } = await underLoad(() => project.up());
    expectNoFailure(load);
    expect(JSON.parse((await httpGet(`${project.publicUrl}/`)).body)).toMatchObject({
      set: "stable",
      mode: "stable",
    });
    // Back to mode canary with the stable version: no canary to run, nothing replaced, the stack runs stable.
    const running = await project.containersOf("app");
    await project.stack.setConfig("swiftdeploy:mode", { value: "canary" });
    const { steps } = await project.up();
    expect(steps.filter((s) => s.startsWith("app-"))).toEqual([]);
    expect(await project.containersOf("app")).toEqual(running);
    expect((await project.stack.outputs()).mode.value).toBe("stable");
  });

  it("with a config nginx -t refuses fails pulumi up with nginx's message, and nginx keeps serving the old one", async () => {
    const healthBefore = (await httpGet(`${project.publicUrl}/nginx-health`)).body;
    project.editFile("templates/nginx.conf.liquid", (t) =>
      t.replace("server_tokens off;", "server_tokens off;\n  no_such_directive on;"),
    );
    try {
      const { load, result } = await underLoad(() => project.failedUp());
      expect(result).toContain("nginx -t refused the new config; nginx keeps serving the one it has");
      expect(result).toContain('unknown directive "no_such_directive"');
      expectNoFailure(load);
      expect((await httpGet(`${project.publicUrl}/nginx-health`)).body).toBe(healthBefore);
    } finally {
      project.editFile("templates/nginx.conf.liquid", (t) => t.replace("\n  no_such_directive on;", ""));
    }
    // The same config again: nothing to apply, nginx never saw the refused one.
    const { steps } = await project.up();
    expect(steps).not.toContain("ingress-config update");
  });

  it("of a canary whose container never answers fails pulumi up naming the probe, while stable serves every request", async () => {
    const [running] = await project.containersOf("app");
    const versionBefore = await version();
    project.editFile("service/server.ts", (t) => `process.exit(3);\n${t}`);
    project.editFile("manifest.yaml", (t) => t.replace(/version: "[^"]+"/, 'version: "9.9.9-broken"'));
    try {
      const { load, result } = await underLoad(() => project.failedUp());
      expect(result).toMatch(/not ready within 60 s/);
      // The probe names the container and its port; its process exits at once, so Docker publishes nothing.
      expect(result).toMatch(
        /app-canary-0: GET http:\/\/127\.0\.0\.1:<\S+-app-[0-9a-f]{8}-0's \d+\/tcp>\/healthz -> \S+ publishes no \d+\/tcp now: (restarting|exited) \(exit code 3\)/,
      );
      expectNoFailure(load);
      expect(await version()).toBe(versionBefore);
      expect(await project.containersOf("app")).toContain(running);
    } finally {
      project.editFile("service/server.ts", (t) => t.replace("process.exit(3);\n", ""));
      project.editFile("manifest.yaml", (t) =>
        t.replace(/version: "9\.9\.9-broken"/, `version: "${versionBefore}"`),
      );
    }
    // The next pulumi up removes the broken canary; stable stays untouched. (The gate had let the canary
    // through before its container failed: the stack plans from its last outputs, which never named it.)
    await project.up();
    expect(await project.containerIds("app")).toHaveLength(1);
    expect(await project.containersOf("app")).toEqual([running]);
  });
});
