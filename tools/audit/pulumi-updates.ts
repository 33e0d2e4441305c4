// The Pulumi Updates section, and how one update reads in it and in the Timeline: its running number, how
// long it took, what it did to resources, and its message only where it says something new (Pulumi
// records the checkout's HEAD commit subject as the message of every update run from it).
import { cell, table, text, utc } from "./markdown";
import type { PulumiHistory, PulumiUpdate } from "./pulumi-history";

export function pulumiUpdatesSection(pulumi: PulumiHistory): string {
  const lines = ["## Pulumi Updates", ""];
  if (!pulumi.available) {
    lines.push(`Pulumi's update history is not available: ${text(pulumi.reason)}`);
    return lines.join("\n");
  }
  if (pulumi.updates.length === 0) {
    lines.push("The stack has no updates in Pulumi's history.");
    return lines.join("\n");
  }
  const messages = newMessages(pulumi.updates);
  const rows = pulumi.updates.map((u, i) => [
    String(u.number),
    u.kind,
    u.result,
    utc(u.startTime),
    updateDuration(u),
    resourceChanges(u),
    messages[i],
  ]);
  lines.push(
    table(
      ["#", "Kind", "Result", "Started", "Duration", "Resources", "Message"],
      rows.map((r) => r.map(cell)),
    ),
    "",
    "A message is shown where it differs from the update before.",
  );
  return lines.join("\n");
}

/** Each update's message, or "" where it repeats the message of the update before it. */
export function newMessages(updates: PulumiUpdate[]): string[] {
  return updates.map((u, i) => (i > 0 && u.message === updates[i - 1].message ? "" : u.message));
}

/** The words of Pulumi's own summary ("+ 2 created"), in its order; other operations keep their name. */
const CHANGE_WORDS: [op: string, word: string][] = [
  ["create", "created"],
  ["update", "updated"],
  ["replace", "replaced"],
  ["delete", "deleted"],
  ["read", "read"],
  ["import", "imported"],
  ["same", "unchanged"],
];

/** "1 created, 2 updated, 5 unchanged"; operations that touched nothing are left out. */
export function resourceChanges(u: PulumiUpdate): string {
  const known = new Map(CHANGE_WORDS);
  const order = (op: string) => {
    const index = CHANGE_WORDS.findIndex(([name]) => name === op);
    return index === -1 ? CHANGE_WORDS.length : index;
  };
  return Object.entries(u.resourceChanges)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([op, n]) => `${n} ${known.get(op) ?? op}`)
    .join(", ");
}

/** "14 s", "2 min 05 s", "1 h 03 min"; "" while the update runs or when a time is unreadable. */
export function updateDuration(u: PulumiUpdate): string {
  if (u.endTime === null) return "";
  const ms = Date.parse(u.endTime) - Date.parse(u.startTime);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const seconds = Math.round(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${two(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${two(Math.floor((seconds % 3600) / 60))} min`;
}
