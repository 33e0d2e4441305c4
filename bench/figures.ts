// The figures the report reads out of the deploy bench's runs: medians of a command's runs, of its phases
// and of its resource steps.
import { median } from "../lib/numbers";
import type { DeployBenchResult } from "./deploys";
import { secs } from "./format";
import type { TimedRun } from "./process";
import { pulumiPhases, stepDurations, type PulumiPhases } from "./pulumi-log";

export function medianMs(deploys: DeployBenchResult, label: string): number | undefined {
  for (const system of deploys.systems) {
    const runs = system.runs.get(label);
    if (runs && runs.length > 0) return median(runs.map((r) => r.ms));
  }
  return undefined;
}

export function runsOf(deploys: DeployBenchResult, label: string): TimedRun[] {
  for (const system of deploys.systems) if (system.runs.has(label)) return system.runs.get(label)!;
  return [];
}

/** Median of each phase over the runs of one command. */
export function medianPhases(runs: TimedRun[]): PulumiPhases {
  const phases = runs.map(pulumiPhases);
  const keys = Object.keys(phases[0]) as (keyof PulumiPhases)[];
  return Object.fromEntries(keys.map((k) => [k, median(phases.map((p) => p[k]))])) as unknown as PulumiPhases;
}

/** The n longest resource steps over the runs of one command, by median, e.g. "opa-server 3.05 s". */
export function slowestSteps(runs: TimedRun[], n: number): string {
  if (runs.length === 0) return "no runs";
  const all = runs.map(stepDurations);
  const names = [...new Set(all.flatMap((m) => [...m.keys()]))];
  const medians = names.map((name) => ({
    name,
    ms: median(all.map((m) => m.get(name)).filter((v): v is number => v !== undefined)),
  }));
  medians.sort((a, b) => b.ms - a.ms);
  return medians
    .slice(0, n)
    .map((m) => `${m.name} ${secs(m.ms)}`)
    .join(", ");
}
