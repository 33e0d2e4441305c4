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

/**
 * How long each resource step took (`name` -> ms), from its "creating"/"updating"/"deleting" line to its
 * "created"/"updated"/"deleted" line. The engine's own figures are rounded to whole seconds past 1 s.
 */
export function stepDurations(run: TimedRun): Map<string, number> {
  const started = new Map<string, number>();
  const durations = new Map<string, number>();
  for (const line of run.lines) {
    const step = /^\s*[+~-]\s+(\S+)\s+(\S+)\s+(creating|created|updating|updated|deleting|deleted)\b/.exec(
      line.text,
    );
    // The stack and the components span their children: only real steps count.
    if (!step || step[1] === "pulumi:pulumi:Stack" || step[1].startsWith("swiftdeploy:index:")) continue;
    const [, , name, state] = step;
    if (state.endsWith("ing")) started.set(name, line.at);
    else if (started.has(name)) durations.set(name, line.at - started.get(name)!);
  }
  return durations;
}
