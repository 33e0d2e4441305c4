// What does recording metrics cost the app? Serves the same app twice, once with the HTTP metrics
// middleware and once without, and measures the throughput of GET / with autocannon on 127.0.0.1.
//
// Three kinds of process, so the load generator never competes with a server inside one event loop:
//   this file, no arguments      the conductor: starts the rest, interleaves runs, prints the table
//   ... serve <variant>          one server per variant, started once, warmed up
//   ... load <url> <seconds>     autocannon, one child per run
// Runs alternate ABBA-style so slow drift of the machine (thermal, other tenants) hits both variants alike.
// Besides requests per second, each run reports requests per CPU-second of the server process: on a shared
// machine throughput follows whatever CPU the server was given, while CPU per request is the middleware's
// cost itself, so the second ratio is the steadier one.
import { fork, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer } from "node:http";
import autocannon from "autocannon";
import { Registry } from "prom-client";
import { createApp } from "../../service/app";

const VARIANTS = { with: "with metrics", without: "without metrics" } as const;
type Variant = keyof typeof VARIANTS;

export interface BenchOptions {
  runsPerVariant: number;
  runSeconds: number;
  warmupSeconds: number;
  connections: number;
}

const DEFAULTS: BenchOptions = { runsPerVariant: 6, runSeconds: 3, warmupSeconds: 2, connections: 10 };

interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p99LatencyMs: number;
  errors: number;
  non2xx: number;
}

interface RunResult extends LoadResult {
  /** Requests answered per second of CPU time (user + system) the server process used during the run. */
  requestsPerCpuSecond: number;
}

export interface BenchResult {
  runs: Record<Variant, RunResult[]>;
  medians: Record<Variant, { requestsPerSecond: number; requestsPerCpuSecond: number }>;
  /** median(with) / median(without) of requests per second: 1.0 means the middleware is free. */
  ratio: number;
  /** The same ratio for requests per CPU-second of the server. */
  cpuRatio: number;
}

// ---- child: server ----------------------------------------------------------------------------------

function serve(variant: Variant): void {
  const { publicApp } = createApp({
    serviceName: "bench",
    version: "0.0.0",
    mode: "canary",
    registry: new Registry(),
    httpMetrics: variant === "with",
  });
  const server = createServer(publicApp.callback());
  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
  // Any message is a question for our CPU time so far, in microseconds.
  process.on("message", () => {
    const { user, system } = process.cpuUsage();
    process.send!({ cpuMicros: user + system });
  });
  // The conductor owns our lifetime: when it goes, we go.
  process.on("disconnect", () => process.exit(0));
}

// ---- child: load generator --------------------------------------------------------------------------

async function load(url: string, seconds: number, connections: number): Promise<void> {
  const result = await autocannon({ url, duration: seconds, connections });
  const answer: LoadResult = {
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p99LatencyMs: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  process.send!(answer, () => process.exit(0));
}

// ---- conductor --------------------------------------------------------------------------------------

function firstMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      child.off("exit", onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      child.off("message", onMessage);
      reject(new Error(`${what} exited with code ${code} before answering`));
    };
    child.once("message", onMessage);
    child.once("exit", onExit);
  });
}

async function startServer(variant: Variant): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(__filename, ["serve", variant], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const { port } = await firstMessage<{ port: number }>(child, `server (${variant})`);
  return { child, url: `http://127.0.0.1:${port}/` };
}

async function serverCpuMicros(server: ChildProcess): Promise<number> {
  const answer = firstMessage<{ cpuMicros: number }>(server, "server");
  server.send("cpu");
  return (await answer).cpuMicros;
}

function runLoad(url: string, seconds: number, connections: number): Promise<LoadResult> {
  const child = fork(__filename, ["load", url, String(seconds), String(connections)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return firstMessage<LoadResult>(child, "autocannon");
}

async function measuredRun(
  server: { child: ChildProcess; url: string },
  opts: BenchOptions,
): Promise<RunResult> {
  const cpuBefore = await serverCpuMicros(server.child);
  const result = await runLoad(server.url, opts.runSeconds, opts.connections);
  const cpuSeconds = ((await serverCpuMicros(server.child)) - cpuBefore) / 1e6;
  return { ...result, requestsPerCpuSecond: result.requests / cpuSeconds };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medianOf(runs: RunResult[]) {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    requestsPerCpuSecond: median(runs.map((r) => r.requestsPerCpuSecond)),
  };
}

/** ABBA order: with, without, without, with, ... */
function schedule(runs: number): Variant[] {
  const order: Variant[] = [];
  for (let i = 0; i < runs; i++)
    order.push(...((i % 2 === 0 ? ["with", "without"] : ["without", "with"]) as Variant[]));
  return order;
}

export async function runMetricsOverheadBench(options: Partial<BenchOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...options };
  const servers = { with: await startServer("with"), without: await startServer("without") };
  try {
    for (const variant of ["with", "without"] as const) {
      await runLoad(servers[variant].url, opts.warmupSeconds, opts.connections);
    }
    const runs: Record<Variant, RunResult[]> = { with: [], without: [] };
    for (const variant of schedule(opts.runsPerVariant)) {
      const result = await measuredRun(servers[variant], opts);
      if (result.errors > 0 || result.non2xx > 0) {
        throw new Error(`${VARIANTS[variant]}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      }
      runs[variant].push(result);
    }
    const medians = { with: medianOf(runs.with), without: medianOf(runs.without) };
    return {
      runs,
      medians,
      ratio: medians.with.requestsPerSecond / medians.without.requestsPerSecond,
      cpuRatio: medians.with.requestsPerCpuSecond / medians.without.requestsPerCpuSecond,
    };
  } finally {
    servers.with.child.kill();
    servers.without.child.kill();
  }
}

function row(label: string, values: number[], median: number): string {
  const cells = values.map((v) => v.toFixed(0).padStart(7)).join("");
  return `${label.padEnd(34)}${cells}   ${median.toFixed(0).padStart(7)}`;
}

export function formatReport(result: BenchResult, options: BenchOptions): string {
  const { runs, medians } = result;
  const target = (ratio: number) =>
    `${ratio.toFixed(3)}x (${ratio >= 0.95 ? "meets" : "misses"} the 0.95x target)`;
  return [
    `GET / on 127.0.0.1, autocannon (own process) ${options.connections} connections, ` +
      `${options.runsPerVariant} x ${options.runSeconds} s per variant, interleaved`,
    `${"".padEnd(34)}${"runs".padEnd(7 * options.runsPerVariant)}   median`,
    row(
      "req/s           without metrics",
      runs.without.map((r) => r.requestsPerSecond),
      medians.without.requestsPerSecond,
    ),
    row(
      "req/s           with metrics",
      runs.with.map((r) => r.requestsPerSecond),
      medians.with.requestsPerSecond,
    ),
    row(
      "req/server-CPU-s without metrics",
      runs.without.map((r) => r.requestsPerCpuSecond),
      medians.without.requestsPerCpuSecond,
    ),
    row(
      "req/server-CPU-s with metrics",
      runs.with.map((r) => r.requestsPerCpuSecond),
      medians.with.requestsPerCpuSecond,
    ),
    `ratio with/without, req/s:        ${target(result.ratio)}`,
    `ratio with/without, req/CPU-s:    ${target(result.cpuRatio)}`,
  ].join("\n");
}

async function conduct(): Promise<void> {
  const started = Date.now();
  const result = await runMetricsOverheadBench();
  console.log(formatReport(result, DEFAULTS));
  console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

if (require.main === module) {
  const [role, ...args] = process.argv.slice(2);
  if (role === "serve") serve(args[0] as Variant);
  else if (role === "load") void load(args[0], Number(args[1]), Number(args[2]));
  else
    conduct().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
