import { runPulumi } from "../../lib/pulumi-cli";

/** One entry of `pulumi stack history --json` (the CLI's updateInfoJSON), the fields the report shows. */
export interface PulumiUpdate {
  /**
   * 1 for the stack's first update, then in the order they started. Pulumi's own `version` cannot serve:
   * the local file backend reports 0 for every update.
   */
  number: number;
  kind: string;
  /** As the CLI prints it (RFC 3339, UTC). */
  startTime: string;
  endTime: string | null;
  result: string;
  message: string;
  resourceChanges: Record<string, number>;
}

/** Pulumi's own record of the stack's updates, or why it could not be read (the report says so). */
export type PulumiHistory =
  { available: true; updates: PulumiUpdate[] } | { available: false; reason: string };

type RunPulumi = (args: string[], cwd: string) => Promise<string>;

/** Never throws: a missing CLI, backend or stack becomes `available: false` with the CLI's reason. */
export async function readPulumiHistory(
  stack: string,
  projectDir: string,
  pulumi: RunPulumi = runPulumi,
): Promise<PulumiHistory> {
  try {
    // --page-size: the CLI pages its history; one large page keeps every update.
    const json = await pulumi(
      ["stack", "history", "--json", "--stack", stack, "--page-size", "10000"],
      projectDir,
    );
    return { available: true, updates: parsePulumiHistory(json) };
  } catch (err) {
    return { available: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** The updates, oldest first and numbered from 1 (the CLI lists the newest first). */
export function parsePulumiHistory(json: string): PulumiUpdate[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`\`pulumi stack history --json\` printed no JSON: ${json.slice(0, 200)}`);
  }
  if (parsed === null) return []; // a stack that was never updated (older CLIs print null, newer [])
  if (!Array.isArray(parsed)) {
    throw new Error(
      `\`pulumi stack history --json\` must print a list, got ${JSON.stringify(parsed).slice(0, 200)}`,
    );
  }
  const updates = parsed.map((raw: Record<string, unknown>) => ({
    kind: String(raw.kind ?? "unknown"),
    startTime: String(raw.startTime ?? ""),
    endTime: typeof raw.endTime === "string" ? raw.endTime : null,
    result: String(raw.result ?? "unknown"),
    message: typeof raw.message === "string" ? raw.message : "",
    resourceChanges: numbers(raw.resourceChanges),
  }));
  // Start times have whole seconds only: among equal ones, the CLI's newest-first order decides (sort is stable).
  return updates
    .reverse()
    .sort((a, b) => startMs(a.startTime) - startMs(b.startTime))
    .map((u, i) => ({ number: i + 1, ...u }));
}

/** An unreadable start time sorts first rather than breaking the order of the others. */
function startMs(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

function numbers(value: unknown): Record<string, number> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter(([, n]) => typeof n === "number")) as Record<
    string,
    number
  >;
}
