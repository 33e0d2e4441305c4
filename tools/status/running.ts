// The app replicas that run now, from Docker: each admin URL with its set and version. Docker publishes each
// admin port anew at every restart and rollout, and a canary may start or leave while the dashboard runs, so
// the stack's last outputs can be behind.
import { containersByLabels, type ListedContainer } from "../../lib/docker-engine";
import { LABEL } from "../../lib/labels";
import { appLabels } from "../../program/plan";
import { adminUrlsOf } from "../../program/running";
import type { ReleaseView } from "./snapshot";
import type { AdminTarget } from "./stack";

/** The Pulumi project name (Pulumi.yaml), which the containers' labels carry. */
export const PROJECT = "swiftdeploy";

/** What the dashboard reads of a listed container. */
export type LabelledContainer = Pick<ListedContainer, "Ports" | "State" | "Labels">;

/** The stack's running app replicas by their labels; empty when Docker lists none or cannot be asked. */
export async function runningAdminTargets(stack: string): Promise<AdminTarget[]> {
  const containers = await containersByLabels(appLabels({ project: PROJECT, stack })).catch(() => []);
  return adminTargetsOf(containers);
}

/**
 * Each running container's admin URL with its set and version, sorted by URL. A container without a set
 * label (deployed before the two sets) has no `set`: the dashboard counts it as stable's.
 */
export function adminTargetsOf(containers: LabelledContainer[]): AdminTarget[] {
  return containers
    .flatMap((c) => {
      const labels: Record<string, string> = {};
      const set = c.Labels?.[LABEL.set];
      const version = c.Labels?.[LABEL.version];
      if (set) labels.set = set;
      if (version) labels.version = version;
      return adminUrlsOf([c]).map((url) => ({ url, labels }));
    })
    .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

/**
 * Whether the versions Docker runs differ from the release the outputs name: a canary started, changed,
 * promoted or aborted since the outputs were read (or the update doing it has not finished yet).
 */
export function releaseDrifted(release: ReleaseView | null, running: AdminTarget[]): boolean {
  if (release === null) return false;
  const versions = (set: string) =>
    new Set(running.filter((t) => (t.labels.set ?? "stable") === set).map((t) => t.labels.version));
  const expected = (version: string | null) => new Set(version === null ? [] : [version]);
  const same = (a: Set<unknown>, b: Set<unknown>) => a.size === b.size && [...a].every((v) => b.has(v));
  return (
    !same(versions("stable"), expected(release.stableVersion)) ||
    !same(versions("canary"), expected(release.canaryVersion))
  );
}
