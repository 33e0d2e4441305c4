// Stand-ins for a deployed stack, for the dashboard's tests and its CPU benchmark: an app replica whose
// /metrics carries the metrics DESIGN.md names ("Metrics") from a prom-client registry on 127.0.0.1, and an
// OPA that answers decisions on a Unix socket the way OPA's REST API does.
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import type { ChaosMode } from "../lib/metric-codes";
import type { Mode } from "../lib/modes";
import type { PolicyDecision } from "../lib/types";
import type { ChaosState } from "../service/chaos";
import { registerMetrics } from "../service/metrics";

/** A whole chaos state for each mode (the gauge reads only the mode). */
const CHAOS_STATES: Record<ChaosMode, ChaosState> = {
  none: { mode: "none" },
  slow: { mode: "slow", duration_ms: 1 },
  error: { mode: "error", rate: 1 },
};

export interface FakeApp {
  url: string;
  /** Counts `count` requests to `path` answered with `status` after `seconds`. */
  record(path: string, status: number, seconds: number, count?: number): void;
  setChaos(mode: ChaosMode): void;
  close(): Promise<void>;
}

export async function startFakeApp(mode: Mode = "canary"): Promise<FakeApp> {
  const registry = new Registry();
  let chaos: ChaosState = { mode: "none" };
  // The app's own metrics (service/metrics.ts), so the stand-in cannot drift from what the app serves.
  const table = registerMetrics({ registry, mode, chaos: () => chaos, startedAt: performance.now() }).http;
  const server = http.createServer(async (req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
  });
  const port = await listen(server, { host: "127.0.0.1", port: 0 });
  return {
    url: `http://127.0.0.1:${port}`,
    record(path, status, seconds, count = 1) {
      for (let i = 0; i < count; i++) table.record("GET", path, status, seconds);
    },
    setChaos: (next) => void (chaos = CHAOS_STATES[next]),
    close: () => close(server),
  };
}

export interface FakeOpa {
  socketPath: string;
  /** Every question asked: the package path (slash form) and the input. */
  asked: { packagePath: string; input: unknown }[];
  close(): Promise<void>;
}

/** Answers `POST /v1/data/<package>` with `decide(package, input)` and a decision_id, as OPA with decision logs. */
export async function startFakeOpa(
  socketPath: string,
  decide: (packagePath: string, input: unknown) => PolicyDecision,
): Promise<FakeOpa> {
  const asked: FakeOpa["asked"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const packagePath = (req.url ?? "").replace(/^\/v1\/data\//, "");
      const { input } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { input: unknown };
      asked.push({ packagePath, input });
      const body = { decision_id: randomUUID(), result: decide(packagePath, input) };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await listen(server, socketPath);
  return { socketPath, asked, close: () => close(server) };
}

function listen(server: http.Server, where: string | { host: string; port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(where, () =>
      resolve(typeof where === "string" ? 0 : (server.address() as AddressInfo).port),
    );
  });
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
