// Deploy times of SwiftDeploy against two baselines, measured side by side by `npm run bench`:
//   swiftdeploy  the real stack (gates and audit record included), through what `npm run deploy` runs
//   plain        bench/plain: the same components without gates or audit record, a stock `pulumi up`
//   compose      `docker compose up -d` of a compose file rendered from the same manifest, same images
// Runs are interleaved (the order of the three rotates every round) so drift of a shared machine hits all
// of them alike, and medians are reported. Here: the measured commands and their labels (the report's
// rows), and the interleaved rounds.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ComposeProject } from "./compose";
import { secs } from "./format";
import { ROOT } from "./paths";
import { runTimed, type TimedRun } from "./process";
import type { PulumiStack } from "./pulumi";

/** What `npm run deploy` runs (package.json), and whether it skips Pulumi's preview. */
export const DEPLOY_SCRIPT = readDeployScript();
const DEPLOY_SKIPS_PREVIEW = DEPLOY_SCRIPT.includes("--skip-preview");

/** The label of each measured command, which is also its row in the report. */
export const LABELS = {
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

/** The deploy script with Pulumi's preview switched the other way. */
export function otherScriptOf(script: string): string {
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

/**
 * The systems of the deploy bench: SwiftDeploy through `npm run deploy` (and the deploy script with the preview
 * switched), plain Pulumi, and Compose without and with --wait.
 */
export function deploySystems(
  env: NodeJS.ProcessEnv,
  sd: PulumiStack,
  plain: PulumiStack,
  compose: ComposeProject,
): DeploySystem[] {
  const deployEnv = { ...env, SWIFTDEPLOY_STACK: sd.name };
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
