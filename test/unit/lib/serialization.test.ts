import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lib-serialized-"));
const server = http.createServer((req, res) => {
  req.resume();
  const result = {
    allow: false,
    violations: ["Error rate (15.00%) exceeds maximum threshold (1.00%) over the last 30s"],
    checks: [],
  };
  req.on("end", () => res.end(JSON.stringify({ decision_id: "ser-1", result })));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

// The gates capture these modules by value into a Pulumi dynamic provider, which rebuilds them in another
// process. This runs them the same way: serialized by @pulumi/pulumi, then loaded in a fresh Node.
it(
  "works after Pulumi serializes it into a dynamic provider, thrown errors keeping their message",
  { timeout: 60_000 },
  async () => {
    const socketPath = path.join(dir, "opa.sock");
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const serialized = path.join(dir, "serialized.js");
    await run(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "fixtures", "serialize-lib.ts"), serialized],
      { cwd: ROOT },
    );

    const args = {
      socketPath,
      missingSocket: path.join(dir, "none.sock"),
      historyFile: path.join(dir, "history.jsonl"),
    };
    const script = `require(${JSON.stringify(serialized)}).handler(${JSON.stringify(args)}).then((r) => console.log(JSON.stringify(r)))`;
    const { stdout } = await run(process.execPath, ["-e", script], {
      cwd: ROOT,
      env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") },
    });

    expect(JSON.parse(stdout)).toEqual({
      facts: { error_rate_percent: 15, p99_latency_ms: 0, requests: 23 - 3, window_seconds: 30 },
      denied:
        "[OPA/CANARY] Policy FAILED (decision ser-1)\n  - Error rate (15.00%) exceeds maximum threshold (1.00%) over the last 30s",
      deniedKeepsVerdict: "ser-1",
      unreachable: `OPA unreachable at unix socket ${args.missingSocket} (ENOENT): is the OPA container running?`,
      unreachableKind: "unreachable",
      history: ["gate"],
    });
  },
);
