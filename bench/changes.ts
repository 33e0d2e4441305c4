// "Changes under load": each change a user makes to a running stack — a new version, more replicas, fewer
// replicas with the version back, a promotion to stable, back to canary — made while keep-alive and
// new-connection clients send GET / through the ingress, by SwiftDeploy (`pulumi up`) and by Docker Compose
// v2 doing the same change to the same services (`docker compose up -d` after editing the compose file).
// Counts requests, failed requests and the time of the change; the target is 0 failures for SwiftDeploy.
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackPlan } from "../program/plan";
import type { ComposeProject } from "./compose";
import { startLoad, type LoadResult } from "./load";
import { ROOT } from "./paths";
import type { PulumiStack } from "./pulumi";

/** One change: how it edits the manifest text, and the mode it sets (if it sets one). */
interface Change {
  name: string;
  manifest?: (text: string) => string;
  mode?: "canary" | "stable";
}

const setVersion = (v: string) => (t: string) => t.replace(/version: "[^"]+"/, `version: "${v}"`);
const setReplicas = (n: number) => (t: string) => t.replace(/^(\s*replicas:) \d+/m, `$1 ${n}`);

export const CHANGES: Change[] = [
  { name: "service.version 1.0.0 → 1.0.1", manifest: setVersion("1.0.1") },
  { name: "app.replicas 1 → 3", manifest: setReplicas(3) },
  { name: "replicas 3 → 1 + version back", manifest: (t) => setVersion("1.0.0")(setReplicas(1)(t)) },
  { name: "mode canary → stable (promotion)", mode: "stable" },
  { name: "mode stable → canary", mode: "canary" },
];

export interface ChangeRun {
  change: string;
  system: "swiftdeploy" | "compose";
  load: LoadResult;
  /** The `pulumi up` / `docker compose up -d` alone, in ms. */
  changeMs: number;
  error?: string;
}

/** Clients and bounds of the load: ≥ 4 keep-alive and ≥ 4 new-connection clients, at most 60 s. */
const LOAD = { keepAliveClients: 4, freshClients: 4, maxSeconds: 60, pauseMs: 1 };
/** Load before and after the change, so the change sits inside a steady stream. */
const MARGIN_MS = 1500;

/**
 * What a failed change said: Pulumi's "Diagnostics:" section (the errors, one line each, up to the summary
 * that follows it), or the message's last lines when it has none.
 */
export function errorSummary(message: string): string {
  const lines = message.split("\n");
  const start = lines.findIndex((l) => l.trim() === "Diagnostics:");
  if (start < 0) return lines.slice(-3).join(" ").trim();
  const end = lines.findIndex((l, i) => i > start && /^(Outputs|Resources):/.test(l.trim()));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter((l) => l !== "" && l !== "error: update failed")
    .join(" | ");
}

/** Runs `change` inside a steady load through `url`: the load, and the change's own time. */
export async function underLoad(
  url: string,
  change: () => Promise<unknown>,
): Promise<Omit<ChangeRun, "change" | "system">> {
  const load = startLoad({ url, ...LOAD });
  await new Promise((resolve) => setTimeout(resolve, MARGIN_MS));
  const started = Date.now();
  let error: string | undefined;
  try {
    await change();
  } catch (err) {
    error = errorSummary((err as Error).message);
  }
  const changeMs = Date.now() - started;
  await new Promise((resolve) => setTimeout(resolve, MARGIN_MS));
  return { load: await load.stop(), changeMs, ...(error ? { error } : {}) };
}

export interface ChangeBenchTargets {
  swiftdeploy: { stack: PulumiStack; publicUrl: string };
  compose: {
    project: ComposeProject;
    publicUrl: string;
    plan: (manifestText: string, mode: string) => StackPlan;
  };
  /** The bench's manifest file, relative to the project, which both systems read. */
  manifestFile: string;
}

/** Runs every change on SwiftDeploy, then on Compose, each from the state the previous change left. */
export async function benchChangesUnderLoad(
  t: ChangeBenchTargets,
  log: (line: string) => void,
): Promise<ChangeRun[]> {
  const file = path.join(ROOT, t.manifestFile);
  const original = fs.readFileSync(file, "utf8");
  const runs: ChangeRun[] = [];
  try {
    for (const system of ["swiftdeploy", "compose"] as const) {
      fs.writeFileSync(file, original);
      let mode = "canary";
      if (system === "swiftdeploy") {
        await t.swiftdeploy.stack.setConfig("swiftdeploy:mode", "canary");
        await t.swiftdeploy.stack.up(["--yes", "--skip-preview"]);
      } else {
        t.compose.project.write(t.compose.plan(original, mode));
        await t.compose.project.up(true);
      }
      for (const change of CHANGES) {
        const text = change.manifest
          ? change.manifest(fs.readFileSync(file, "utf8"))
          : fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, text);
        mode = change.mode ?? mode;
        const run =
          system === "swiftdeploy"
            ? await underLoad(`${t.swiftdeploy.publicUrl}/`, async () => {
                if (change.mode) await t.swiftdeploy.stack.setConfig("swiftdeploy:mode", change.mode);
                await t.swiftdeploy.stack.up(["--yes", "--skip-preview"]);
              })
            : await underLoad(`${t.compose.publicUrl}/`, async () => {
                t.compose.project.write(t.compose.plan(text, mode));
                await t.compose.project.apply();
              });
        runs.push({ change: change.name, system, ...run });
        const { requests, failures } = run.load;
        log(
          `   ${system.padEnd(11)} ${change.name.padEnd(34)} ${String(requests).padStart(6)} requests, ` +
            `${failures} failed, change ${(run.changeMs / 1000).toFixed(1)} s${run.error ? ` (ERROR ${run.error})` : ""}`,
        );
      }
    }
  } finally {
    fs.writeFileSync(file, original);
  }
  return runs;
}
