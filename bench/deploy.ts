// Deploy times of SwiftDeploy against two baselines, measured side by side by `npm run bench`:
//   swiftdeploy  the real stack (gates and audit record included), through what `npm run deploy` runs
//   plain        bench/plain: the same components without gates or audit record, a stock `pulumi up`
//   compose      `docker compose up -d` of a compose file rendered from the same manifest, same images
// Runs are interleaved (the order of the three rotates every round) so drift of a shared machine hits all
// of them alike, and medians are reported. Also the helpers the harness and the gate benches share: a
// timed command runner, a Pulumi stack and a Compose project that clean up after themselves.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { Liquid } from "liquidjs";
import { appHealthProbe } from "../components/app";
import { nginxHealthProbe } from "../components/nginx";
import { opaHealthProbe, opaRunArgs } from "../components/opa";
import { listFiles } from "../program/build-context";
import { HEALTHCHECK } from "../components/supervised";
import { nginxConfig, NGINX_LISTEN_PORT, APP_NETWORK_ALIAS, type StackPlan } from "../program/plan";

export const ROOT = path.resolve(__dirname, "..");
export const PLAIN_DIR = path.join(ROOT, "bench", "plain");

// ---- statistics -------------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of no values");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// ---- timed commands ---------------------------------------------------------------------------------

export interface TimedLine {
  /** ms since the command started, when the line arrived. */
  at: number;
  text: string;
}

export interface TimedRun {
  ms: number;
  lines: TimedLine[];
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/** Ends every command still running (the harness calls this on Ctrl+C, then cleans up). */
export function killRunningCommands(): void {
  for (const child of running) child.kill("SIGTERM");
}

/** The environment of scripts/env (tools on PATH, the local Pulumi backend), read once by bash itself. */
export async function toolEnvironment(): Promise<NodeJS.ProcessEnv> {
  const run = await runTimed("bash", ["-c", "source scripts/env && env -0"], { cwd: ROOT });
  const env: NodeJS.ProcessEnv = {};
  for (const entry of run.lines
    .map((l) => l.text)
    .join("\n")
    .split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * Runs a command to its end and times it, stamping each output line (stdout and stderr) with its arrival.
 * Rejects when it exits non-zero or outlives timeoutMs, with the command and the last lines it printed.
 */
export function runTimed(command: string, args: string[], opts: RunOptions = {}): Promise<TimedRun> {
  const started = performance.now();
  const lines: TimedLine[] = [];
  const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
  running.add(child);
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const at = performance.now() - started;
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) lines.push({ at, text });
    });
    stream.on("end", () => partial && lines.push({ at: performance.now() - started, text: partial }));
  };
  collect(child.stdout);
  collect(child.stderr);
  child.stdin.end(opts.input ?? "");
  const timeoutMs = opts.timeoutMs ?? 300_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (err) => reject(new Error(`${command} could not start: ${err.message}`)));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const ms = performance.now() - started;
      if (code === 0) return resolve({ ms, lines });
      const why = signal ? `was stopped by ${signal} after ${Math.round(ms)} ms` : `exited with code ${code}`;
      const tail = lines.slice(-25).map((l) => `    ${l.text}`);
      reject(new Error([`\`${[command, ...args].join(" ")}\` ${why}; last lines:`, ...tail].join("\n")));
    });
  });
}

// ---- Pulumi stacks ----------------------------------------------------------------------------------

/**
 * A Pulumi stack of the project's local backend that the bench creates, and removes again. Its config file
 * lives in the bench's git-ignored state folder (`--config-file`), not beside the program as
 * Pulumi.<stack>.yaml, so a commit made while the bench runs cannot pick it up.
 */
export class PulumiStack {
  constructor(
    readonly name: string,
    /** The program's folder: the project root, or bench/plain. */
    readonly programDir: string,
    /** Where the stack's config file is kept. */
    readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private pulumi(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<TimedRun> {
    return runTimed("pulumi", ["--stack", this.name, "--non-interactive", ...args], {
      cwd: this.programDir,
      env: { ...this.env, ...opts.env },
      timeoutMs: 240_000,
    });
  }

  async init(config: Record<string, string>): Promise<void> {
    await runTimed("pulumi", ["stack", "init", this.name, "--non-interactive"], {
      cwd: this.programDir,
      env: this.env,
    });
    // `stack init` has no --config-file: it writes the secrets salt beside the program; move it away.
    const written = path.join(this.programDir, `Pulumi.${this.name}.yaml`);
    fs.mkdirSync(path.dirname(this.configFile), { recursive: true });
    if (fs.existsSync(written)) fs.renameSync(written, this.configFile);
    for (const [key, value] of Object.entries(config)) await this.setConfig(key, value);
  }

  async setConfig(key: string, value: string): Promise<void> {
    await this.pulumi(["config", "set", key, value, "--config-file", this.configFile]);
  }

  up(flags: string[], env?: NodeJS.ProcessEnv): Promise<TimedRun> {
    return this.pulumi(["up", ...flags, "--config-file", this.configFile], { env });
  }

  destroy(): Promise<TimedRun> {
    return this.pulumi(["destroy", "--yes", "--skip-preview", "--config-file", this.configFile]);
  }

  /** Destroys what is left and removes the stack; never throws (used in finally). */
  async remove(log: (line: string) => void): Promise<void> {
    try {
      await this.destroy();
    } catch (err) {
      log(`cleanup: destroy of stack ${this.name} failed: ${(err as Error).message}`);
    }
    try {
      await this.pulumi(["stack", "rm", "--yes", "--force"]);
    } catch (err) {
      log(`cleanup: removing stack ${this.name} failed: ${(err as Error).message}`);
    }
    fs.rmSync(path.join(this.programDir, `Pulumi.${this.name}.yaml`), { force: true });
  }
}

// ---- the Compose baseline ---------------------------------------------------------------------------

export interface ComposeImages {
  opa: string;
  app: string;
  nginx: string;
}

const SOCKET_DIR_IN_CONTAINER = "/run/opa";

/**
 * The compose file for a stack plan, rendered with liquidjs from bench/docker-compose.yml.liquid. It
 * mirrors what components/ declare: OPA's command, the healthchecks and their timings come from there; the
 * app's environment is repeated here (the component builds it from the gate's output), so a change there
 * must be made here too.
 */
export function renderComposeFile(plan: StackPlan, images: ComposeImages, user: string): string {
  const { manifest, names, paths } = plan;
  const socket = `${SOCKET_DIR_IN_CONTAINER}/opa.sock`;
  const policyFiles = listFiles(paths.policiesDir)
    .filter((f) => !f.endsWith("_test.rego"))
    .sort()
    .map((host) => ({ host, name: path.basename(host) }));
  const vars = {
    project: `${names.opaContainer.replace(/-opa$/, "")}`,
    health: {
      interval: HEALTHCHECK.interval,
      timeout: HEALTHCHECK.timeout,
      start_period: HEALTHCHECK.startPeriod,
      retries: HEALTHCHECK.retries,
    },
    networks: { public: names.publicNetwork, internal: names.internalNetwork },
    opa: {
      container: names.opaContainer,
      image: images.opa,
      user,
      command: ["/bin/sh", "-c", `rm -f ${socket} && exec opa ${opaRunArgs().join(" ")}`],
      socket_dir: paths.opaSocketDir,
      socket_dir_in_container: SOCKET_DIR_IN_CONTAINER,
      policy_files: policyFiles,
      healthcheck: ["CMD", ...opaHealthProbe(socket)],
    },
    app: {
      image: images.app,
      environment: [
        `SERVICE_NAME=${manifest.service.name}`,
        `APP_VERSION=${manifest.service.version}`,
        `APP_MODE=${plan.mode}`,
        `APP_PORT=${manifest.app.port}`,
        `ADMIN_PORT=${manifest.app.admin_port}`,
        `CHAOS_ENABLED=${manifest.app.chaos_enabled}`,
      ],
      alias: APP_NETWORK_ALIAS,
      admin_port: manifest.app.admin_port,
      healthcheck: ["CMD", ...appHealthProbe(manifest.app.port)],
      replicas: plan.adminHostPorts.map((port, index) => ({
        index,
        container: names.appContainer(index),
        admin_host_port: port,
      })),
    },
    nginx: {
      container: names.nginxContainer,
      image: images.nginx,
      bind: manifest.ingress.bind,
      port: manifest.ingress.port,
      listen_port: NGINX_LISTEN_PORT,
      config_file: paths.nginxConfigFile,
      healthcheck: ["CMD", ...nginxHealthProbe(NGINX_LISTEN_PORT)],
    },
  };
  const engine = new Liquid({
    root: __dirname,
    strictVariables: true,
    strictFilters: true,
  });
  return engine.renderFileSync("docker-compose.yml.liquid", vars);
}

/** A Compose project whose files live in the plan's state folder. */
export class ComposeProject {
  readonly file: string;

  constructor(
    readonly plan: StackPlan,
    images: ComposeImages,
    user: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    fs.mkdirSync(plan.paths.opaSocketDir, { recursive: true });
    fs.writeFileSync(plan.paths.nginxConfigFile, nginxConfig(plan));
    this.file = path.join(plan.paths.stateDir, "docker-compose.yml");
    fs.writeFileSync(this.file, renderComposeFile(plan, images, user));
  }

  compose(args: string[]): Promise<TimedRun> {
    return runTimed("docker", ["compose", "-f", this.file, ...args], { env: this.env, timeoutMs: 120_000 });
  }

  up(wait: boolean): Promise<TimedRun> {
    return this.compose(["up", "-d", ...(wait ? ["--wait"] : [])]);
  }

  down(): Promise<TimedRun> {
    return this.compose(["down", "--remove-orphans", "--timeout", "10"]);
  }
}

// ---- phases of a Pulumi run -------------------------------------------------------------------------

/** Where the time of one `pulumi up` went, from the arrival times of its output lines (ms). */
export interface PulumiPhases {
  total: number;
  /** scripts/setup.sh's warm check (only for runs through scripts/pulumi.sh). */
  setup: number;
  /** From setup's end (or the start) to the CLI's first line: CLI start, backend and state load. */
  cliStart: number;
  /** The preview pass (program run + diff), absent with --skip-preview. */
  preview: number;
  /** From "Updating" to the infrastructure gate's step (language host, program, plugins, diffs). */
  updateBeforeGate: number;
  /** The gate step as the engine reports it (dynamic provider call incl. facts + OPA). */
  gateStep: number;
  /** From the gate step (or "Updating") to the end: the steps after it, outputs, checkpoint. */
  updateAfterGate: number;
}

export function pulumiPhases(run: TimedRun): PulumiPhases {
  const at = (re: RegExp) => run.lines.find((l) => re.test(l.text));
  const setupEnd = at(/^setup: done in/)?.at ?? 0;
  const preview = at(/^Previewing (update|destroy)/);
  const update = at(/^Updating \(/);
  const gate = at(/infrastructure-gate updated \(([\d.]+)s\)/);
  const firstLine = preview ?? update;
  const cliStart = (firstLine?.at ?? setupEnd) - setupEnd;
  const updateStart = update?.at ?? run.ms;
  const gateStep = gate ? Number(/updated \(([\d.]+)s\)/.exec(gate.text)?.[1] ?? 0) * 1000 : 0;
  const gateEnd = gate?.at ?? updateStart;
  return {
    total: run.ms,
    setup: setupEnd,
    cliStart,
    preview: preview ? updateStart - preview.at : 0,
    updateBeforeGate: gate ? gateEnd - gateStep - updateStart : 0,
    gateStep,
    updateAfterGate: run.ms - gateEnd,
  };
}

/**
 * How long each resource step took (`name` -> ms), from its "creating"/"updating" line to its
 * "created"/"updated" line. The engine's own figures are rounded to whole seconds past 1 s.
 */
export function stepDurations(run: TimedRun): Map<string, number> {
  const started = new Map<string, number>();
  const durations = new Map<string, number>();
  for (const line of run.lines) {
    const step = /^\s*[+~]\s+(\S+)\s+(\S+)\s+(creating|created|updating|updated)\b/.exec(line.text);
    // The stack and the components span their children: only real steps count.
    if (!step || step[1] === "pulumi:pulumi:Stack" || step[1].startsWith("swiftdeploy:index:")) continue;
    const [, , name, state] = step;
    if (state.endsWith("ing")) started.set(name, line.at);
    else if (started.has(name)) durations.set(name, line.at - started.get(name)!);
  }
  return durations;
}

// ---- the interleaved rounds -------------------------------------------------------------------------

/** One way of deploying: how to deploy from nothing, how to deploy again with nothing changed, how to tear down. */
export interface DeploySystem {
  key: string;
  label: string;
  cold: { label: string; run: () => Promise<TimedRun> };
  noop: { label: string; run: () => Promise<TimedRun> }[];
  teardown: () => Promise<TimedRun>;
}

export interface SystemResult {
  key: string;
  label: string;
  /** Label of the measured command -> its runs. Cold first, then the no-op variants. */
  runs: Map<string, TimedRun[]>;
  teardowns: number[];
}

export interface DeployBenchResult {
  rounds: number;
  systems: SystemResult[];
}

/**
 * `rounds` rounds; in each, every system (in an order that rotates by one each round) deploys from nothing,
 * deploys again with nothing changed (each no-op variant), and tears down, so the next cold start is cold.
 * Every system must be torn down before the first round.
 */
export async function benchDeploys(
  systems: DeploySystem[],
  rounds: number,
  progress: (line: string) => void,
): Promise<DeployBenchResult> {
  const results = systems.map((s) => ({
    key: s.key,
    label: s.label,
    runs: new Map<string, TimedRun[]>([s.cold, ...s.noop].map((c) => [c.label, []])),
    teardowns: [] as number[],
  }));
  const record = (round: number, result: SystemResult, label: string, run: TimedRun) => {
    result.runs.get(label)!.push(run);
    progress(`  round ${round + 1}/${rounds} ${result.label}: ${label} ${secs(run.ms)}`);
  };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < systems.length; i++) {
      const index = (i + round) % systems.length;
      const [system, result] = [systems[index], results[index]];
      record(round, result, system.cold.label, await system.cold.run());
      for (const noop of system.noop) record(round, result, noop.label, await noop.run());
      const down = await system.teardown();
      result.teardowns.push(down.ms);
    }
  }
  return { rounds, systems: results };
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
