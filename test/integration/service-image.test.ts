// The app's image as the stack builds it: bundle, `docker build service/`, run, and ask it over a port
// published on 127.0.0.1 only. Everything created here is named sdtest-svc-* and removed in afterAll.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, get } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleService } from "../../program/service-bundle";
import { testLabelArgs } from "../support/test-objects";

const run = promisify(execFile);
const IMAGE = "sdtest-svc-image:test";
const CONTAINER = `sdtest-svc-${randomBytes(4).toString("hex")}`;
const SERVICE_DIR = join(__dirname, "..", "..", "service");
const HEALTH_DEADLINE_MS = 60_000;

let hostPort = 0;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
  return stdout.trim();
}

function httpGet(path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port: hostPort, path, timeout: 2000, agent }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** Polls until `check` answers true; fails with the last thing seen once the deadline passes. */
async function waitFor(
  what: string,
  deadlineMs: number,
  check: () => Promise<[boolean, string]>,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  let last = "nothing yet";
  while (Date.now() < end) {
    try {
      const [ok, seen] = await check();
      if (ok) return;
      last = seen;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what} not reached within ${deadlineMs} ms; last seen: ${last}`);
}

beforeAll(async () => {
  await bundleService();
  await docker("build", "-t", IMAGE, SERVICE_DIR);
  await docker(
    "run",
    "-d",
    "--name",
    CONTAINER,
    ...testLabelArgs(),
    "-e",
    "SERVICE_NAME=sdtest-svc",
    "-e",
    "APP_VERSION=0.0.1-test",
    "-e",
    "APP_MODE=canary",
    // Docker picks the host port; read back below.
    "-p",
    "127.0.0.1::3000",
    IMAGE,
  );
  hostPort = Number((await docker("port", CONTAINER, "3000/tcp")).split("\n")[0].split(":").pop());
});

afterAll(async () => {
  // Each step on its own: a missing container must not keep the image from being removed.
  await docker("rm", "-f", CONTAINER).catch(() => undefined);
  await docker("rmi", "-f", IMAGE).catch(() => undefined);
});

describe("the service image", () => {
  it("answers 200 on /healthz through the published port", async () => {
    await waitFor("200 from /healthz", HEALTH_DEADLINE_MS, async () => {
      const { status, body } = await httpGet("/healthz");
      return [status === 200, `${status} ${body}`];
    });
    const root = JSON.parse((await httpGet("/")).body);
    expect(root).toMatchObject({ service: "sdtest-svc", mode: "canary", version: "0.0.1-test" });
  });

  it("runs the server as a non-root user on Debian's Node 18", async () => {
    expect(await docker("exec", CONTAINER, "id", "-u")).not.toBe("0");
    expect(await docker("inspect", "--format", "{{.Config.User}}", IMAGE)).toBe("10001:10001");
    expect(await docker("exec", CONTAINER, "node", "--version")).toMatch(/^v18\./);
  });

  it("is reported healthy by Docker's HEALTHCHECK", async () => {
    await waitFor("health status healthy", HEALTH_DEADLINE_MS, async () => {
      const status = await docker("inspect", "--format", "{{.State.Health.Status}}", CONTAINER);
      return [status === "healthy", status];
    });
  });

  it("does not publish the admin port, which still serves metrics inside the container", async () => {
    expect(await docker("port", CONTAINER)).not.toContain("9100");
    const metrics = await docker(
      "exec",
      CONTAINER,
      "node",
      "-e",
      "require('http').get('http://127.0.0.1:9100/metrics',r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>console.log(b))})",
    );
    expect(metrics).toContain("app_mode 1");
    expect(metrics).toMatch(/^http_requests_total\{method="GET",path="\/healthz",status_code="200"\} \d+$/m);
  });

  it("stops on docker stop at once, exiting 0 from its own SIGTERM handler, even with an idle keep-alive client", async () => {
    // On Node 18 server.close() waits for idle keep-alive connections (5 s keepAliveTimeout) unless the
    // server closes them itself; this is the one place the test suite runs the code on Node 18.
    const agent = new Agent({ keepAlive: true });
    expect((await httpGet("/", agent)).status).toBe(200);
    const began = Date.now();
    await docker("stop", "--time", "15", CONTAINER);
    const took = Date.now() - began;
    agent.destroy();
    // Under Docker's SIGKILL (after --time) the exit code would be 137; 0 means the handler ran.
    expect(await docker("inspect", "--format", "{{.State.ExitCode}}", CONTAINER)).toBe("0");
    expect(took).toBeLessThan(3_000);
    expect(await docker("logs", CONTAINER)).toContain("SIGTERM: shutting down");
  });
});
