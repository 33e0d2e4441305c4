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

/**
 * Reads `pulumi stack output --json` only when an override is missing: with --admin-url, --opa-socket and
 * --history all given, Pulumi is never asked.
 */
export async function resolveStackTarget(
  overrides: TargetOverrides,
  projectDir: string,
  pulumi: RunPulumi = runPulumi,
): Promise<StackTarget> {
  const { adminUrls, opaSocket, historyFile } = overrides;
  if (adminUrls.length > 0 && opaSocket && historyFile) {
    return { stack: overrides.stack ?? LOCAL_STACK, adminUrls, opaSocket, historyFile, configuredMode: null };
  }
  const stack = overrides.stack ?? (await pulumi(["stack", "--show-name"], projectDir)).trim();
  const outputs = parseStackOutputs(
    await pulumi(["stack", "output", "--json", "--stack", stack], projectDir),
    stack,
  );
  return {
    stack,
    adminUrls: adminUrls.length > 0 ? adminUrls : outputs.adminUrls,
    opaSocket: opaSocket ?? outputs.opaSocket,
    historyFile: historyFile ?? outputs.historyFile,
    configuredMode: outputs.mode,
  };
}

interface StackOutputs {
  adminUrls: string[];
  opaSocket: string;
  historyFile: string;
  mode: string | null;
}

/** The outputs the dashboard needs, checked: an error names the output and what it held instead. */
export function parseStackOutputs(json: string, stack: string): StackOutputs {
  let outputs: Record<string, unknown>;
  try {
    outputs = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new Error(`stack ${stack}: \`pulumi stack output --json\` printed no JSON: ${json.slice(0, 200)}`);
  }
  const missing = (key: string) => {
    const present = Object.keys(outputs ?? {}).join(", ") || "none";
    const hint = present === "none" ? "; is it deployed? (npm run deploy)" : "";
    return new Error(
      `stack ${stack}: output ${key} must be ${key === "adminUrls" ? "a non-empty list of URLs" : "a string"}, ` +
        `got ${JSON.stringify(outputs?.[key])} (outputs: ${present}${hint})`,
    );
  };
  const adminUrls = outputs?.adminUrls;
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
