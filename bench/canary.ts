// Section 6 of `npm run bench`, "canary": the two-set canary release on a stack of its own, with a 5 s
// observation window instead of the manifest's 30 s (the gate observes a window; the bench measures what
// comes on top of it):
//   split      the canary's share of 5,000 GET / through the ingress at canary.weight 10, counted from the
//              `set` each answer names, and the X-Canary pin (100 requests `always`, 100 `never`)
//   nginx      nginx's own time per request ($request_time − $upstream_response_time) over the access-log
//              lines of the split run
//   promotion  the wall time of the promoting `pulumi up` beyond the window, with 1 and with 3 stable replicas
//   failures   failed requests through each promotion, an abort and a rollback, under changes.ts's load
// Every step checks what the ingress serves afterwards, so no figure is taken on the wrong sets.
import * as fs from "node:fs";
import * as http from "node:http";
import * as yaml from "js-yaml";
import { readHistory } from "../lib/history";
import type { Mode } from "../lib/modes";
import { percentile } from "../lib/numbers";
import type { StackPlan } from "../program/plan";
import { underLoad } from "./changes";
import { slowestSteps } from "./figures";
import type { LoadResult } from "./load";
import { nginxOwnTimes } from "./nginx-log";
import { aroundStep } from "./pulumi-log";
import { runTimed, type TimedRun } from "./process";
import type { PulumiStack } from "./pulumi";

const CANARY_BENCH = { windowSeconds: 5, weight: 10, splitRequests: 5000, pinRequests: 100 };

/** The versions the bench moves through: the first stable, and the canaries after it. */
const V = { first: "1.0.0", second: "1.0.1", third: "1.0.2", aborted: "1.0.3" };
/** The split's request target: its access-log lines are told apart by it (the app routes it as GET /). */
const SPLIT_TARGET = "/?bench=split";
const CLIENTS = 8;

export interface SplitResult {
  requests: number;
  canary: number;
  stable: number;
  /** Non-2xx answers, answers naming no set, and requests with no answer. */
  failed: number;
}

export interface PinResult {
  header: "always" | "never";
  requests: number;
  /** Answers from the set the header names. */
  pinned: number;
  failed: number;
}

export interface NginxCostResult {
  /** Access-log lines of the split run with an upstream time. */
  lines: number;
  /** Lines of the split run without one (`urt=-`), left out. */
  withoutUpstream: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface CanaryChangeRun {
  kind: "promotion" | "abort" | "rollback";
  stableReplicas: number;
  load: LoadResult;
  /** The `pulumi up` alone, in ms. */
  changeMs: number;
  /** What the canary gate recorded as its time beyond the window (promotions). */
  gateOverheadMs?: number;
  /** The `pulumi up`'s slowest resource steps, e.g. "canary-gate 5.32 s, app-… 1.20 s". */
  slowestSteps?: string;
  /** The `pulumi up` before the canary gate's step (CLI, program, infrastructure gate), in it, after it (ms). */
  aroundGate?: { beforeMs: number; stepMs: number; afterMs: number };
  error?: string;
}

/** Filled in step by step, so a run that fails half-way still reports what it measured. */
export interface CanaryBenchResult {
  windowSeconds: number;
  weight: number;
  split?: SplitResult;
  pins: PinResult[];
  nginx?: NginxCostResult;
  changes: CanaryChangeRun[];
}

/** "promotion, 3 stable replicas": a change as the log and the report name it. */
export function canaryChangeName(c: Pick<CanaryChangeRun, "kind" | "stableReplicas">): string {
  return `${c.kind}, ${c.stableReplicas} stable ${c.stableReplicas === 1 ? "replica" : "replicas"}`;
}

export function emptyCanaryResult(): CanaryBenchResult {
  return { windowSeconds: CANARY_BENCH.windowSeconds, weight: CANARY_BENCH.weight, pins: [], changes: [] };
}

export interface CanaryTarget {
  stack: PulumiStack;
  /** The stack's plan: its public URL, nginx container and history file. */
  plan: StackPlan;
  /** The manifest the stack reads (absolute), rewritten before each step from `manifestText`. */
  manifestFile: string;
  manifestText: string;
  env: NodeJS.ProcessEnv;
}

/** The bench's manifest: `text` with the version and stable replicas of a step, and the bench's constants. */
export function canaryBenchManifest(text: string, version: string, stableReplicas: number): string {
  const m = yaml.load(text) as Record<string, Record<string, unknown>>;
  m.service.version = version;
  m.app.replicas = stableReplicas;
  m.canary = { ...m.canary, weight: CANARY_BENCH.weight, replicas: 1 };
  m.gates.observation_window_s = CANARY_BENCH.windowSeconds;
  m.ingress.bind = "127.0.0.1";
  return yaml.dump(m);
}

type Answers = { counts: Record<string, number>; failed: number };

/** `count` GET through the ingress, 8 at a time on kept-alive connections; how many each "set version" answered. */
async function answers(url: string, count: number, headers: Record<string, string> = {}): Promise<Answers> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const result: Answers = { counts: {}, failed: 0 };
  const one = () =>
    new Promise<string | undefined>((resolve) => {
      const req = http.get(url, { agent, headers, timeout: 5000 }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => {
          try {
            const { set, version } = JSON.parse(body) as { set?: string; version?: string };
            resolve(res.statusCode === 200 && set ? `${set} ${version}` : undefined);
          } catch {
            resolve(undefined);
          }
        });
        res.on("error", () => resolve(undefined));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve(undefined));
    });
  let next = 0;
  const client = async () => {
    while (next++ < count) {
      const key = await one();
      if (key === undefined) result.failed++;
      else result.counts[key] = (result.counts[key] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, client));
  } finally {
    agent.destroy();
  }
  return result;
}

const ofSet = (a: Answers, set: string) =>
  Object.entries(a.counts)
    .filter(([key]) => key.startsWith(`${set} `))
    .reduce((n, [, c]) => n + c, 0);

/** Throws unless 40 answers all come from `expected` ("stable 1.0.1"), with the pin header when given. */
async function expectServing(url: string, expected: string, pin?: "always" | "never"): Promise<void> {
  const a = await answers(`${url}/`, 40, pin ? { "X-Canary": pin } : {});
  if (a.failed > 0 || a.counts[expected] !== 40) {
    const asked = pin ? ` with X-Canary: ${pin}` : "";
    throw new Error(`expected every answer${asked} from "${expected}", got ${JSON.stringify(a)}`);
  }
}

async function expectCanary(url: string, canary: string, stable: string): Promise<void> {
  await expectServing(url, `canary ${canary}`, "always");
  await expectServing(url, `stable ${stable}`, "never");
}

/** The split at the bench's weight, the pin both ways, and nginx's own time over the split's log lines. */
async function measureSplit(t: CanaryTarget, result: CanaryBenchResult, log: (l: string) => void) {
  const url = t.plan.publicUrl;
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const split = await answers(`${url}${SPLIT_TARGET}`, CANARY_BENCH.splitRequests);
  result.split = {
    requests: CANARY_BENCH.splitRequests,
    canary: ofSet(split, "canary"),
    stable: ofSet(split, "stable"),
    failed: split.failed,
  };
  log(`   split: ${JSON.stringify(split.counts)}, ${split.failed} failed`);
  for (const header of ["always", "never"] as const) {
    const pinned = await answers(`${url}/`, CANARY_BENCH.pinRequests, { "X-Canary": header });
    const set = header === "always" ? "canary" : "stable";
    result.pins.push({
      header,
      requests: CANARY_BENCH.pinRequests,
      pinned: ofSet(pinned, set),
      failed: pinned.failed,
    });
    log(`   X-Canary: ${header}: ${JSON.stringify(pinned.counts)}, ${pinned.failed} failed`);
  }
  const logs = await runTimed("docker", ["logs", "--since", since, t.plan.names.nginxContainer], {
    env: t.env,
  });
  const own = nginxOwnTimes(
    logs.lines.map((l) => l.text),
    SPLIT_TARGET,
  );
  log(`   nginx access log: ${own.timesMs.length} lines of the split with an upstream time`);
  if (own.timesMs.length === 0) return;
  result.nginx = {
    lines: own.timesMs.length,
    withoutUpstream: own.withoutUpstream,
    p50Ms: percentile(own.timesMs, 50),
    p99Ms: percentile(own.timesMs, 99),
    meanMs: own.timesMs.reduce((a, b) => a + b, 0) / own.timesMs.length,
  };
}

/**
 * Runs the section on a new, empty stack: V as the first stable version, a canary W beside it
 * (split, pin, nginx), its promotion; a canary beside 3 stable replicas and its promotion; an abort; a
 * rollback. The stack is the caller's to remove.
 */
export async function benchCanary(
  t: CanaryTarget,
  result: CanaryBenchResult,
  log: (line: string) => void,
): Promise<void> {
  const url = t.plan.publicUrl;
  let mode: Mode | undefined;
  let stableReplicas = 1;
  const configure = async (version: string, replicas: number, to: Mode) => {
    fs.writeFileSync(t.manifestFile, canaryBenchManifest(t.manifestText, version, replicas));
    stableReplicas = replicas;
    if (to !== mode) await t.stack.setConfig("swiftdeploy:mode", to);
    mode = to;
  };
  const up = () => t.stack.up(["--yes", "--skip-preview"]);
  const deploy = async (what: string) => {
    const run = await up();
    log(`   ${what}: pulumi up ${(run.ms / 1000).toFixed(1)} s`);
  };
  /** A change under load (the gate needs requests of both sets in its window), recorded when it is a figure. */
  const change = async (kind: CanaryChangeRun["kind"], figure = true) => {
    const from = readHistory(t.plan.paths.historyFile).events.length;
    let upRun: TimedRun | undefined;
    const run = await underLoad(`${url}/`, async () => (upRun = await up()));
    const gate = readHistory(t.plan.paths.historyFile)
      .events.slice(from)
      .find((e) => e.type === "gate" && e.gate === "canary");
    const recorded: CanaryChangeRun = { kind, stableReplicas, ...run };
    if (typeof gate?.overhead_ms === "number") recorded.gateOverheadMs = gate.overhead_ms;
    if (upRun) {
      recorded.slowestSteps = slowestSteps([upRun], 4);
      recorded.aroundGate = aroundStep(upRun, "canary-gate");
    }
    const { requests, failures } = run.load;
    const name = figure ? canaryChangeName(recorded) : `${kind} with no stable baseline (set-up)`;
    log(
      `   ${name.padEnd(37)} ${String(requests).padStart(6)} requests, ${failures} failed, ` +
        `pulumi up ${(run.changeMs / 1000).toFixed(1)} s${run.error ? ` (ERROR ${run.error})` : ""}`,
    );
    if (recorded.slowestSteps) log(`     slowest steps: ${recorded.slowestSteps}`);
    if (figure) result.changes.push(recorded);
    if (run.error) throw new Error(`the ${kind} failed: ${run.error}`);
  };

  await configure(V.first, 1, "canary");
  await deploy(`${V.first} as the only set`);
  await expectServing(url, `canary ${V.first}`);
  await configure(V.first, 1, "stable");
  await change("promotion", false); // no stable baseline yet: not a figure
  await expectServing(url, `stable ${V.first}`);

  await configure(V.second, 1, "canary");
  await deploy(`${V.second} as the canary beside 1 stable replica`);
  await expectCanary(url, V.second, V.first);
  await measureSplit(t, result, log);
  await configure(V.second, 1, "stable");
  await change("promotion");
  await expectServing(url, `stable ${V.second}`);

  await configure(V.third, 3, "canary");
  await deploy(`${V.third} as the canary beside 3 stable replicas`);
  await expectCanary(url, V.third, V.second);
  await configure(V.third, 3, "stable");
  await change("promotion");
  await expectServing(url, `stable ${V.third}`);

  await configure(V.aborted, 3, "canary");
  await deploy(`${V.aborted} as the canary`);
  await expectCanary(url, V.aborted, V.third);
  await configure(V.third, 3, "canary");
  await change("abort");
  await expectServing(url, `stable ${V.third}`);

  await configure(V.second, 3, "stable");
  await change("rollback");
  await expectServing(url, `stable ${V.second}`);
}
