// Reading the output of one `pulumi up` run: where its time went (phases) and how long each resource step took.
import type { TimedRun } from "./process";

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

const STEP = /^\s*[+~-]\s+(\S+)\s+(\S+)\s+(creating|created|updating|updated|deleting|deleted)\b/;

/** Each resource step's start and end (ms since the command started), by type and name. */
function stepSpans(run: TimedRun): { type: string; name: string; startMs: number; endMs: number }[] {
  const started = new Map<string, number>();
  const spans: { type: string; name: string; startMs: number; endMs: number }[] = [];
  for (const line of run.lines) {
    const step = STEP.exec(line.text);
    // The stack and the components span their children: only real steps count.
    if (!step || step[1] === "pulumi:pulumi:Stack" || step[1].startsWith("swiftdeploy:index:")) continue;
    const [, type, name, state] = step;
    const key = `${type} ${name}`;
    if (state.endsWith("ing")) started.set(key, line.at);
    else if (started.has(key)) spans.push({ type, name, startMs: started.get(key)!, endMs: line.at });
  }
  return spans;
}

/**
 * How long each resource step took (`name` -> ms), from its "creating"/"updating"/"deleting" line to its
 * "created"/"updated"/"deleted" line; of two resources with one name (an app container and its command),
 * the longer. The engine's own figures are rounded to whole seconds past 1 s.
 */
export function stepDurations(run: TimedRun): Map<string, number> {
  const durations = new Map<string, number>();
  for (const { name, startMs, endMs } of stepSpans(run)) {
    durations.set(name, Math.max(durations.get(name) ?? 0, endMs - startMs));
  }
  return durations;
}

/** Where one `pulumi up` spent its time around one step: before it, in it, after it (ms); undefined without it. */
export function aroundStep(
  run: TimedRun,
  name: string,
): { beforeMs: number; stepMs: number; afterMs: number } | undefined {
  const span = stepSpans(run).find((s) => s.name === name);
  if (!span) return undefined;
  return { beforeMs: span.startMs, stepMs: span.endMs - span.startMs, afterMs: run.ms - span.endMs };
}
