import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { opaHealthy, queryDecision, type OpaTarget } from "../../../lib/opa";

/** The opa that `npm run setup` builds (linked into $SWIFTDEPLOY_TOOLS/bin), else one on PATH. */
function findOpa(): string | undefined {
  const tools =
    process.env.SWIFTDEPLOY_TOOLS ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "swiftdeploy", "tools");
  const dirs = [path.join(tools, "bin"), ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean)];
  return dirs.map((dir) => path.join(dir, "opa")).find((file) => fs.existsSync(file));
}
const OPA_BIN = findOpa();

// A policy of this test's own, answering in the shape every swiftdeploy policy answers.
const POLICY = `package clienttest

default allow := false

allow if input.requests >= 20

violations contains msg if {
  not allow
  msg := sprintf("Only %d requests; at least 20 are needed", [input.requests])
}

decision := {
  "allow": allow,
  "violations": violations,
  "checks": [{"id": "min_requests", "title": "Minimum requests", "passed": allow,
              "observed": input.requests, "threshold": 20, "unit": "requests"}],
}
`;

let opa: ChildProcess | undefined;
let dir: string | undefined;

afterAll(() => {
  opa?.kill("SIGKILL");
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

async function startOpa(): Promise<{ target: OpaTarget; stderr: () => string }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opa-real-"));
  fs.writeFileSync(path.join(dir, "clienttest.rego"), POLICY);
  const socketPath = path.join(dir, "opa.sock");
  const args = ["run", "--server", "--addr", `unix://${socketPath}`, "--set", "decision_logs.console=true"];
  // Decision logs go to stderr: keep draining it (a full pipe would stall OPA), keep only the tail.
  opa = spawn(OPA_BIN!, [...args, path.join(dir, "clienttest.rego")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let tail = "";
  opa.stderr!.on("data", (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000)));
  const target = { socketPath, timeoutMs: 2000 };
  const deadline = Date.now() + 15_000;
  while (!(await opaHealthy(target))) {
    if (Date.now() > deadline || opa.exitCode !== null)
      throw new Error(`OPA did not become healthy:\n${tail}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { target, stderr: () => tail };
}

// npm test runs setup first, which builds OPA: a missing binary is a failure, never a silent skip.
it("finds the opa binary that npm run setup builds", () => {
  expect(OPA_BIN, "opa not found in $SWIFTDEPLOY_TOOLS/bin or on PATH: run npm run setup").toBeDefined();
});

describe.skipIf(OPA_BIN === undefined)(
  "the client against the real OPA binary (built by npm run setup)",
  () => {
    it(
      "gets allow and deny verdicts with decision ids over the Unix socket",
      { timeout: 30_000 },
      async () => {
        const { target } = await startOpa();

        const allowed = await queryDecision(target, "clienttest/decision", { requests: 25 });
        expect(allowed.decision.allow).toBe(true);
        expect(allowed.decision.violations).toEqual([]);
        expect(allowed.decisionId).toMatch(/^[0-9a-f-]{36}$/);

        const denied = await queryDecision(target, "clienttest/decision", { requests: 3 });
        expect(denied.decision).toEqual({
          allow: false,
          violations: ["Only 3 requests; at least 20 are needed"],
          checks: [
            {
              id: "min_requests",
              title: "Minimum requests",
              passed: false,
              observed: 3,
              threshold: 20,
              unit: "requests",
            },
          ],
        });
        expect(denied.decisionId).not.toBe(allowed.decisionId);

        await expect(queryDecision(target, "clienttest/nothing_here", {})).rejects.toMatchObject({
          kind: "undefined",
        });

        // Measured, not asserted: the cost of one decision over the socket.
        const durations: number[] = [];
        for (let i = 0; i < 200; i++) {
          const started = performance.now();
          await queryDecision(target, "clienttest/decision", { requests: i });
          durations.push(performance.now() - started);
        }
        durations.sort((a, b) => a - b);
        const p = (q: number) =>
          durations[Math.min(durations.length - 1, Math.floor(q * durations.length))].toFixed(2);
        console.log(
          `OPA over a Unix socket, 200 queries: p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, p99 ${p(0.99)} ms`,
        );
      },
    );
  },
);
