// CPU time of one dashboard refresh (collect + append to history + render), against a fake app and a fake
// OPA that run in a child process, so process.cpuUsage() here counts the dashboard's work only.
// Run: npx tsx bench/dashboard-cpu.ts [refreshes]   (default 50)
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { collectSnapshot, INITIAL_STATE } from "../tools/status/collect";
import { liveDeps } from "../tools/status/live-deps";
import { recordScrape } from "../tools/status/record";
import { renderFrame } from "../tools/status/render";
import type { PolicyDecision } from "../lib/types";
import { startFakeApp, startFakeOpa } from "./fake-stack";

const REPLICAS = 2;
const SERVE_FLAG = "--serve-fakes";

export interface DashboardCpuResult {
  refreshes: number;
  /** Mean user + system CPU time of this process per refresh, in ms. */
  cpuMsPerRefresh: number;
  /** Median wall time per refresh, in ms (includes waiting for the fakes and for `df`). */
  wallMsPerRefreshP50: number;
}

interface Fakes {
  adminUrls: string[];
  socketPath: string;
}

export async function benchDashboardCpu(refreshes = 50): Promise<DashboardCpuResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-bench-"));
  const child = fork(__filename, [SERVE_FLAG, dir], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const fakes = await new Promise<Fakes>((resolve, reject) => {
      child.once("message", (m) => resolve(m as Fakes));
      child.once("exit", (code) => reject(new Error(`the fake stack exited with code ${code}`)));
    });
    const deps = liveDeps({ opaSocket: fakes.socketPath, opaTimeoutMs: 2000, scrapeTimeoutMs: 2000 });
    const target = {
      stack: "bench",
      adminUrls: fakes.adminUrls,
      configuredMode: "canary",
      intervalSeconds: 5,
    };
    const historyFile = path.join(dir, "history.jsonl");
    let state = INITIAL_STATE;
    let cpuMicros = 0;
    const walls: number[] = [];
    for (let i = 0; i <= refreshes; i++) {
      const cpu = process.cpuUsage();
      const wall = performance.now();
      const result = await collectSnapshot(target, state, deps);
      await recordScrape(historyFile, result.snapshot);
      renderFrame(result.snapshot, { color: true, width: 120 });
      state = result.state;
      if (i === 0) continue; // the first refresh loads modules and has no interval: not a steady refresh
      const used = process.cpuUsage(cpu);
      cpuMicros += used.user + used.system;
      walls.push(performance.now() - wall);
    }
    walls.sort((a, b) => a - b);
    return {
      refreshes,
      cpuMsPerRefresh: cpuMicros / 1000 / refreshes,
      wallMsPerRefreshP50: walls[Math.floor(walls.length / 2)],
    };
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The child: REPLICAS fake app replicas with steady traffic, and a fake OPA that allows everything. */
async function serveFakes(dir: string): Promise<void> {
  const apps = await Promise.all(Array.from({ length: REPLICAS }, () => startFakeApp("canary")));
  const allow = (): PolicyDecision => ({
    allow: true,
    violations: [],
    checks: [{ id: "bench", title: "Bench rule", passed: true, observed: 1, threshold: 2, unit: "" }],
  });
  const opa = await startFakeOpa(path.join(dir, "opa.sock"), allow);
  const traffic = setInterval(() => {
    for (const app of apps) {
      app.record("/", 200, Math.random() * 0.05, 5);
      app.record("/", 500, Math.random() * 0.5, 1);
    }
  }, 10);
  process.send!({ adminUrls: apps.map((a) => a.url), socketPath: opa.socketPath } satisfies Fakes);
  process.on("disconnect", () => {
    clearInterval(traffic);
    void Promise.all([...apps.map((a) => a.close()), opa.close()]).then(() => process.exit(0));
  });
}

if (require.main === module) {
  if (process.argv[2] === SERVE_FLAG) {
    void serveFakes(process.argv[3]);
  } else {
    const refreshes = Number(process.argv[2] ?? 50);
    benchDashboardCpu(refreshes).then(
      (r) =>
        console.log(
          `dashboard: ${r.cpuMsPerRefresh.toFixed(2)} ms CPU per refresh (collect + history + render, ` +
            `${REPLICAS} replicas, mean of ${r.refreshes}); wall p50 ${r.wallMsPerRefreshP50.toFixed(1)} ms`,
        ),
      (err: unknown) => {
        console.error(`dashboard bench: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  }
}
