// /metrics against Prometheus' own lint rules: client_golang's promlint (toolchain/promlint), the rules
// `promtool check metrics` applies. The app's whole exposition, process metrics and every series kind
// included, must be clean; prom-client's defaults as they come are not, which shows the linter bites.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Registry, collectDefaultMetrics } from "prom-client";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DROPPED_DEFAULT_METRICS } from "../../../service/metrics";
import { makeApp } from "./fixtures";

const run = promisify(execFile);
const MODULE = path.resolve(__dirname, "../../../toolchain/promlint");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-promlint-"));
const promlint = path.join(dir, "promlint");

beforeAll(async () => {
  // `npm run test:go` has compiled the packages already; this links the binary from Go's build cache.
  await run("go", ["build", "-o", promlint, "."], { cwd: MODULE, timeout: 290_000 });
}, 300_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs promlint on `text` (stdin); its exit code and the problems it printed. */
function lint(text: string): Promise<{ code: number | null; problems: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promlint, [], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, problems: stdout.split("\n").filter(Boolean), stderr }));
    child.stdin.end(text);
  });
}

describe("the app's /metrics", () => {
  it("passes Prometheus' lint rules, process metrics and every route's series included", async () => {
    const { publicApp, adminApp } = makeApp({ defaultMetrics: true, random: () => 0 });
    const app = publicApp.callback();
    await request(app).get("/");
    await request(app).get("/nope");
    await request(app).get("/healthz");
    const admin = adminApp.callback();
    await request(admin).post("/chaos").send({ mode: "error", rate: 1 }).expect(200);
    await request(app).get("/").expect(500);
    const { text } = await request(admin).get("/metrics").expect(200);
    expect(text).toContain("# TYPE nodejs_active_handles gauge");
    expect(text).toContain('http_requests_total{method="GET",path="/",status_code="500"} 1');
    expect(await lint(text)).toEqual({ code: 0, problems: [], stderr: "" });
  });

  it("drops exactly the gauges prom-client names like counters, which the linter refuses", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const { code, problems } = await lint(await registry.metrics());
    expect(code).toBe(1);
    expect(problems.sort()).toEqual(
      DROPPED_DEFAULT_METRICS.map((name) => `${name}: non-counter metrics should not have "_total" suffix`),
    );
  });

  it("loses nothing by dropping them: each is the sum of its sibling by type", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    for (const total of DROPPED_DEFAULT_METRICS) {
      const [whole, parts] = await Promise.all([
        registry.getSingleMetric(total)!.get(),
        registry.getSingleMetric(total.replace(/_total$/, ""))!.get(),
      ]);
      const sum = parts.values.reduce((acc, v) => acc + v.value, 0);
      expect({ total, value: whole.values[0].value }).toEqual({ total, value: sum });
    }
  });
});
