// What runs now, read from Docker before anything is declared: the admin listeners of the stack's app
// containers, published on ports Docker picked. The canary gate judges these (the containers it lets
// through depend on it, so it cannot take their outputs).
import { containersByLabels, type ListedContainer } from "../lib/docker-engine";
import { LABEL } from "../lib/labels";

/**
 * http://127.0.0.1:<port> of each running container carrying all of `labels`, sorted; with `generations`,
 * only those of these generations (the ones nginx had in rotation after the last update: an update that
 * stopped between starting containers and the reload can leave others running).
 */
export async function runningAdminUrls(
  labels: Record<string, string>,
  generations?: ReadonlySet<string>,
): Promise<string[]> {
  return adminUrlsOf(inGenerations(await containersByLabels(labels), generations));
}

/** The containers of `generations` (all of them without a set of generations). */
export function inGenerations<C extends Pick<ListedContainer, "Labels">>(
  containers: C[],
  generations?: ReadonlySet<string>,
): C[] {
  if (generations === undefined) return containers;
  return containers.filter((c) => generations.has(c.Labels?.[LABEL.generation] ?? ""));
}

/**
 * The 127.0.0.1-published port of each running container (its admin listener) as a URL, sorted. A container
 * Docker is restarting (a crash-looping new generation, say) serves nothing and is left out.
 */
export function adminUrlsOf(containers: Pick<ListedContainer, "Ports" | "State">[]): string[] {
  return containers
    .filter((c) => c.State === "running")
    .flatMap((c) => c.Ports.filter((p) => p.IP === "127.0.0.1" && p.PublicPort !== undefined))
    .map((p) => `http://127.0.0.1:${p.PublicPort}`)
    .sort();
}
