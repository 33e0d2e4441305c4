// The OPA server as its container runs it: the container's own command (components/opa.ts), with only the
// socket and policy paths moved into a temp folder, the real opa binary and the served policies/ files.
// OPA answers health and the gates' decisions, and refuses every other request by its own authorization.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opaContainerCommand } from "../../../components/opa";
import { opaHealthy, queryDecision } from "../../../lib/opa";
import { POLICY_PACKAGES } from "../../../lib/types";
import { toolsBinDir } from "../../support/project-copy";

const POLICIES = path.resolve(__dirname, "../../../policies");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-opa-server-"));
const socketDir = path.join(dir, "run");
const socketPath = path.join(socketDir, "opa.sock");
let opa: ChildProcess;
let output = "";

/** One request over the socket; the status and body OPA answered. */
function ask(method: string, route: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    const req = http.request({ socketPath, method, path: route, headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  const served = path.join(dir, "policies");
  fs.mkdirSync(served);
  for (const name of fs.readdirSync(POLICIES).filter((f) => !f.endsWith("_test.rego")))
    fs.copyFileSync(path.join(POLICIES, name), path.join(served, name));
  // As the program leaves it before OPA starts: readable by everyone.
  fs.mkdirSync(socketDir, { mode: 0o755 });
  fs.chmodSync(socketDir, 0o755);
  const [shell, ...args] = opaContainerCommand(socketPath, served);
  opa = spawn(shell, args, {
    env: { ...process.env, PATH: `${toolsBinDir()}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  opa.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const deadline = Date.now() + 15_000;
  while (!(await opaHealthy({ socketPath, timeoutMs: 1000 }))) {
    if (Date.now() > deadline || opa.exitCode !== null) throw new Error(`OPA did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 30_000);

afterAll(() => {
  opa?.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the OPA server's command", () => {
  it("makes the socket folder and the socket its owner's only", () => {
    expect((fs.statSync(socketDir).mode & 0o777).toString(8)).toBe("700");
    expect((fs.statSync(socketPath).mode & 0o777).toString(8)).toBe("600");
  });

  it.each(Object.entries(POLICY_PACKAGES))("answers the %s gate's decision path", async (_gate, pkg) => {
    const verdict = await queryDecision({ socketPath, timeoutMs: 2000 }, pkg, {});
    expect(verdict.decision.allow).toBe(false);
    expect(verdict.decisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers GET /health", async () => {
    expect((await ask("GET", "/health")).status).toBe(200);
  });

  it.each([
    ["PUT", "/v1/data/probe", { x: 1 }],
    ["PUT", "/v1/policies/x", undefined],
    ["PATCH", "/v1/data", [{ op: "add", path: "/probe", value: 1 }]],
    ["DELETE", "/v1/data/swiftdeploy", undefined],
    ["DELETE", "/v1/policies/authz.rego", undefined],
    ["GET", "/v1/data", undefined],
    ["GET", "/v1/data/swiftdeploy/thresholds", undefined],
    ["GET", "/v1/policies", undefined],
    ["POST", "/v1/data/system/authz/allow", { input: { method: "PUT", path: ["v1", "data"] } }],
    ["POST", "/v1/data/swiftdeploy/canary", { input: {} }],
    ["POST", "/v1/data/swiftdeploy/canary/decision?explain=full", { input: {} }],
    ["POST", "/v1/query", { query: "data" }],
    ["POST", "/", {}],
    ["GET", "/metrics", undefined],
    ["GET", "/v1/config", undefined],
  ])("refuses %s %s with 401", async (method, route, body) => {
    const answer = await ask(method, route, body);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "unauthorized" });
  });

  it("keeps deciding on the thresholds it started with after a refused write", async () => {
    const before = await queryDecision({ socketPath, timeoutMs: 2000 }, POLICY_PACKAGES.canary, {});
    const write = await ask("PUT", "/v1/data/swiftdeploy/thresholds/canary", { min_requests: 0 });
    expect(write.status).toBe(401);
    const after = await queryDecision({ socketPath, timeoutMs: 2000 }, POLICY_PACKAGES.canary, {});
    expect(after.decision.checks).toEqual(before.decision.checks);
    expect(after.decision.checks.find((c) => c.id === "min_requests")?.threshold).toBe(20);
  });
});
