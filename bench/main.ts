// `npm run bench`: every SwiftDeploy benchmark in one run, printed side by side with its target.
//   1. gate decision time: host facts + OPA over the Unix socket, against `docker exec <opa> opa eval`
//   2. cold and no-op deploys: SwiftDeploy vs a plain Pulumi program without gates vs Docker Compose v2
//   3. the canary gate's time beyond its observation window
//   4. the metrics middleware's throughput cost and the dashboard's CPU per refresh
// Everything runs on stacks of its own (`bench-<pid>`, ports 18081+ and 19100+, never the dev stack's), and
// every stack, compose project, container, network, image tag and state folder it made is removed in a
// finally block, also on failure or Ctrl+C. All traffic goes to 127.0.0.1. About 8-10 minutes.
import Table from "cli-table3";
import * as fs from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { loadManifest } from "../program/manifest";
import { planStack, prepareHostFiles, type StackPlan } from "../program/plan";
import { applyPortOverrides } from "../program/stack-settings";
import { benchDashboardCpu, type DashboardCpuResult } from "./dashboard-cpu";
import {
  benchDeploys,
  ComposeProject,
  killRunningCommands,
  median,
  PLAIN_DIR,
  PulumiStack,
  pulumiPhases,
  ROOT,
  stepDurations,
  runTimed,
  secs,
  toolEnvironment,
  type DeployBenchResult,
  type DeploySystem,
  type PulumiPhases,
  type TimedRun,
} from "./deploy";
import {
  benchCanaryOverhead,
  benchGateDecision,
  type CanaryOverheadResult,
  type GateDecisionResult,
} from "./gate";
import { runMetricsOverheadBench, type BenchResult as MetricsResult } from "./metrics-overhead";

const ROUNDS = 3;
const OBSERVATION_WINDOW_S = 5;
const PROJECT = "swiftdeploy";
/** Host ports of the three deployments, clear of the dev stack's 8081/9100. */
const PORTS = {
  swiftdeploy: { ingress: 18081, admin: 19100 },
  plain: { ingress: 18082, admin: 19110 },
  compose: { ingress: 18083, admin: 19120 },
};

/** What `npm run deploy` runs (package.json), and whether it skips Pulumi's preview. */
const DEPLOY_SCRIPT = readDeployScript();
const DEPLOY_SKIPS_PREVIEW = DEPLOY_SCRIPT.includes("--skip-preview");

const LABELS = {
  sdCold: "cold: npm run deploy",
  sdNoop: "no-op: npm run deploy",
  sdNoopOther: DEPLOY_SKIPS_PREVIEW
    ? "no-op: the deploy script, preview on"
    : "no-op: the deploy script + --skip-preview",
  plainCold: "cold: pulumi up --yes",
  plainNoop: "no-op: pulumi up --yes",
  plainNoopFast: "no-op: pulumi up --yes --skip-preview, transpile-only",
  composeCold: "cold: docker compose up -d",
  composeNoop: "no-op: docker compose up -d",
  composeWaitCold: "cold: docker compose up -d --wait",
  composeWaitNoop: "no-op: docker compose up -d --wait",
};

const log = (line: string) => console.log(line);
/** Ctrl+C count: the first stops the running command and skips what is left; cleanup still runs. */
let interrupted = 0;

/** The deploy script with Pulumi's preview switched the other way. */
function otherScriptOf(script: string): string {
  return script.includes("--skip-preview")
    ? script.replace(/\s*--skip-preview/, "")
    : `${script} --skip-preview`;
}

function readDeployScript(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const script = pkg.scripts?.deploy;
  if (typeof script !== "string")
    throw new Error(`package.json has no scripts.deploy, got ${String(script)}`);
  return script;
}

interface Results {
  gate?: GateDecisionResult;
  canary?: CanaryOverheadResult;
  deploys?: DeployBenchResult;
  programWorkMs?: number;
  metrics?: MetricsResult;
  dashboard?: DashboardCpuResult;
  errors: string[];
}

// ---- the bench's own stacks -------------------------------------------------------------------------

/** What the bench creates, named from one id so the cleanup can find every piece of it. */
class BenchWorld {
  readonly id = `bench-${process.pid}`;
  readonly dockerPrefix = `${PROJECT}-${this.id}`;
  readonly manifestFile = path.join(".swiftdeploy", this.id, "manifest.yaml");
  readonly stateDirs = ["", "-plain", "-compose"].map((s) =>
    path.join(ROOT, ".swiftdeploy", `${this.id}${s}`),
  );
  readonly stacks: PulumiStack[] = [];
  readonly keptImages: string[] = [];
  compose?: ComposeProject;
  /** The project's selected stack before the bench (scripts/pulumi.sh selects the stack it deploys). */
  private selectedStack: string | null = null;

  constructor(readonly env: NodeJS.ProcessEnv) {}

  async rememberSelectedStack(): Promise<void> {
    try {
      const run = await runTimed("pulumi", ["stack", "--show-name", "--non-interactive"], { env: this.env });
      this.selectedStack = run.lines[0]?.text.trim() || null;
    } catch {
      this.selectedStack = null; // none selected
    }
  }

  /** The manifest with a short observation window, so the canary bench does not wait 30 s. */
  writeManifest(): void {
    const text = fs.readFileSync(path.join(ROOT, "manifest.yaml"), "utf8");
    const short = text.replace(
      /observation_window_s:\s*\d+/,
      `observation_window_s: ${OBSERVATION_WINDOW_S}`,
    );
    if (short === text) throw new Error("manifest.yaml has no gates.observation_window_s to shorten");
    fs.mkdirSync(path.join(ROOT, ".swiftdeploy", this.id), { recursive: true });
    fs.writeFileSync(path.join(ROOT, this.manifestFile), short);
  }

  plan(stack: string, ports: { ingress: number; admin: number }): StackPlan {
    const manifest = applyPortOverrides(loadManifest(path.join(ROOT, this.manifestFile)), {
      mode: "stable",
      ingressPort: ports.ingress,
      adminPort: ports.admin,
    });
    return planStack({ project: PROJECT, stack, mode: "stable", manifest, projectDir: ROOT });
  }

  async stack(name: string, dir: string, ports: { ingress: number; admin: number }): Promise<PulumiStack> {
    const configFile = path.join(ROOT, ".swiftdeploy", name, `Pulumi.${name}.yaml`);
    const stack = new PulumiStack(name, dir, configFile, this.env);
    this.stacks.push(stack);
    await stack.init({
      "swiftdeploy:ingressPort": String(ports.ingress),
      "swiftdeploy:adminPort": String(ports.admin),
      "swiftdeploy:manifest": this.manifestFile,
    });
    return stack;
  }

  /** Extra tags on the images the stack built: compose runs them by name, and destroys cannot drop them. */
  async keepImages(plan: StackPlan): Promise<{ opa: string; app: string; nginx: string }> {
    const keep = `${this.dockerPrefix}-keep`;
    const pairs = {
      opa: [`${plan.names.opaImage}:latest`, `${keep}/opa:latest`],
      app: [plan.appImage, `${keep}/app:${plan.manifest.service.version}`],
      nginx: [`${plan.names.nginxImage}:latest`, `${keep}/nginx:latest`],
    };
    for (const [source, tag] of Object.values(pairs)) {
      await runTimed("docker", ["tag", source, tag], { env: this.env });
      this.keptImages.push(tag);
    }
    return { opa: pairs.opa[1], app: pairs.app[1], nginx: pairs.nginx[1] };
  }

  /** Removes everything this run made; reports, never throws. */
  async cleanup(): Promise<void> {
    log(`cleanup: removing ${this.id}'s stacks, compose project, containers, networks, images, state`);
    if (this.compose) await this.compose.down().catch((err: Error) => log(`cleanup: ${err.message}`));
    for (const stack of [...this.stacks].reverse()) await stack.remove(log);
    await this.sweepDocker();
    for (const dir of this.stateDirs) fs.rmSync(dir, { recursive: true, force: true });
    const select = this.selectedStack ? ["select", this.selectedStack] : ["unselect"];
    await runTimed("pulumi", ["stack", ...select, "--non-interactive"], { env: this.env }).catch(
      (err: Error) => log(`cleanup: could not restore the selected stack: ${err.message}`),
    );
  }

  /** Anything left with this run's Docker prefix (a destroy that failed half-way, say) goes too. */
  private async sweepDocker(): Promise<void> {
    const list = async (args: string[]) =>
      (await runTimed("docker", args, { env: this.env })).lines.map((l) => l.text.trim()).filter(Boolean);
    const mine = (name: string) =>
      name.startsWith(`${this.dockerPrefix}-`) || name.startsWith(`${this.dockerPrefix}/`);
    try {
      const containers = (await list(["ps", "-a", "--format", "{{.Names}}"])).filter(mine);
      if (containers.length) await runTimed("docker", ["rm", "-f", ...containers], { env: this.env });
      const networks = (await list(["network", "ls", "--format", "{{.Name}}"])).filter(mine);
      if (networks.length) await runTimed("docker", ["network", "rm", ...networks], { env: this.env });
      const images = (await list(["images", "--format", "{{.Repository}}:{{.Tag}}"])).filter(mine);
      if (images.length) await runTimed("docker", ["rmi", ...images], { env: this.env });
      const left = [...containers, ...networks, ...images.filter((i) => !this.keptImages.includes(i))];
      if (left.length) log(`cleanup: swept leftovers: ${left.join(", ")}`);
    } catch (err) {
      log(`cleanup: sweeping Docker objects of ${this.dockerPrefix} failed: ${(err as Error).message}`);
    }
  }
}

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

function deploySystems(
  world: BenchWorld,
  sd: PulumiStack,
  plain: PulumiStack,
  compose: ComposeProject,
): DeploySystem[] {
  const deployEnv = { ...world.env, SWIFTDEPLOY_STACK: sd.name };
  // The stack's config file is not where Pulumi looks by default (see PulumiStack), hence the extra flag.
  const npmDeploy = () =>
    runTimed("npm", ["run", "--silent", "deploy", "--", "--config-file", sd.configFile], {
      env: deployEnv,
      timeoutMs: 240_000,
    });
  // The deploy script with the preview switched the other way, run as npm runs scripts (sh -c).
  const otherScript = otherScriptOf(DEPLOY_SCRIPT);
  const otherDeploy = () =>
    runTimed("sh", ["-c", `${otherScript} --config-file "${sd.configFile}"`], {
      env: deployEnv,
      timeoutMs: 240_000,
    });
  // A stock Pulumi user: preview on, ts-node type-checks the program.
  const stock = { PULUMI_NODEJS_TRANSPILE_ONLY: "false" };
  const composeSystem = (wait: boolean, cold: string, noop: string): DeploySystem => ({
    key: wait ? "compose-wait" : "compose",
    label: wait ? "Compose v2 (--wait)" : "Compose v2",
    cold: { label: cold, run: () => compose.up(wait) },
    noop: [{ label: noop, run: () => compose.up(wait) }],
    teardown: () => compose.down(),
  });
  return [
    {
      key: "swiftdeploy",
      label: "SwiftDeploy",
      cold: { label: LABELS.sdCold, run: npmDeploy },
      noop: [
        { label: LABELS.sdNoop, run: npmDeploy },
        { label: LABELS.sdNoopOther, run: otherDeploy },
      ],
      teardown: () => sd.destroy(),
    },
    {
      key: "plain",
      label: "plain Pulumi",
      cold: { label: LABELS.plainCold, run: () => plain.up(["--yes"], stock) },
      noop: [
        { label: LABELS.plainNoop, run: () => plain.up(["--yes"], stock) },
        { label: LABELS.plainNoopFast, run: () => plain.up(["--yes", "--skip-preview"]) },
      ],
      teardown: () => plain.destroy(),
    },
    composeSystem(false, LABELS.composeCold, LABELS.composeNoop),
    composeSystem(true, LABELS.composeWaitCold, LABELS.composeWaitNoop),
  ];
}

async function section<T>(results: Results, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (interrupted > 0) throw new Error(`interrupted before ${name}`);
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
    return benchDeploys(deploySystems(world, sd, plain, world.compose), ROUNDS, log);
  });
  results.programWorkMs = await section(results, "2b. the program's own work, in-process", () =>
    programWorkMs(world),
  );
  results.metrics = await section(results, "4a. metrics middleware overhead", () =>
    runMetricsOverheadBench(),
  );
  results.dashboard = await section(results, "4b. dashboard CPU per refresh", () => benchDashboardCpu(50));
}

// ---- the report -------------------------------------------------------------------------------------

const ms = (v: number) => `${v.toFixed(1)} ms`;
const mark = (ok: boolean) => (ok ? "meets" : "MISSES");

function medianMs(deploys: DeployBenchResult, label: string): number | undefined {
  for (const system of deploys.systems) {
    const runs = system.runs.get(label);
    if (runs && runs.length > 0) return median(runs.map((r) => r.ms));
  }
  return undefined;
}

function runsOf(deploys: DeployBenchResult, label: string): TimedRun[] {
  for (const system of deploys.systems) if (system.runs.has(label)) return system.runs.get(label)!;
  return [];
}

function deployRows(d: DeployBenchResult): string[][] {
  const m = (label: string) => medianMs(d, label) ?? NaN;
  const all = (label: string) =>
    runsOf(d, label)
      .map((r) => (r.ms / 1000).toFixed(2))
      .join(", ");
  const row = (label: string, target: string, verdict: string) => [
    label,
    `${secs(m(label))}  (runs: ${all(label)})`,
    target,
    verdict,
  ];
  const compose = m(LABELS.composeCold);
  const composeNoop = m(LABELS.composeNoop);
  const plainNoop = m(LABELS.plainNoop);
  const plainFast = m(LABELS.plainNoopFast);
  const sdCold = m(LABELS.sdCold);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const noopVerdict = (v: number) =>
    `${ratio(v, composeNoop)} compose (${mark(v <= 30 * composeNoop)}); ${ratio(v, plainNoop)} plain ` +
    `(${mark(v <= 0.4 * plainNoop)}); ${ratio(v, plainFast)} plain --skip-preview`;
  return [
    row(LABELS.sdCold, "<= 5x compose up -d", `${ratio(sdCold, compose)} (${mark(sdCold <= 5 * compose)})`),
    row(LABELS.plainCold, "", `${ratio(m(LABELS.plainCold), compose)} compose`),
    row(LABELS.composeCold, "", "baseline"),
    row(LABELS.composeWaitCold, "", `${ratio(sdCold, m(LABELS.composeWaitCold))} SwiftDeploy cold / this`),
    row(LABELS.sdNoop, "<= 30x compose, <= 0.4x plain", noopVerdict(m(LABELS.sdNoop))),
    row(LABELS.sdNoopOther, "<= 30x compose, <= 0.4x plain", noopVerdict(m(LABELS.sdNoopOther))),
    row(LABELS.plainNoop, "", "baseline"),
    row(LABELS.plainNoopFast, "", ""),
    row(LABELS.composeNoop, "", "baseline"),
    row(LABELS.composeWaitNoop, "", ""),
  ];
}

/** cli-table3 colours its borders and header; a log file or a report wants plain text. */
const TABLE_STYLE = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

function mainTable(r: Results): string {
  const table = new Table({
    head: ["measure", "figure (median unless said)", "target", "verdict"],
    wordWrap: true,
    colWidths: [40, 50, 18, 36],
    ...TABLE_STYLE,
  });
  if (r.gate) {
    const g = r.gate;
    table.push(
      [
        `1. gate decision: host facts + OPA over Unix socket (${g.socket.runs} decisions)`,
        `p50 ${ms(g.socket.p50)}, p90 ${ms(g.socket.p90)} (facts p50 ${ms(g.factsP50)}, OPA query p50 ${ms(g.opaQueryP50)})`,
        "<= 10 ms p50",
        mark(g.socket.p50 <= 10),
      ],
      [
        `1. original transport: facts + docker exec opa eval (${g.dockerExec.runs} decisions)`,
        `p50 ${ms(g.dockerExec.p50)}, p90 ${ms(g.dockerExec.p90)}`,
        "",
        `socket is ${(g.dockerExec.p50 / g.socket.p50).toFixed(0)}x faster at p50`,
      ],
    );
  }
  if (r.deploys) for (const row of deployRows(r.deploys)) table.push([`2. ${row[0]}`, ...row.slice(1)]);
  if (r.canary) {
    const c = r.canary;
    table.push([
      `3. canary gate beyond its ${c.windowSeconds} s window`,
      `${c.overheadMs} ms (gate ${c.durationMs} ms in all; promotion ${c.allowed ? "allowed" : "REFUSED"}; ` +
        `traffic ${c.traffic.sent} requests, ${c.traffic.failed} failed)`,
      "<= 100 ms",
      mark(c.overheadMs <= 100),
    ]);
  }
  if (r.metrics) {
    const m = r.metrics;
    table.push([
      "4. metrics middleware: req/s with / without",
      `${m.ratio.toFixed(3)}x (${m.medians.with.requestsPerSecond.toFixed(0)} / ` +
        `${m.medians.without.requestsPerSecond.toFixed(0)} req/s); per server CPU-s ${m.cpuRatio.toFixed(3)}x`,
      ">= 0.95x",
      mark(m.ratio >= 0.95),
    ]);
  }
  if (r.dashboard) {
    const d = r.dashboard;
    table.push([
      "4. dashboard CPU per refresh",
      `${ms(d.cpuMsPerRefresh)} (mean of ${d.refreshes}; wall p50 ${ms(d.wallMsPerRefreshP50)})`,
      "",
      "",
    ]);
  }
  return table.toString();
}

/** Median of each phase over the runs of one command. */
function medianPhases(runs: TimedRun[]): PulumiPhases {
  const phases = runs.map(pulumiPhases);
  const keys = Object.keys(phases[0]) as (keyof PulumiPhases)[];
  return Object.fromEntries(keys.map((k) => [k, median(phases.map((p) => p[k]))])) as unknown as PulumiPhases;
}

/** The n longest resource steps over the runs of one command, by median, e.g. "opa-server 3.05 s". */
function slowestSteps(runs: TimedRun[], n: number): string {
  if (runs.length === 0) return "no runs";
  const all = runs.map(stepDurations);
  const names = [...new Set(all.flatMap((m) => [...m.keys()]))];
  const medians = names.map((name) => ({
    name,
    ms: median(all.map((m) => m.get(name)).filter((v): v is number => v !== undefined)),
  }));
  medians.sort((a, b) => b.ms - a.ms);
  return medians
    .slice(0, n)
    .map((m) => `${m.name} ${secs(m.ms)}`)
    .join(", ");
}

/** One sentence on where a SwiftDeploy no-op spends its time, next to plain Pulumi's floor. */
function noopSummary(d: DeployBenchResult, programMs: number | undefined): string {
  const sd = runsOf(d, LABELS.sdNoop);
  const floor = runsOf(d, LABELS.plainNoopFast);
  if (sd.length === 0 || floor.length === 0) return "";
  const p = medianPhases(sd);
  const plain = median(floor.map((r) => r.ms));
  const program = programMs === undefined ? "" : ` (the program's own work is ${secs(programMs)} of it)`;
  return (
    `No-op "npm run deploy", ${secs(p.total)}: Pulumi's update up to the gate (language host, Node program, ` +
    `provider plugins, diffs) ${secs(p.updateBeforeGate)}${program}; npm + setup ${secs(p.setup)}; ` +
    `CLI start ${secs(p.cliStart)}; gate step ${secs(p.gateStep)}; after the gate ` +
    `${secs(p.updateAfterGate)}. Plain Pulumi's floor for the same resources (--skip-preview, ` +
    `transpile-only) is ${secs(plain)}, ${secs(Math.abs(plain - p.total))} ` +
    `${plain >= p.total ? "more than" : "less than"} SwiftDeploy's whole npm run deploy.`
  );
}

function phaseTable(d: DeployBenchResult, programMs: number | undefined): string {
  const table = new Table({
    head: [
      "where the time goes (medians, s)",
      "total",
      "npm+setup",
      "CLI",
      "preview",
      "update to gate",
      "gate step",
      "rest",
    ],
    ...TABLE_STYLE,
  });
  const labels = [
    LABELS.sdCold,
    LABELS.sdNoop,
    LABELS.sdNoopOther,
    LABELS.plainCold,
    LABELS.plainNoop,
    LABELS.plainNoopFast,
  ];
  for (const label of labels) {
    const runs = runsOf(d, label);
    if (runs.length === 0) continue;
    const p = medianPhases(runs);
    const s = (v: number) => (v / 1000).toFixed(2);
    const gated = p.gateStep > 0;
    table.push([
      label,
      s(p.total),
      s(p.setup),
      s(p.cliStart),
      s(p.preview),
      gated ? s(p.updateBeforeGate) : "-",
      gated ? s(p.gateStep) : "-",
      gated ? s(p.updateAfterGate) : `${s(p.updateAfterGate)} (whole update)`,
    ]);
  }
  const slowest = [LABELS.sdCold, LABELS.plainCold]
    .map((label) => `Slowest steps of "${label}" (medians): ${slowestSteps(runsOf(d, label), 6)}`)
    .join("\n");
  const program =
    programMs === undefined
      ? ""
      : `\nThe program's own work (manifest, plan, host files, service bundle), measured in-process: ${ms(programMs)}.`;
  return `${table.toString()}\n${noopSummary(d, programMs)}\n${slowest}${program}`;
}

function definitions(): string {
  return `Definitions:
  cold   = no container or network of that deployment exists (pulumi destroy / compose down before it); the
           images are already built and tagged, so Pulumi's RemoteImage builds are Docker layer-cache hits.
  no-op  = the same command again with nothing changed.
  npm run deploy = the whole command a user types: npm, then package.json's deploy script
           "${DEPLOY_SCRIPT}" (scripts/pulumi.sh: setup's warm check, then pulumi up; the program
           transpiled by sucrase per Pulumi.yaml), with the bench stack's --config-file appended. The other
           deploy-script row runs "${otherScriptOf(DEPLOY_SCRIPT)}" through sh -c (no npm start).
  plain  = bench/plain: the same components and creation order (app after OPA), no gates, no audit
           record. "pulumi up --yes" is a stock run: preview on, ts-node type-checks the program; the
           --skip-preview row is ts-node transpile-only (SWC), Pulumi's fastest stock setting.
  compose up -d returns when the containers have started; --wait also waits for every healthcheck, which is
           what Pulumi's wait: true would do (first probe one healthcheck interval, 5 s, after start);
           SwiftDeploy probes the same routes from the host instead (components/readiness.ts). The compose
           file is rendered from the same manifest by liquidjs (bench/docker-compose.yml.liquid) and runs
           the very images the bench stack built.`;
}

function report(r: Results, totalMs: number): string {
  const parts = [
    `\nSwiftDeploy bench, ${new Date().toISOString()}, ${secs(totalMs)} in all, 1-min load average now ${loadavg()[0].toFixed(2)}`,
  ];
  parts.push(mainTable(r));
  if (r.deploys) parts.push(phaseTable(r.deploys, r.programWorkMs));
  parts.push(definitions());
  if (r.errors.length > 0) parts.push(`FAILED parts:\n${r.errors.map((e) => `  - ${e}`).join("\n")}`);
  return parts.join("\n\n");
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
