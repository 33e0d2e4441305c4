// The stack with the real engine, Docker provider, OPA and nginx: one deploy serves the assertions about
// health, outputs, idempotence, previews, the infrastructure gate and convergence; a second stack shows a
// denied first deploy creating nothing. Both are destroyed at the end, and checked to leave nothing. Who
// reaches what, probed from inside the stack, is security.test.ts. Each test reads only the history events
// it caused (a baseline first), so none depends on another's.
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../lib/history";
import { probeOnce, type ProbeResult } from "../../components/readiness-provider";
import { httpGet, TestProject } from "./support/project";

let project: TestProject;
/** Each container's health route, probed once from the host the moment the first `pulumi up` returned. */
let rightAfterUp: Record<string, ProbeResult>;

beforeAll(async () => {
  project = await TestProject.create({ name: "stack" });
  await project.up();
  rightAfterUp = await probeHealthRoutes();
});

async function probeHealthRoutes(): Promise<Record<string, ProbeResult>> {
  const outputs = await project.stack.outputs();
  const [opa, app, nginx] = await Promise.all([
    probeOnce({ name: "opa", url: "http://opa/health", socketPath: outputs.opaSocket.value }, 1000),
    probeOnce({ name: "app-0", url: `${(await project.adminUrls())[0]}/healthz` }, 1000),
    probeOnce({ name: "nginx", url: `${project.publicUrl}/nginx-health` }, 1000),
  ]);
  return { opa, app, nginx };
}

afterAll(async () => {
  await project?.dispose();
});

describe("a deployed stack", () => {
  it("returns from pulumi up only once OPA, the app and nginx answer their health routes", () => {
    expect(rightAfterUp).toEqual({
      opa: { ok: true, detail: "HTTP 200" },
      app: { ok: true, detail: "HTTP 200" },
      nginx: { ok: true, detail: "HTTP 200" },
    });
  });

  it("has Docker's healthcheck report every container healthy", async () => {
    for (const role of ["opa", "app", "nginx"] as const) {
      for (const container of await project.containersOf(role)) await waitForHealthy(container);
    }
  });

  it("answers GET / through the public port with the canary app", async () => {
    const { status, body } = await httpGet(`${project.publicUrl}/`);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ service: "swiftdeploy", mode: "canary", version: "1.0.0" });
  });

  it("exports the outputs the dashboard and users read", async () => {
    const outputs = await project.stack.outputs();
    expect(outputs.publicUrl.value).toBe(project.publicUrl);
    // One per replica, on loopback; where exactly is Docker's choice (security.test.ts probes them).
    expect(outputs.adminUrls.value).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    expect(outputs.opaSocket.value).toBe(project.opaSocket);
    expect(outputs.mode.value).toBe("canary");
    expect(outputs.historyFile.value).toBe(project.historyFile);
    expect(outputs.infrastructureVerdict.value).toMatchObject({ allow: true, violations: [] });
    expect(outputs.infrastructureVerdict.value.decisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps admin routes off the public port and serves them on the loopback admin port", async () => {
    expect((await httpGet(`${project.publicUrl}/metrics`)).status).toBe(404);
    expect((await httpGet(`${project.publicUrl}/chaos`)).status).toBe(404);
    const [adminUrl] = await project.adminUrls();
    const metrics = await httpGet(`${adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("app_mode 1");
    // Published once, on loopback, at the port the output names.
    const [app] = await project.containersOf("app");
    expect(await project.docker("port", app)).toMatch(
      new RegExp(`^\\d+/tcp -> 127\\.0\\.0\\.1:${new URL(adminUrl).port}$`),
    );
  });

  it("serves OPA on the Unix socket only: no published port, no network but the internal one", async () => {
    expect(await project.docker("port", project.container("opa"))).toBe("");
    const networks = await project.docker(
      "inspect",
      "--format",
      "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
      project.container("opa"),
    );
    expect(networks.trim()).toBe(`${project.dockerPrefix}-opa-internal`);
    const internal = await project.docker("network", "inspect", "--format", "{{.Internal}}", networks.trim());
    expect(internal).toBe("true");
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(project.opaSocket, () => socket.write("GET /health HTTP/1.0\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk) => (data += chunk));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.0 200/);
  });

  it("records the gate decision with its decision id and the deploy in history.jsonl", () => {
    const { events, skipped } = readHistory(project.historyFile);
    expect(skipped).toEqual([]);
    const gate = events.find((e) => e.type === "gate" && e.gate === "infrastructure");
    expect(gate).toMatchObject({ v: 1, stack: project.stackName, result: { allow: true } });
    expect(gate?.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(gate?.input as object).sort()).toEqual([
      "cpu_load",
      "disk_free_gb",
      "mem_free_percent",
    ]);
    expect(events.find((e) => e.type === "deploy")).toMatchObject({ mode: "canary", version: "1.0.0" });
  });

  it("touches nothing but the gate on a second pulumi up with nothing changed", async () => {
    const { summary, steps } = await project.up();
    expect(steps, JSON.stringify(summary.resourceChanges)).toEqual(["infrastructure-gate update"]);
  });

  it("previews exactly the change an edit of one manifest value makes", async () => {
    project.editFile("manifest.yaml", (t) => t.replace("chaos_enabled: true", "chaos_enabled: false"));
    try {
      const { steps, output } = await project.previewSteps();
      // The gate decides on every up; the setting lives in the app's environment, so a new generation of
      // app containers starts beside the old one, is probed, rotated in by the ingress config, and the old
      // generation goes; the audit record notes the deploy. Nothing else (OPA, nginx, networks) changes.
      expect(steps).toEqual([
        "app-canary-<generation>-0 create",
        "app-canary-<generation>-0 delete",
        "app-canary-ready update",
        "audit-events update",
        "infrastructure-gate update",
        "ingress-config update",
      ]);
      // Preview does not decide, but shows what the running OPA says now.
      expect(output).toMatch(/\[OPA\/INFRASTRUCTURE\] would pass now \(decision [0-9a-f-]{36}\)/);
    } finally {
      project.editFile("manifest.yaml", (t) => t.replace("chaos_enabled: false", "chaos_enabled: true"));
    }
  });

  it("refuses a later deploy that the infrastructure policy denies and leaves app and nginx as they were", async () => {
    const running = async () => [...(await project.containerIds("app")), await project.containerId("nginx")];
    const before = await running();
    const recorded = readHistory(project.historyFile).events.length;
    project.editFile("manifest.yaml", (t) => t.replace('version: "1.0.0"', 'version: "1.0.1"'));
    project.setThreshold("infrastructure", "min_disk_free_gb", 1_000_000);
    try {
      const output = await project.failedUp();
      expect(output).toContain("[OPA/INFRASTRUCTURE] Policy FAILED");
      expect(output).toMatch(/Disk free \([\d.]+ GB\) is below minimum threshold \(1000000\.0 GB\)/);
      expect(await running()).toEqual(before);
      const { body } = await httpGet(`${project.publicUrl}/`);
      expect(JSON.parse(body).version).toBe("1.0.0");
      const events = readHistory(project.historyFile).events.slice(recorded);
      expect(events.map((e) => e.type)).toEqual(["gate", "deploy_failed"]);
      expect(String(events[1].reason)).toContain("Disk free");
    } finally {
      project.setThreshold("infrastructure", "min_disk_free_gb", 10);
      project.editFile("manifest.yaml", (t) => t.replace('version: "1.0.1"', 'version: "1.0.0"'));
    }
    // Back to the old thresholds: OPA gets them (its container is replaced), and the gate allows again.
    await project.up();
  });

  describe("tells each OPA failure apart in the failed pulumi up", () => {
    it("says OPA is unreachable, naming the socket, when nothing listens", async () => {
      await project.docker("stop", project.container("opa"));
      try {
        const output = await project.failedUp();
        expect(output).toContain(`OPA unreachable at unix socket ${project.opaSocket}`);
      } finally {
        await project.docker("start", project.container("opa"));
      }
    });

    it("says OPA timed out, naming the limit, when it accepts but never answers", async () => {
      await waitForHealthy(project.container("opa"));
      await project.docker("pause", project.container("opa"));
      try {
        const output = await project.failedUp();
        expect(output).toMatch(/OPA did not answer within 2000 ms/);
      } finally {
        await project.docker("unpause", project.container("opa"));
      }
    });

    it.each([
      [
        "an undefined decision, naming the package",
        "{}",
        /no decision at data\.swiftdeploy\.infrastructure\.decision/,
      ],
      ["a malformed answer, quoting it", "not json at all", /malformed.*not json at all/is],
    ])("reports %s", async (_what, body, expected) => {
      await project.docker("stop", project.container("opa"));
      const fake = await fakeOpaOn(project.opaSocket, body);
      try {
        const output = await project.failedUp();
        expect(output).toMatch(expected);
      } finally {
        await new Promise((resolve) => fake.close(resolve));
        await project.docker("start", project.container("opa"));
        await waitForHealthy(project.container("opa"));
      }
    });
  });

  it("recreates a container removed by hand on pulumi up --refresh", async () => {
    const [removed] = await project.containersOf("app");
    await project.docker("rm", "-f", removed);
    await project.up({ refresh: true });
    expect((await probeHealthRoutes()).app).toEqual({ ok: true, detail: "HTTP 200" });
    expect((await httpGet(`${project.publicUrl}/`)).status).toBe(200);
    for (const container of await project.containersOf("app")) await waitForHealthy(container);
  });

  it("keeps nginx answering when the app container is replaced, with no nginx restart", async () => {
    const nginxBefore = await project.containerId("nginx");
    const appBefore = await project.containerIds("app");
    project.editFile("manifest.yaml", (t) => t.replace("chaos_enabled: true", "chaos_enabled: false"));
    await project.up();
    const appAfter = await project.containerIds("app");
    expect(appAfter).toHaveLength(1);
    expect(appBefore).not.toContain(appAfter[0]);
    expect(await project.containerId("nginx")).toBe(nginxBefore);
    expect((await httpGet(`${project.publicUrl}/`)).status).toBe(200);
  });
});

describe("a first deploy the infrastructure policy denies", () => {
  let denied: TestProject;

  beforeAll(async () => {
    denied = await TestProject.create({ name: "deny" });
    denied.setThreshold("infrastructure", "min_mem_free_percent", 100.5);
  });

  afterAll(async () => {
    await denied?.dispose();
  });

  it("fails pulumi up with OPA's violation and creates no app or nginx container", async () => {
    const output = await denied.failedUp();
    expect(output).toContain("[OPA/INFRASTRUCTURE] Policy FAILED");
    expect(output).toMatch(/Memory free \([\d.]+%\) is below minimum threshold \(100\.5%\)/);
    expect(await denied.containerIds("app")).toEqual([]);
    expect(await denied.containerId("nginx")).toBeNull();
    expect(await denied.containerId("opa")).not.toBeNull();
  });
});

describe("pulumi destroy", () => {
  it("leaves no container, network or image of the stack", async () => {
    await project.stack.destroy();
    expect(await project.leftovers()).toEqual([]);
    expect(fs.existsSync(path.dirname(project.historyFile))).toBe(true);
    const teardown = readHistory(project.historyFile).events.at(-1);
    expect(teardown?.type).toBe("teardown");
  });
});

async function waitForHealthy(container: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await project
      .docker("inspect", "--format", "{{.State.Health.Status}}", container)
      .catch(() => "");
    if (status === "healthy") return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${container} did not become healthy within 30 s`);
}

/** A stand-in OPA on the stack's socket that answers every request with `body`. */
async function fakeOpaOn(socketPath: string, body: string): Promise<import("node:http").Server> {
  const http = await import("node:http");
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return server;
}
