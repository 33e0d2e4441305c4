import * as os from "node:os";
import * as path from "node:path";
import type { HostFacts } from "./types";

/** Where Docker keeps images and containers unless the daemon is configured otherwise. */
export const DEFAULT_DOCKER_ROOT = "/var/lib/docker";

interface Filesystem {
  mount: string;
  available: number;
}

/**
 * The facts the infrastructure policy judges (lib/types.ts HostFacts), read fresh on every call.
 * systeminformation is required here rather than at the top so a serialized gate provider captures it
 * as a node_modules package instead of trying to serialize it (see PULUMI-NOTES.md).
 */
export async function collectHostFacts(dockerRoot: string = DEFAULT_DOCKER_ROOT): Promise<HostFacts> {
  const si = require("systeminformation") as typeof import("systeminformation");
  const [filesystems, mem] = await Promise.all([si.fsSize(), si.mem()]);
  const dataRoot = filesystemHolding(dockerRoot, filesystems);
  return {
    disk_free_gb: round2(dataRoot.available / 1e9),
    // si.currentLoad().avgLoad is the largest of the 1/5/15-minute averages divided by the core count;
    // the policy wants the 1-minute figure as `uptime` prints it, which is os.loadavg()[0].
    cpu_load: round2(os.loadavg()[0]),
    mem_free_percent: round2((mem.available / mem.total) * 100),
  };
}

/** The mounted filesystem whose mount point is the longest prefix of `target` (so `/` as the fallback). */
export function filesystemHolding(target: string, filesystems: Filesystem[]): Filesystem {
  const resolved = path.resolve(target);
  const holding = filesystems
    .filter((fs) => isInside(resolved, fs.mount))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  if (!holding) {
    const mounts = filesystems.map((fs) => fs.mount).join(", ");
    throw new Error(`no mounted filesystem holds ${resolved} (mounts: ${mounts || "none"})`);
  }
  return holding;
}

function isInside(target: string, mount: string): boolean {
  return mount === "/" || target === mount || target.startsWith(mount.endsWith("/") ? mount : `${mount}/`);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
