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
import { releaseDrifted, runningAdminTargets } from "./running";
import { resolveStackTarget, type StackTarget } from "./stack";
import type { CollectTarget } from "./collect";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
/** How long one scrape or OPA question may take before the frame says it failed. */
const REQUEST_TIMEOUT_MS = 2_000;
/** How often at most the stack's outputs are read again while Docker runs other versions than they name. */
const RELEASE_REREAD_MS = 30_000;

async function main(): Promise<void> {
  const options = parseStatusArgs(process.argv.slice(2));
  if (options.help) return void console.log(STATUS_USAGE);
  const target = await resolveStackTarget(options.target, PROJECT_DIR);
  const pinned = options.target.adminUrls.length > 0 || options.target.canaryUrls.length > 0;
  const refresh = refresher(target, options, pinned);
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
  const collectTarget: CollectTarget = { ...target, intervalSeconds: options.intervalSeconds };
  let releaseReadAt = Date.now();
  return async (state) => {
    // The replicas that run now, with their sets and versions (see running.ts); --admin-url and
    // --canary-url pin them.
    const running = pinned ? [] : await runningAdminTargets(target.stack);
    if (running.length > 0) {
      collectTarget.adminTargets = running;
      collectTarget.adminUrls = running.map((t) => t.url);
      if (
        releaseDrifted(collectTarget.release ?? null, running) &&
        Date.now() - releaseReadAt > RELEASE_REREAD_MS
      ) {
        releaseReadAt = Date.now();
        collectTarget.release = await currentRelease(target, options).catch(() => collectTarget.release);
      }
    }
    const result = await collectSnapshot(collectTarget, state, deps);
    const warning = await recordScrape(target.historyFile, result.snapshot);
    if (warning) result.snapshot.warnings.push(warning);
    return result;
  };
}

/** The release (and the canary's weight) the stack's outputs name now. */
async function currentRelease(target: StackTarget, options: StatusOptions) {
  const overrides = { ...options.target, stack: target.stack };
  return (await resolveStackTarget(overrides, PROJECT_DIR)).release;
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
