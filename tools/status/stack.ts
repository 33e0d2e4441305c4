import { runPulumi } from "../../lib/pulumi-cli";

/** What the dashboard watches, from the stack's outputs and/or the command line. */
export interface StackTarget {
  stack: string;
  /** One admin base URL per app replica, e.g. http://127.0.0.1:9100. */
  adminUrls: string[];
  opaSocket: string;
  historyFile: string;
  /** The stack's configured mode (output `mode`); null when not read from Pulumi. */
  configuredMode: string | null;
}

/** Command-line values that replace the stack's outputs, so tests can run without Pulumi. */
export interface TargetOverrides {
  stack?: string;
  adminUrls: string[];
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
 * Reads `pulumi stack output --json` only when an override is missing: with --admin-url, --opa-socket and
 * --history all given, Pulumi is never asked. Without --stack, the selected stack is watched, or, when none
 * is selected, the one `npm run deploy` would deploy.
 */
export async function resolveStackTarget(
  overrides: TargetOverrides,
  projectDir: string,
  pulumi: RunPulumi = runPulumi,
  deployDefault = DEPLOY_DEFAULT_STACK,
): Promise<StackTarget> {
  const { adminUrls, opaSocket, historyFile } = overrides;
  if (adminUrls.length > 0 && opaSocket && historyFile) {
    return { stack: overrides.stack ?? LOCAL_STACK, adminUrls, opaSocket, historyFile, configuredMode: null };
  }
  const stack = overrides.stack ?? (await selectedStack(projectDir, pulumi)) ?? deployDefault;
  const outputs = parseStackOutputs(await stackOutputs(stack, projectDir, pulumi, deployDefault), stack);
  if (outputs === null) throw new StackNotDeployedError(stack, deployDefault);
  return {
    stack,
    adminUrls: adminUrls.length > 0 ? adminUrls : outputs.adminUrls,
    opaSocket: opaSocket ?? outputs.opaSocket,
    historyFile: historyFile ?? outputs.historyFile,
    configuredMode: outputs.mode,
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
    opaSocket: string("opaSocket"),
    historyFile: string("historyFile"),
    mode: typeof mode === "string" ? mode : null,
  };
}
