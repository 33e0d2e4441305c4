import { parseArgs } from "node:util";
import type { TargetOverrides } from "./stack";

export interface StatusOptions {
  target: TargetOverrides;
  intervalSeconds: number;
  /** Print one frame without ANSI codes and exit. */
  once: boolean;
  /** Print one snapshot as JSON and exit. */
  json: boolean;
  /** For --once/--json: scrapes taken --interval apart before printing (2 or more shows rates). */
  samples: number;
  help: boolean;
}

export const STATUS_USAGE = `Usage: npm run status -- [options]

Live dashboard of a deployed SwiftDeploy stack (Ctrl+C to quit).

  --interval SECONDS   refresh period (default 5)
  --once               print one frame without colours and exit
  --json               print one snapshot as JSON and exit
  --samples N          with --once/--json: scrape N times, --interval apart, and print the last
                       (the first scrape has no rates; --samples 2 shows the rates over one interval)
  --stack NAME         the Pulumi stack to watch (default: the selected stack; when none is, the
                       one \`npm run deploy\` deploys: $SWIFTDEPLOY_STACK, else dev)
  --admin-url URL      a stable replica's admin URL, repeatable (default: output adminTargets, else
                       adminUrls; with no --canary-url, every replica given counts as stable)
  --canary-url URL     a canary replica's admin URL, repeatable
  --opa-socket PATH    OPA's Unix socket (default: output opaSocket)
  --history FILE       where scrapes are appended (default: output historyFile)
With --admin-url (or --canary-url), --opa-socket and --history all given, Pulumi is not asked.`;

/** Parses `npm run status` arguments; errors name the option and the bad value. */
export function parseStatusArgs(argv: string[]): StatusOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      interval: { type: "string", default: "5" },
      once: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      samples: { type: "string", default: "1" },
      stack: { type: "string" },
      "admin-url": { type: "string", multiple: true, default: [] },
      "canary-url": { type: "string", multiple: true, default: [] },
      "opa-socket": { type: "string" },
      history: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const intervalSeconds = Number(values.interval);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 0.1 || intervalSeconds > 3600) {
    throw new Error(
      `--interval must be a number of seconds from 0.1 to 3600, got ${JSON.stringify(values.interval)}`,
    );
  }
  const samples = Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1 || samples > 100) {
    throw new Error(`--samples must be a whole number from 1 to 100, got ${JSON.stringify(values.samples)}`);
  }
  for (const option of ["admin-url", "canary-url"] as const) {
    for (const url of values[option]) {
      if (!/^https?:\/\/[^/]+/.test(url))
        throw new Error(`--${option} must be an http:// URL, got ${JSON.stringify(url)}`);
    }
  }
  return {
    target: {
      stack: values.stack,
      adminUrls: values["admin-url"],
      canaryUrls: values["canary-url"],
      opaSocket: values["opa-socket"],
      historyFile: values.history,
    },
    intervalSeconds,
    once: values.once,
    json: values.json,
    samples,
    help: values.help,
  };
}
