// Which process owns a test's port lock, Docker object or temp folder, and whether it still runs. A pid
// alone is not enough (pids are reused): the owner is the pid with its start time from /proc, so a lock of a
// killed run never looks alive because an unrelated process got the same pid later.
import * as fs from "node:fs";

export interface Owner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  start: string | null;
}

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** This process. */
export const SELF: Owner = { pid: process.pid, start: startTime(process.pid) };

/** "pid:start", as Docker labels and lock files hold it. */
export function ownerId(owner: Owner = SELF): string {
  return `${owner.pid}:${owner.start ?? "?"}`;
}

export function parseOwnerId(id: string): Owner | null {
  const match = /^(\d+):(\d+|\?)$/.exec(id.trim());
  if (!match) return null;
  return { pid: Number(match[1]), start: match[2] === "?" ? null : match[2] };
}

/** Whether the owner still runs: the same pid, started at the same time. */
export function isAlive(owner: Owner): boolean {
  if (owner.start !== null && fs.existsSync("/proc/self/stat")) return startTime(owner.pid) === owner.start;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
