import { runPulumi } from "../../lib/pulumi-cli";
import { releaseStateOf } from "../../lib/release-state";
import type { ReleaseView } from "./snapshot";

/** What the dashboard watches, from the stack's outputs and/or the command line. */
export interface StackTarget {
  stack: string;
  /** One admin base URL per app replica, e.g. http://127.0.0.1:9100. */
  adminUrls: string[];
  /**
   * Each admin URL with its labels (output `adminTargets`; `set` and `version` are read); null when neither
   * the stack (deployed before the two sets) nor the command line says: every admin URL is then stable's.
   */
  adminTargets: AdminTarget[] | null;
  /** The versions and the canary's weight (outputs `release`, `canaryWeight`); null when not read from Pulumi. */
  release: ReleaseView | null;
  opaSocket: string;
  historyFile: string;
  /** The stack's configured mode (output `mode`); null when not read from Pulumi. */
  configuredMode: string | null;
}

import type { AdminTarget } from "../../lib/types";

export type { AdminTarget };

/** Command-line values that replace the stack's outputs, so tests can run without Pulumi. */
export interface TargetOverrides {
  stack?: string;
  /** The stable set's admin URLs (every replica's, when no canary URL is given). */
  adminUrls: string[];
  /** The canary set's admin URLs. */
  canaryUrls: string[];
  opaSocket?: string;
  historyFile?: string;
}

/** The name used in history events when every value came from the command line. */
export const LOCAL_STACK = "local";

type RunPulumi = (args: string[], cwd: string) => Promise<string>;

/** The stack `npm run deploy` deploys when none is named (scripts/pulumi.sh). */
export const DEPLOY_DEFAULT_STACK = process.env.SWIFTDEPLOY_STACK || "dev";

/** The stack does not exist or has no outputs (never deployed, destroyed, or its first deploy failed). */
export class StackNotDeployedError extends Error {
  constructor(stack: string, deployDefault = DEPLOY_DEFAULT_STACK) {
    const deploy = stack === deployDefault ? "npm run deploy" : `SWIFTDEPLOY_STACK=${stack} npm run deploy`;
    super(`stack ${stack} is not deployed; deploy it with \`${deploy}\``);
    this.name = "StackNotDeployedError";
  }
}

/**
 * Reads `pulumi stack output --json` only when an override is missing: with --admin-url (or --canary-url),
 * --opa-socket and --history all given, Pulumi is never asked. Without --stack, the selected stack is
 * watched, or, when none is selected, the one `npm run deploy` would deploy.
 */
export async function resolveStackTarget(
  overrides: TargetOverrides,
  projectDir: string,
  pulumi: RunPulumi = runPulumi,
  deployDefault = DEPLOY_DEFAULT_STACK,
): Promise<StackTarget> {
  const { opaSocket, historyFile } = overrides;
  const pinned = overrides.adminUrls.length > 0 || overrides.canaryUrls.length > 0;
  if (pinned && opaSocket && historyFile) {
    return {
      stack: overrides.stack ?? LOCAL_STACK,
      ...commandLineTargets(overrides, null),
      release: null,
      opaSocket,
      historyFile,
      configuredMode: null,
    };
  }
  const stack = overrides.stack ?? (await selectedStack(projectDir, pulumi)) ?? deployDefault;
  const outputs = parseStackOutputs(await stackOutputs(stack, projectDir, pulumi, deployDefault), stack);
  if (outputs === null) throw new StackNotDeployedError(stack, deployDefault);
  const replicas = pinned
    ? commandLineTargets(overrides, outputs.release)
    : { adminUrls: outputs.adminUrls, adminTargets: outputs.adminTargets };
  return {
    stack,
    ...replicas,
    release: outputs.release,
    opaSocket: opaSocket ?? outputs.opaSocket,
    historyFile: historyFile ?? outputs.historyFile,
    configuredMode: outputs.mode,
  };
}

/**
 * The replicas the command line names: --admin-url alone is one stable set, as before the two sets; with
 * --canary-url, those are the canary set's. Versions come from the stack's outputs when they were read.
 */
function commandLineTargets(
  overrides: TargetOverrides,
  release: ReleaseView | null,
): Pick<StackTarget, "adminUrls" | "adminTargets"> {
  const { adminUrls, canaryUrls } = overrides;
  if (canaryUrls.length === 0) {
    const version = release?.stableVersion;
    const labels = { set: "stable", ...(version ? { version } : {}) };
    return { adminUrls, adminTargets: release ? adminUrls.map((url) => ({ url, labels })) : null };
  }
  const target = (set: "stable" | "canary", version: string | null | undefined) => (url: string) => ({
    url,
    labels: { set, ...(version ? { version } : {}) },
  });
  return {
    adminUrls: [...adminUrls, ...canaryUrls],
    adminTargets: [
      ...adminUrls.map(target("stable", release?.stableVersion)),
      ...canaryUrls.map(target("canary", release?.canaryVersion)),
    ],
  };
}

// What the CLI says (in its own words, on stderr) when nothing has been deployed: the file backend's state
// directory is created by the first `pulumi stack init`; a stack that was never created is not found.
const NO_STATE = /unable to open state directory/;
const NO_SELECTED_STACK = /no stack selected/;
const NO_SUCH_STACK = /no stack named '[^']*' found/;

/** The selected stack's name; null when none is selected (or no stack exists yet). */
async function selectedStack(projectDir: string, pulumi: RunPulumi): Promise<string | null> {
  try {
    return (await pulumi(["stack", "--show-name"], projectDir)).trim() || null;
  } catch (err) {
    if (NO_SELECTED_STACK.test(String(err)) || NO_STATE.test(String(err))) return null;
    throw err;
  }
}

async function stackOutputs(
  stack: string,
  projectDir: string,
  pulumi: RunPulumi,
  deployDefault: string,
): Promise<string> {
  try {
    return await pulumi(["stack", "output", "--json", "--stack", stack], projectDir);
  } catch (err) {
    if (NO_SUCH_STACK.test(String(err)) || NO_STATE.test(String(err))) {
      throw new StackNotDeployedError(stack, deployDefault);
    }
    throw err;
  }
}

interface StackOutputs {
  adminUrls: string[];
  adminTargets: AdminTarget[] | null;
  release: ReleaseView | null;
  opaSocket: string;
  historyFile: string;
  mode: string | null;
}

/**
 * The outputs the dashboard needs, checked: an error names the output and what it held instead. null when
 * the stack has no outputs at all, as before its first deploy.
 */
export function parseStackOutputs(json: string, stack: string): StackOutputs | null {
  let outputs: Record<string, unknown>;
  try {
    outputs = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new Error(`stack ${stack}: \`pulumi stack output --json\` printed no JSON: ${json.slice(0, 200)}`);
  }
  if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
    throw new Error(
      `stack ${stack}: \`pulumi stack output --json\` must print an object, got ${json.slice(0, 200)}`,
    );
  }
  if (Object.keys(outputs).length === 0) return null;
  const missing = (key: string) =>
    new Error(
      `stack ${stack}: output ${key} must be ${key === "adminUrls" ? "a non-empty list of URLs" : "a string"}, ` +
        `got ${JSON.stringify(outputs[key])} (outputs: ${Object.keys(outputs).join(", ")})`,
    );
  const adminUrls = outputs.adminUrls;
  if (!Array.isArray(adminUrls) || adminUrls.length === 0 || !adminUrls.every((u) => typeof u === "string")) {
    throw missing("adminUrls");
  }
  const string = (key: string): string => {
    const value = outputs[key];
    if (typeof value !== "string" || value === "") throw missing(key);
    return value;
  };
  const mode = outputs.mode;
  return {
    adminUrls: adminUrls as string[],
    adminTargets: adminTargetsOf(outputs.adminTargets, stack),
    release: releaseViewOf(outputs),
    opaSocket: string("opaSocket"),
    historyFile: string("historyFile"),
    mode: typeof mode === "string" ? mode : null,
  };
}

/** Output `adminTargets`, checked; null when the stack has none (deployed before the two sets). */
function adminTargetsOf(value: unknown, stack: string): AdminTarget[] | null {
  if (value === undefined || value === null) return null;
  const isTarget = (t: unknown): t is AdminTarget =>
    typeof t === "object" &&
    t !== null &&
    typeof (t as AdminTarget).url === "string" &&
    typeof (t as AdminTarget).labels === "object" &&
    (t as AdminTarget).labels !== null;
  if (!Array.isArray(value) || !value.every(isTarget)) {
    throw new Error(
      `stack ${stack}: output adminTargets must be a list of {url, labels}, got ${JSON.stringify(value).slice(0, 200)}`,
    );
  }
  return value.map((t) => ({ url: t.url, labels: { ...t.labels } }));
}

/**
 * The versions from output `release` (else `stableVersion` and `canaryVersion`) and the weight from
 * `canaryWeight`; null for a stack deployed before the two sets, which exports none of them.
 */
function releaseViewOf(outputs: Record<string, unknown>): ReleaseView | null {
  const weight = typeof outputs.canaryWeight === "number" ? outputs.canaryWeight : null;
  if (outputs.release !== undefined && outputs.release !== null) {
    const release = releaseStateOf(outputs.release);
    return {
      stableVersion: release.stable?.version ?? null,
      canaryVersion: release.canary?.version ?? null,
      weight,
    };
  }
  if (!("stableVersion" in outputs) && !("canaryVersion" in outputs)) return null;
  const version = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    stableVersion: version(outputs.stableVersion),
    canaryVersion: version(outputs.canaryVersion),
    weight,
  };
}
