// `npm run status`: the live dashboard of a deployed stack (see tools/status/ and STATUS_USAGE).
import * as path from "node:path";
import logUpdate from "log-update";
import pc from "picocolors";
import { parseStatusArgs, STATUS_USAGE, type StatusOptions } from "./args";
import { collectSnapshot, errorMessage } from "./collect";
import { liveDeps } from "./live-deps";
import { refreshUntilStopped, sampleSnapshots, type Refresh } from "./loop";
import { recordScrape } from "./record";
import { renderFrame } from "./render";
import { resolveStackTarget, type StackTarget } from "./stack";
import { appLabels } from "../../program/plan";
import { runningAdminUrls } from "../../program/running";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
/** The Pulumi project name (Pulumi.yaml), which the containers' labels carry. */
const PROJECT = "swiftdeploy";
/** How long one scrape or OPA question may take before the frame says it failed. */
const REQUEST_TIMEOUT_MS = 2_000;

async function main(): Promise<void> {
  const options = parseStatusArgs(process.argv.slice(2));
  if (options.help) return void console.log(STATUS_USAGE);
  const target = await resolveStackTarget(options.target, PROJECT_DIR);
  const refresh = refresher(target, options, options.target.adminUrls.length > 0);
  const intervalMs = options.intervalSeconds * 1000;
  if (options.json || options.once) {
    const snapshot = await sampleSnapshots(refresh, options.samples, intervalMs);
    const text = options.json
      ? JSON.stringify(snapshot, null, 2)
      : renderFrame(snapshot, { color: false, width: 100 });
    return void console.log(text);
  }
  await live(refresh, intervalMs);
}

/** Collect, then append the scrape to history.jsonl (a failed append shows as a warning on the frame). */
function refresher(target: StackTarget, options: StatusOptions, pinned: boolean): Refresh {
  const deps = liveDeps({
    opaSocket: target.opaSocket,
    opaTimeoutMs: REQUEST_TIMEOUT_MS,
    scrapeTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  const collectTarget = { ...target, intervalSeconds: options.intervalSeconds };
  return async (state) => {
    // The replicas that run now: Docker publishes each admin port anew at every restart and rollout, so
    // the stack's last outputs can be behind. --admin-url pins them.
    if (!pinned) collectTarget.adminUrls = (await runningReplicas(target.stack)) ?? target.adminUrls;
    const result = await collectSnapshot(collectTarget, state, deps);
    const warning = await recordScrape(target.historyFile, result.snapshot);
    if (warning) result.snapshot.warnings.push(warning);
    return result;
  };
}

/** The admin URLs of the stack's running app containers, by their labels; null when Docker lists none. */
async function runningReplicas(stack: string): Promise<string[] | null> {
  const urls = await runningAdminUrls(appLabels({ project: PROJECT, stack })).catch(() => []);
  return urls.length > 0 ? urls : null;
}

/** Redraws in place until Ctrl+C, then leaves the last frame on screen with the cursor shown again. */
async function live(refresh: Refresh, intervalMs: number): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const draw = (snapshot: Parameters<typeof renderFrame>[0]) =>
    logUpdate(
      `${renderFrame(snapshot, { color: pc.isColorSupported, width: process.stdout.columns ?? 100 })}\n\n` +
        pc.dim("Ctrl+C to quit"),
    );
  try {
    await refreshUntilStopped(refresh, draw, intervalMs, stop.signal);
  } finally {
    logUpdate.done();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().then(
  // A refresh cut short by Ctrl+C may still hold a socket open: exit once stdout is flushed.
  () => process.stdout.write("", () => process.exit(0)),
  (err: unknown) => {
    console.error(`status: ${errorMessage(err)}`);
    process.exit(2);
  },
);
