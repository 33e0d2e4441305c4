// What scripts/recover.sh runs when its first look found something: puts right what a killed or interrupted
// `pulumi up` left on a stack of the file backend, in the order the next step needs, one line per action.
//   1. The stack's lock (pulumi's file backend writes .pulumi/locks/organization/<project>/<stack>/<id>.json
//      with the holder's pid, user, host and time): cleared with `pulumi cancel` only when every holder is
//      gone. A holder that still runs, or runs on another host, stops the recovery: nothing is touched.
//   2. Operations pending when the update stopped (a create whose result was never recorded, a delete under
//      way): `pulumi refresh --clear-pending-creates` drops them and reads every resource back from Docker.
//   3. Containers with the stack's labels (program/plan.ts stackLabels) that no resource in the state is:
//      removed, so a name the next update creates is free and nothing runs that no `pulumi destroy` removes.
// Usage: node --require sucrase/register/ts scripts/recover.ts <project> <stack> <backend folder>
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runPulumi } from "../lib/pulumi-cli";
import { LABEL } from "../lib/labels";

const run = promisify(execFile);
const CONTAINER_TYPE = "docker:index/container:Container";

/** A lock file of the file backend (pulumi pkg/backend/diy/lock.go lockContent). */
export interface StackLock {
  file: string;
  pid: number;
  username: string;
  hostname: string;
  /** When the holder took the lock. */
  timestamp: Date;
}

/** Whether a lock's holder still runs, as far as this host can tell. */
export type Holder = "gone" | "running" | "elsewhere";

/** What this host knows about its processes: when `pid` started, or null when there is no such process. */
export interface ProcessTable {
  hostname: string;
  startedAt(pid: number): Date | null;
}

/**
 * A lock's holder runs when a process with its pid runs on this host and started no later than the lock was
 * taken: a pid reused since (a process started after the lock) is not the holder. Start times are read in
 * whole ticks, so one second of slack keeps the real holder from looking younger than its lock.
 */
export function lockHolder(lock: StackLock, host: ProcessTable): Holder {
  if (lock.hostname !== host.hostname) return "elsewhere";
  const started = host.startedAt(lock.pid);
  if (started === null) return "gone";
  return started.getTime() <= lock.timestamp.getTime() + 1000 ? "running" : "gone";
}

export function readLocks(dir: string): StackLock[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  return names.map((name) => {
    const file = path.join(dir, name);
    const content = JSON.parse(fs.readFileSync(file, "utf8"));
    return {
      file,
      pid: Number(content.pid),
      username: String(content.username),
      hostname: String(content.hostname),
      timestamp: new Date(content.timestamp),
    };
  });
}

/** The checkpoint's parts recovery reads (pulumi apitype DeploymentV3 under checkpoint.latest). */
export interface Deployment {
  resources?: { urn: string; type: string; id?: string }[];
  pending_operations?: { type: string; resource: { urn: string; type: string } }[];
}

export function readDeployment(checkpointFile: string): Deployment {
  return JSON.parse(fs.readFileSync(checkpointFile, "utf8")).checkpoint?.latest ?? {};
}

/** "creating app-1a2b3c4d-0": each pending operation, by the resource's name. */
export function pendingOperations(deployment: Deployment): string[] {
  return (deployment.pending_operations ?? []).map((op) => `${op.type} ${urnName(op.resource.urn)}`);
}

/** The ids of the containers the state holds (also those an update was about to delete). */
export function knownContainerIds(deployment: Deployment): Set<string> {
  return new Set(
    (deployment.resources ?? []).filter((r) => r.type === CONTAINER_TYPE && r.id).map((r) => r.id!),
  );
}

export interface LabelledContainer {
  id: string;
  name: string;
  status: string;
}

export function unknownContainers(listed: LabelledContainer[], known: Set<string>): LabelledContainer[] {
  return listed.filter((c) => !known.has(c.id));
}

function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** This host's processes from /proc (Linux); elsewhere only whether the pid exists. */
export const LOCAL_PROCESSES: ProcessTable = {
  hostname: os.hostname(),
  startedAt(pid) {
    try {
      // Field 22 of /proc/<pid>/stat: start time in ticks since boot (USER_HZ, 100 on every Linux ABI).
      // The command name (field 2) may hold spaces and parentheses: count from its closing one.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      const bootSeconds = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))?.[1]);
      return new Date((bootSeconds + ticks / 100) * 1000);
    } catch {
      if (fs.existsSync("/proc/self/stat")) return null; // Linux, and no such process
      try {
        process.kill(pid, 0);
        return new Date(0); // it exists; when it started is unknown, so it counts as the holder
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM" ? new Date(0) : null;
      }
    }
  },
};

async function labelledContainers(project: string, stack: string): Promise<LabelledContainer[]> {
  const { stdout } = await run(
    "docker",
    [
      "ps",
      "-a",
      "--no-trunc",
      "--filter",
      `label=${LABEL.project}=${project}`,
      "--filter",
      `label=${LABEL.stack}=${stack}`,
      "--format",
      "{{.ID}}\t{{.Names}}\t{{.Status}}",
    ],
    { timeout: 30_000 },
  );
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id, name, status] = line.split("\t");
      return { id, name, status };
    });
}

function describeLock(lock: StackLock): string {
  return `pid ${lock.pid}, ${lock.username}@${lock.hostname}, since ${lock.timestamp.toISOString()}`;
}

/** Runs the three steps; returns the exit status (0: the update may go ahead). */
export async function recover(opts: {
  project: string;
  stack: string;
  backendDir: string;
  projectDir: string;
  processes?: ProcessTable;
  say?: (line: string) => void;
}): Promise<number> {
  const say = opts.say ?? ((line: string) => console.log(`recover: ${line}`));
  const processes = opts.processes ?? LOCAL_PROCESSES;
  const { project, stack, backendDir } = opts;
  const lockDir = path.join(backendDir, ".pulumi", "locks", "organization", project, stack);
  const checkpoint = path.join(backendDir, ".pulumi", "stacks", project, `${stack}.json`);
  const cli = (args: string[]) =>
    runPulumi([...args, "--stack", stack, "--non-interactive"], opts.projectDir, 300_000);

  const locks = readLocks(lockDir);
  for (const lock of locks) {
    const holder = lockHolder(lock, processes);
    if (holder === "running") {
      say(`stack ${stack} is locked by an update that still runs (${describeLock(lock)}): nothing done`);
      return 1;
    }
    if (holder === "elsewhere") {
      say(
        `stack ${stack} is locked from another host (${describeLock(lock)}), which this host cannot check: ` +
          `nothing done; once that update has ended, run \`pulumi cancel --stack ${stack}\``,
      );
      return 1;
    }
  }
  if (locks.length > 0) {
    await cli(["cancel", "--yes"]);
    for (const lock of locks) say(`cleared the lock of an update that is gone (${describeLock(lock)})`);
  }

  const pending = pendingOperations(readDeployment(checkpoint));
  if (pending.length > 0) {
    await cli(["refresh", "--clear-pending-creates", "--yes", "--skip-preview"]);
    say(
      `cleared ${pending.length} operation${pending.length === 1 ? "" : "s"} pending when the update stopped ` +
        `(${pending.join(", ")}) and read the state back from Docker (pulumi refresh --clear-pending-creates)`,
    );
  }

  const unknown = unknownContainers(
    await labelledContainers(project, stack),
    knownContainerIds(readDeployment(checkpoint)),
  );
  if (unknown.length > 0 && readLocks(lockDir).length > 0) {
    say(`stack ${stack} was locked meanwhile: containers no state knows are left to the next recovery`);
    return 1;
  }
  for (const container of unknown) {
    await run("docker", ["rm", "-f", container.id], { timeout: 60_000 });
    say(
      `removed container ${container.name} (${container.id.slice(0, 12)}, ${container.status}): it carries ` +
        `the stack's labels, but no state knows it`,
    );
  }

  return 0;
}

if (require.main === module) {
  const [project, stack, backendDir] = process.argv.slice(2);
  recover({ project, stack, backendDir, projectDir: path.resolve(__dirname, "..") }).then(
    (status) => process.exit(status),
    (err: Error) => {
      console.error(`recover: ${err.message}`);
      process.exit(1);
    },
  );
}
