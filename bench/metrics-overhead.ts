// What does recording metrics cost the app? Serves the same app twice, once with the HTTP metrics
// middleware and once without, and measures the throughput of GET / with autocannon on 127.0.0.1.
//
// Three kinds of process, so the load generator never competes with a server inside one event loop:
//   this file, no arguments      the conductor: starts the rest, interleaves runs, prints the table
//   ... serve <variant>          one server per variant, started once, warmed up
//   ... load <url> <seconds>     autocannon, one child per run
// Runs alternate ABBA-style so slow drift of the machine (thermal, other tenants) hits both variants alike.
// Besides requests per second, each run reports requests per CPU-second of the server process: on a shared
// machine throughput also follows how much CPU the scheduler gave the server, which the second view leaves
// out (it still moves with the kernel's cost of each write under contention). The load average is printed
// so the reader can judge the noise; on an idle machine both ratios agree.
import { loadavg } from "node:os";
import { fork, type ChildProcess } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createServer } from "node:http";
import autocannon from "autocannon";
import { Registry } from "prom-client";
import { median } from "../lib/numbers";
import { createApp } from "../service/app";

const VARIANTS = { with: "with metrics", without: "without metrics" } as const;
type Variant = keyof typeof VARIANTS;

export interface BenchOptions {
  runsPerVariant: number;
  runSeconds: number;
  warmupSeconds: number;
  connections: number;
}

// 6 x 3 s per variant + 2 x 2 s warm-up + process starts: about 50 s. An even count keeps ABBA balanced.
export const DEFAULT_OPTIONS: BenchOptions = {
  runsPerVariant: 6,
  runSeconds: 3,
  warmupSeconds: 2,
  connections: 10,
};

/** A hung child must not hang the bench: past this, everything is killed and the bench fails. */
const HARD_LIMIT_MS = 90_000;

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
  options: BenchOptions;
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
  const opts = { ...DEFAULT_OPTIONS, ...options };
  const servers = { with: await startServer("with"), without: await startServer("without") };
  const guard = setTimeout(() => {
    console.error(`metrics-overhead bench: still running after ${HARD_LIMIT_MS} ms, giving up`);
    servers.with.child.kill();
    servers.without.child.kill();
    process.exit(1);
  }, HARD_LIMIT_MS).unref();
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
      options: opts,
      runs,
      medians,
      ratio: medians.with.requestsPerSecond / medians.without.requestsPerSecond,
      cpuRatio: medians.with.requestsPerCpuSecond / medians.without.requestsPerCpuSecond,
    };
  } finally {
    clearTimeout(guard);
    servers.with.child.kill();
    servers.without.child.kill();
  }
}

function row(label: string, values: number[], middle: number): string {
  const cells = values.map((v) => v.toFixed(0).padStart(7)).join("");
  return `${label.padEnd(34)}${cells}   ${middle.toFixed(0).padStart(7)}`;
}

function verdict(ratio: number): string {
  return `${ratio.toFixed(3)}x (${ratio >= 0.95 ? "meets" : "misses"} the 0.95x target)`;
}

export function formatReport(result: BenchResult): string {
  const { options, runs, medians } = result;
  const lines = [
    `GET / on 127.0.0.1, autocannon in its own process, ${options.connections} connections, ` +
      `${options.runsPerVariant} x ${options.runSeconds} s per variant, interleaved ABBA`,
    `${"".padEnd(34)}${"runs".padEnd(7 * options.runsPerVariant)}   median`,
  ];
  for (const variant of ["without", "with"] as const) {
    const rps = runs[variant].map((r) => r.requestsPerSecond);
    lines.push(row(`req/s            ${VARIANTS[variant]}`, rps, medians[variant].requestsPerSecond));
  }
  for (const variant of ["without", "with"] as const) {
    const perCpu = runs[variant].map((r) => r.requestsPerCpuSecond);
    lines.push(row(`req/server-CPU-s ${VARIANTS[variant]}`, perCpu, medians[variant].requestsPerCpuSecond));
  }
  lines.push(`ratio with/without, req/s:       ${verdict(result.ratio)}`);
  lines.push(`ratio with/without, req/CPU-s:   ${verdict(result.cpuRatio)}`);
  return lines.join("\n");
}

async function conduct(): Promise<void> {
  const started = Date.now();
  const before = loadavg()[0];
  const result = await runMetricsOverheadBench();
  console.log(formatReport(result));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `${seconds} s; 1-min load average ${before.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`,
  );
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
