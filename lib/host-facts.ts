import * as fs from "node:fs";
import * as os from "node:os";
import * as si from "systeminformation";
import type { HostFacts } from "./types";
import { round2 } from "./numbers";

/** Where Docker keeps images and containers unless the daemon is configured otherwise. */
export const DEFAULT_DOCKER_ROOT = "/var/lib/docker";

/**
 * The facts the infrastructure policy judges (lib/types.ts HostFacts), read fresh on every call.
 * Disk: statfs of Docker's data root (the space an unprivileged writer may still use, as `df` shows it);
 * one system call, where listing every filesystem would spawn `df` and cost ~10 ms of the gate's time.
 */
export async function collectHostFacts(dockerRoot: string = DEFAULT_DOCKER_ROOT): Promise<HostFacts> {
  const [disk, mem] = await Promise.all([fs.promises.statfs(dockerRoot), si.mem()]);
  return {
    disk_free_gb: round2((disk.bavail * disk.bsize) / 1e9),
    // si.currentLoad().avgLoad is the largest of the 1/5/15-minute averages divided by the core count;
    // the policy wants the 1-minute figure as `uptime` prints it, which is os.loadavg()[0].
    cpu_load: round2(os.loadavg()[0]),
    mem_free_percent: round2((mem.available / mem.total) * 100),
  };
}
