// `npm run bench`: every SwiftDeploy benchmark in one run, printed side by side with its target.
//   1. gate decision time: host facts + OPA over the Unix socket, against `docker exec <opa> opa eval`
//   2. cold and no-op deploys: SwiftDeploy vs a plain Pulumi program without gates vs Docker Compose v2
//   3. the canary gate's time beyond its observation window
//   4. the metrics middleware's throughput cost and the dashboard's CPU per refresh
//   5. changes under load: failed requests while SwiftDeploy and Compose v2 make the same changes
//   6. canary: the split's accuracy and the pin header, nginx's own time per request, promotion time beyond
//      the window with 1 and 3 stable replicas, failed requests through promotions, an abort and a rollback
// `npm run bench -- --only N` runs bench N alone (with the set-up it needs: the shared bench stack only for
// 1, 2, 3 and 5; 6 deploys a stack of its own).
// Everything runs on stacks of its own (`bench-<pid>`, ports 18081+ and 19100+, never the dev stack's), and
// every stack, compose project, container, network, image tag and state folder it made is removed in a
// finally block, also on failure or Ctrl+C. All traffic goes to 127.0.0.1. About 12-14 minutes.
// This file holds what runs in which order and the cleanup on exit or signal; world.ts is what a run creates,
// deploys.ts, gate.ts, changes.ts, canary.ts, metrics-overhead.ts and dashboard-cpu.ts the benches,
// report.ts the printed report.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { median } from "../lib/numbers";
import { prepareHostFiles } from "../program/host-files";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Mode } from "../lib/modes";
import { loadManifest } from "../program/manifest";
import { planStack } from "../program/plan";
import { applyPortOverrides } from "../program/stack-settings";
import { benchCanary, canaryBenchManifest, emptyCanaryResult } from "./canary";
import { benchChangesUnderLoad } from "./changes";
import { ComposeProject } from "./compose";
import { benchDashboardCpu } from "./dashboard-cpu";
import { benchDeploys, deploySystems } from "./deploys";
import { secs } from "./format";
import { benchCanaryOverhead, benchGateDecision } from "./gate";
import { runMetricsOverheadBench } from "./metrics-overhead";
import { PLAIN_DIR, ROOT } from "./paths";
import { killRunningCommands, runTimed, toolEnvironment } from "./process";
import { report, type Results } from "./report";
import { BenchWorld } from "./world";

const ROUNDS = 3;
/** Host ports of the three deployments, clear of the dev stack's 8081/9100. */
const PORTS = {
  swiftdeploy: { ingress: 18081, admin: 19100 },
  plain: { ingress: 18082, admin: 19110 },
  compose: { ingress: 18083, admin: 19120 },
  changes: { ingress: 18084, admin: 19130 },
  canary: { ingress: 18085, admin: 19140 },
};
/** The benches that run on the shared bench stack (`bench-<pid>`); the others need no deploy before them. */
const ON_BENCH_STACK = ["1", "2", "3", "5"];

const log = (line: string) => console.log(line);
/** Ctrl+C count: the first stops the running command and skips what is left; cleanup still runs. */
let interrupted = 0;

// ---- the benches, in order --------------------------------------------------------------------------

async function dockerRoot(env: NodeJS.ProcessEnv): Promise<string> {
  const run = await runTimed("docker", ["info", "--format", "{{.DockerRootDir}}"], { env });
  return run.lines[0]?.text.trim() || "/var/lib/docker";
}

/** The program's own work (manifest, plan, host files, service bundle), outside the engine. */
async function programWorkMs(world: BenchWorld): Promise<number> {
  const plan = world.plan(world.id, PORTS.swiftdeploy);
  const saved = process.env.PATH;
  process.env.PATH = world.env.PATH;
  try {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await prepareHostFiles(plan).appImageHash;
      times.push(performance.now() - started);
    }
    return median(times.slice(1));
  } finally {
    process.env.PATH = saved;
  }
}

/** `npm run bench -- --only 5`: the numbered benches to run (all when not given); the set-up always runs. */
const ONLY = ((i) => (i >= 0 ? process.argv[i + 1] : undefined))(process.argv.indexOf("--only"));

async function section<T>(results: Results, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (interrupted > 0) throw new Error(`interrupted before ${name}`);
  const number = /^(\d+)[a-z]?\./.exec(name)?.[1];
  if (ONLY !== undefined && number !== undefined && number !== ONLY) return undefined;
  const started = Date.now();
  log(`\n== ${name} (1-min load average ${loadavg()[0].toFixed(2)})`);
  try {
    const value = await fn();
    log(`   done in ${secs(Date.now() - started)}`);
    return value;
  } catch (err) {
    const message = `${name}: ${(err as Error).message}`;
    results.errors.push(message);
    log(`   FAILED: ${message}`);
    if (interrupted > 0) throw new Error("interrupted");
    return undefined;
  }
}

async function runAll(world: BenchWorld, results: Results): Promise<void> {
  world.writeManifest();
  if (ONLY === undefined || ON_BENCH_STACK.includes(ONLY)) await onBenchStack(world, results);
  await section(results, "6. canary: split, pin, promotions, abort, rollback (a stack of its own)", () =>
    canaryOnItsOwnStack(world, results),
  );
  results.programWorkMs = await section(results, "2b. the program's own work, in-process", () =>
    programWorkMs(world),
  );
  results.metrics = await section(results, "4a. metrics middleware overhead", () =>
    runMetricsOverheadBench(),
  );
  results.dashboard = await section(results, "4b. dashboard CPU per refresh", () => benchDashboardCpu(50));
}

/** Benches 1, 3, 5 and 2, in that order, on the bench stack deployed first (2 destroys it). */
async function onBenchStack(world: BenchWorld, results: Results): Promise<void> {
  const sdPlan = world.plan(world.id, PORTS.swiftdeploy);
  const sd = await world.stack(world.id, ROOT, PORTS.swiftdeploy);
  await section(results, `deploying bench stack ${world.id} (untimed: builds or re-tags the images)`, () =>
    sd.up(["--yes", "--skip-preview"]),
  );
  const images = await world.keepImages(sdPlan);

  results.gate = await section(results, "1. gate decision time", async () =>
    benchGateDecision({
      opaSocket: sdPlan.paths.opaSocket,
      opaContainer: sdPlan.names.opaContainer,
      dockerRoot: await dockerRoot(world.env),
      env: world.env,
    }),
  );
  results.canary = await section(results, "3. canary gate time beyond the observation window", () =>
    benchCanaryOverhead(sd, sdPlan.publicUrl, sdPlan.paths.historyFile),
  );

  results.changes = await section(results, "5. changes under load, SwiftDeploy and Compose v2", async () => {
    const user = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    const composePorts = PORTS.changes;
    const composePlan = (text: string, mode: string) => {
      const file = path.join(ROOT, ".swiftdeploy", `${world.id}-changes`, "manifest.yaml");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      const manifest = applyPortOverrides(loadManifest(file), {
        mode: mode as Mode,
        ingressPort: composePorts.ingress,
        adminPort: composePorts.admin,
      });
      return planStack({
        project: "swiftdeploy",
        stack: `${world.id}-changes`,
        mode: mode as Mode,
        manifest,
        projectDir: ROOT,
      });
    };
    const text = fs.readFileSync(path.join(ROOT, world.manifestFile), "utf8");
    const project = new ComposeProject(composePlan(text, "canary"), images, user, world.env);
    world.composeProjects.push(project);
    try {
      return await benchChangesUnderLoad(
        {
          swiftdeploy: { stack: sd, publicUrl: sdPlan.publicUrl },
          compose: { project, publicUrl: project.plan.publicUrl, plan: composePlan },
          manifestFile: world.manifestFile,
        },
        log,
      );
    } finally {
      await project.down();
    }
  });

  results.deploys = await section(results, `2. deploys, ${ROUNDS} interleaved rounds`, async () => {
    await sd.destroy();
    const plain = await world.stack(`${world.id}-plain`, PLAIN_DIR, PORTS.plain);
    await plain.setConfig("swiftdeploy:mode", "stable");
    const user = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
    world.compose = new ComposeProject(
      world.plan(`${world.id}-compose`, PORTS.compose),
      images,
      user,
      world.env,
    );
    await world.compose.down();
    return benchDeploys(deploySystems(world.env, sd, plain, world.compose), ROUNDS, log);
  });
}

/**
 * Bench 6 on stack `<id>-canary` with a manifest of its own, removed again when the bench ends. Its figures
 * go into results as they are measured, so a failure half-way still reports what came before it.
 */
async function canaryOnItsOwnStack(world: BenchWorld, results: Results): Promise<void> {
  const name = `${world.id}-canary`;
  const manifestFile = path.join(".swiftdeploy", name, "manifest.yaml");
  const manifestText = fs.readFileSync(path.join(ROOT, world.manifestFile), "utf8");
  fs.mkdirSync(path.join(ROOT, ".swiftdeploy", name), { recursive: true });
  fs.writeFileSync(path.join(ROOT, manifestFile), canaryBenchManifest(manifestText, "1.0.0", 1));
  const stack = await world.stack(name, ROOT, PORTS.canary, manifestFile);
  results.canaryRelease = emptyCanaryResult();
  try {
    const target = {
      stack,
      plan: world.plan(name, PORTS.canary, manifestFile),
      manifestFile: path.join(ROOT, manifestFile),
      manifestText,
      env: world.env,
    };
    await benchCanary(target, results.canaryRelease, log);
  } finally {
    await world.dropStack(stack);
  }
}

// ---- main -------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = Date.now();
  const compose = await runTimed("bash", ["bench/ensure-compose.sh"], { timeoutMs: 600_000 });
  compose.lines.forEach((l) => log(l.text));
  const world = new BenchWorld(await toolEnvironment());
  const results: Results = { errors: [] };
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    log("\ninterrupted: stopping the running command, then cleaning up (Ctrl+C again to leave at once)");
    killRunningCommands();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  log(`bench: stacks ${world.id}, ${world.id}-plain, compose project ${world.dockerPrefix}-compose`);
  await world.rememberSelectedStack();
  try {
    await runAll(world, results);
  } catch (err) {
    results.errors.push((err as Error).message);
  } finally {
    await world.cleanup();
  }
  console.log(report(results, Date.now() - started));
  return results.errors.length > 0 || interrupted > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
