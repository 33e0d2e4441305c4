// The gates' own costs, measured against a deployed bench stack by `npm run bench`:
//   decision time  host facts (lib/host-facts.ts) + one OPA query over the stack's Unix socket (lib/opa.ts),
//                  against the original tool's transport, `docker exec <opa> opa eval` with the same facts
//   canary gate    the time a promotion spends beyond its observation window (scrapes, window math, OPA),
//                  as the canary gate itself records it in history.jsonl (`overhead_ms` of its gate event)
import { performance } from "node:perf_hooks";
import { readHistory } from "../lib/history";
import { collectHostFacts } from "../lib/host-facts";
import { queryDecision } from "../lib/opa";
import { POLICY_PACKAGES } from "../lib/types";
import { percentile } from "../lib/numbers";
import { runTimed } from "./process";
import type { PulumiStack } from "./pulumi";

export interface Percentiles {
  runs: number;
  p50: number;
  p90: number;
}

export interface GateDecisionResult {
  /** Facts + OPA query over the Unix socket, as the infrastructure gate decides. */
  socket: Percentiles;
  /** The two parts of `socket`, each on its own. */
  factsP50: number;
  opaQueryP50: number;
  /** Facts + `docker exec <opa container> opa eval` of the same decision. */
  dockerExec: Percentiles;
}

export interface GateDecisionOptions {
  opaSocket: string;
  opaContainer: string;
  dockerRoot: string;
  env: NodeJS.ProcessEnv;
  socketRuns?: number;
  execRuns?: number;
}

const DECISION_QUERY = `data.${POLICY_PACKAGES.infrastructure.replace(/\//g, ".")}`;

function summarize(values: number[]): Percentiles {
  return { runs: values.length, p50: percentile(values, 50), p90: percentile(values, 90) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

export async function benchGateDecision(opts: GateDecisionOptions): Promise<GateDecisionResult> {
  const target = { socketPath: opts.opaSocket, timeoutMs: 2000 };
  // Warm-up: module loading and OPA's first compile of the query are not what a gate pays each time.
  for (let i = 0; i < 3; i++) {
    await queryDecision(target, POLICY_PACKAGES.infrastructure, await collectHostFacts(opts.dockerRoot));
  }
  const totals: number[] = [];
  const facts: number[] = [];
  const queries: number[] = [];
  for (let i = 0; i < (opts.socketRuns ?? 50); i++) {
    const [input, factsMs] = await timed(() => collectHostFacts(opts.dockerRoot));
    const [verdict, queryMs] = await timed(() =>
      queryDecision(target, POLICY_PACKAGES.infrastructure, input),
    );
    if (typeof verdict.decision.allow !== "boolean") throw new Error("OPA gave no decision");
    facts.push(factsMs);
    queries.push(queryMs);
    totals.push(factsMs + queryMs);
  }
  const execs: number[] = [];
  for (let i = 0; i < (opts.execRuns ?? 15); i++) {
    const [, ms] = await timed(async () => {
      const input = JSON.stringify(await collectHostFacts(opts.dockerRoot));
      const run = await runTimed(
        "docker",
        ["exec", "-i", opts.opaContainer, "opa", "eval", "-d", "/policies", "-I", DECISION_QUERY],
        { env: opts.env, input, timeoutMs: 30_000 },
      );
      if (!run.lines.some((l) => l.text.includes('"allow"'))) {
        throw new Error(`opa eval in ${opts.opaContainer} printed no decision`);
      }
    });
    execs.push(ms);
  }
  return {
    socket: summarize(totals),
    factsP50: percentile(facts, 50),
    opaQueryP50: percentile(queries, 50),
    dockerExec: summarize(execs),
  };
}

// ---- the canary gate's overhead ---------------------------------------------------------------------

export interface CanaryOverheadResult {
  /** `overhead_ms` of the canary gate event: time beyond the observation window. */
  overheadMs: number;
  /** The gate's whole time, window included (`duration_ms`). */
  durationMs: number;
  windowSeconds: number;
  allowed: boolean;
  violations: string[];
  /** The `pulumi up` that promoted, from start to exit. */
  upMs: number;
  traffic: { sent: number; failed: number };
}

/**
 * Promotes the stack (canary -> stable) under steady traffic to its public port and reads what the canary gate
 * recorded. When OPA refuses, the stack config is put back to canary so later deploys do not re-run the gate.
 */
export async function benchCanaryOverhead(
  stack: PulumiStack,
  publicUrl: string,
  historyFile: string,
): Promise<CanaryOverheadResult> {
  const before = readHistory(historyFile).events.length;
  const traffic = startTraffic(publicUrl);
  await stack.setConfig("swiftdeploy:mode", "stable");
  let upMs = 0;
  let failure: Error | null = null;
  try {
    upMs = (await stack.up(["--yes", "--skip-preview"])).ms;
  } catch (err) {
    failure = err as Error;
  }
  const sent = await traffic.stop();
  const gate = readHistory(historyFile)
    .events.slice(before)
    .find((e) => e.type === "gate" && e.gate === "canary");
  if (failure) await stack.setConfig("swiftdeploy:mode", "canary");
  if (!gate || typeof gate.overhead_ms !== "number") {
    throw new Error(
      `the promotion recorded no canary gate event with overhead_ms in ${historyFile}` +
        (failure ? `; pulumi up failed: ${failure.message}` : ""),
    );
  }
  const result = gate.result as { allow?: boolean; violations?: string[] } | null;
  return {
    overheadMs: gate.overhead_ms,
    durationMs: Number(gate.duration_ms),
    windowSeconds: Number((gate.input as { window_seconds?: number }).window_seconds),
    allowed: result?.allow === true && failure === null,
    violations: result?.violations ?? [],
    upMs,
    traffic: sent,
  };
}

/** GET / every 20 ms (one at a time) until stopped, at most 5000 requests or 3 minutes: bounded either way. */
function startTraffic(publicUrl: string) {
  const MAX_REQUESTS = 5000;
  const deadline = Date.now() + 180_000;
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const loop = (async () => {
    while (!stopped && sent < MAX_REQUESTS && Date.now() < deadline) {
      sent++;
      try {
        const res = await fetch(`${publicUrl}/`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (!res.ok) failed++;
      } catch {
        failed++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { sent, failed };
    },
  };
}
