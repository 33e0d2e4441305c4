// `pulumi up` stopped in the middle of a deploy that replaces the app's containers (a version bump: the new
// generation starts beside the old one), the moment Docker created the first new container:
//   - interrupted with SIGINT, sent to the CLI's process group as a terminal's Ctrl+C sends it;
//   - killed with SIGKILL, sent to the CLI alone as `kill -9`, the OOM killer or a lost machine would.
// Each on a stack of its own, deployed at 1.0.0 first. Then what `npm run deploy` runs after setup
// (scripts/pulumi-stack.sh: its recovery, then `pulumi up`) must converge with no manual step, saying what it
// did: requests succeed on the new version, only the new generation runs, nothing is left that no state
// knows, a further up has nothing to do, and history.jsonl is whole. A crashed app container is
// lockdown.test.ts.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../lib/history";
import { httpGet, TestProject } from "./support/project";

interface Interrupted {
  /** The CLI's exit: its code, or the signal that ended it. */
  exit: string;
  output: string;
  /** The new container whose creation triggered the signal. */
  created: string;
  /** The CLI's pid (the lock's holder). */
  pid: number;
  /** Processes of the CLI's group (plugins, language host) still running 30 s after it ended. */
  lingering: number;
}

/** Waits until `child` exits, at most `ms`; its code or signal. */
function exited(child: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve(String(child.exitCode ?? child.signalCode));
    const timer = setTimeout(() => resolve("still running"), ms);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(String(code ?? signal));
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A `pulumi up` of the project's current manifest that gets `signal` when Docker creates the first container
 * of a new app generation. The CLI runs in a process group of its own, which nothing outlives: what is left
 * of it after 30 s is counted, then killed.
 */
async function interruptedUp(project: TestProject, signal: "SIGINT" | "SIGKILL"): Promise<Interrupted> {
  const running = new Set(await project.containersOf("app"));
  const events = spawn(
    "docker",
    [
      "events",
      "--filter",
      "type=container",
      "--filter",
      "event=create",
      "--filter",
      `label=swiftdeploy.stack=${project.stackName}`,
      "--filter",
      "label=swiftdeploy.role=app",
      "--format",
      "{{.Actor.Attributes.name}}",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const cli = spawn(
    "pulumi",
    ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", project.stackName],
    {
      cwd: project.dir,
      env: { ...process.env, ...project.env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  cli.stdout!.on("data", (chunk) => (output += chunk));
  cli.stderr!.on("data", (chunk) => (output += chunk));
  const pid = cli.pid!;
  try {
    const created = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no new app container within 120 s:\n${output}`)),
        120_000,
      );
      events.stdout!.on("data", (chunk: Buffer) => {
        const name = chunk
          .toString()
          .split("\n")
          .find((n) => n && !running.has(n));
        if (!name) return;
        clearTimeout(timer);
        if (signal === "SIGINT") process.kill(-pid, "SIGINT");
        else process.kill(pid, "SIGKILL");
        resolve(name);
      });
      cli.on("exit", () => reject(new Error(`pulumi up ended before a new app container:\n${output}`)));
    });
    const exit = await exited(cli, 120_000);
    const deadline = Date.now() + 30_000;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lingering = groupAlive(pid) ? countGroup(pid) : 0;
    return { exit, output, created, pid, lingering };
  } finally {
    events.kill();
    if (groupAlive(pid)) process.kill(-pid, "SIGKILL");
  }
}

/** How many processes are in process group `pgid`, from /proc. */
function countGroup(pgid: number): number {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pgid;
      } catch {
        return false;
      }
    }).length;
}

/** What the file backend holds for the stack: lock files and pending operations. */
function backendState(project: TestProject): { locks: string[]; pending: string[] } {
  const backend = path.join(project.dir, ".pulumi-state", ".pulumi");
  const lockDir = path.join(backend, "locks", "organization", "swiftdeploy", project.stackName);
  // One <id>.json per holder (the file blob store keeps a .json.attrs beside each).
  const locks = fs.existsSync(lockDir) ? fs.readdirSync(lockDir).filter((f) => f.endsWith(".json")) : [];
  const checkpoint = JSON.parse(
    fs.readFileSync(path.join(backend, "stacks", "swiftdeploy", `${project.stackName}.json`), "utf8"),
  );
  const pending = (checkpoint.checkpoint.latest.pending_operations ?? []).map(
    (op: { type: string; resource: { urn: string } }) => `${op.type} ${op.resource.urn.split("::").pop()}`,
  );
  return { locks, pending };
}

/** The ids of the containers the stack's state holds. */
function stateContainerIds(project: TestProject): string[] {
  const checkpoint = JSON.parse(
    fs.readFileSync(
      path.join(
        project.dir,
        ".pulumi-state",
        ".pulumi",
        "stacks",
        "swiftdeploy",
        `${project.stackName}.json`,
      ),
      "utf8",
    ),
  );
  return (checkpoint.checkpoint.latest.resources as { type: string; id?: string }[])
    .filter((r) => r.type === "docker:index/container:Container")
    .map((r) => r.id!)
    .sort();
}

describe.each<"SIGINT" | "SIGKILL">(["SIGINT", "SIGKILL"])(
  "pulumi up stopped by %s while it replaces the app's containers",
  (signal) => {
    let project: TestProject;
    let interrupted: Interrupted;
    let left: ReturnType<typeof backendState>;
    let recovery: { code: number | null; output: string };

    beforeAll(async () => {
      project = await TestProject.create({ name: `fault-${signal.toLowerCase()}` });
      await project.up();
      project.editFile("manifest.yaml", (t) => t.replace('version: "1.0.0"', 'version: "1.0.1"'));
      interrupted = await interruptedUp(project, signal);
      left = backendState(project);
      recovery = await project.deploy();
    });

    afterAll(async () => {
      await project?.dispose();
    });

    it("stopped the update in the middle: a new container existed, the update did not finish", () => {
      expect(interrupted.created).toMatch(new RegExp(`^${project.dockerPrefix}-app-[0-9a-f]{8}-0$`));
      expect(interrupted.exit, interrupted.output).not.toBe("0");
      expect(interrupted.lingering, "processes of the stopped update still running after 30 s").toBe(0);
    });

    if (signal === "SIGKILL") {
      it("left the stack locked by the dead CLI, which the recovery cleared and named", () => {
        expect(left.locks).toHaveLength(1);
        expect(recovery.output).toMatch(
          new RegExp(`^recover: cleared the lock of an update that is gone \\(pid ${interrupted.pid}, `, "m"),
        );
      });
    } else {
      it("released its lock itself, leaving nothing for the recovery to clear", () => {
        expect(left.locks).toEqual([]);
        expect(recovery.output).not.toContain("recover: cleared the lock");
      });
    }

    it("recovered with one line per action, each naming what it found", () => {
      const lines = recovery.output.split("\n").filter((l) => l.startsWith("recover: "));
      if (left.pending.length > 0)
        expect(lines).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^recover: cleared ${left.pending.length} operations? pending when the update stopped`,
            ),
          ),
        );
      for (const line of lines) expect(line).toMatch(/^recover: (cleared|removed) /);
      expect(recovery.code, recovery.output).toBe(0);
    });

    it("serves the new version through the ingress", async () => {
      const { status, body } = await httpGet(`${project.publicUrl}/`);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ version: "1.0.1" });
    });

    it("runs only the new generation, and every container of the stack is one its state knows", async () => {
      const running = await project.containersOf("app");
      expect(running).toHaveLength(1);
      const labelled = (
        await project.docker(
          "ps",
          "-aq",
          "--no-trunc",
          "--filter",
          `label=swiftdeploy.stack=${project.stackName}`,
        )
      )
        .split("\n")
        .filter(Boolean)
        .sort();
      expect(labelled).toHaveLength(3);
      expect(labelled).toEqual(stateContainerIds(project));
      expect(backendState(project)).toEqual({ locks: [], pending: [] });
    });

    it("has nothing left to do on the next pulumi up", async () => {
      const { steps, summary } = await project.up();
      expect(steps, JSON.stringify(summary.resourceChanges)).toEqual(["infrastructure-gate update"]);
    });

    it("keeps history.jsonl whole, the recovered deploy recorded", () => {
      const { events, skipped } = readHistory(project.historyFile);
      expect(skipped).toEqual([]);
      expect(events.filter((e) => e.type === "deploy").map((e) => e.version)).toContain("1.0.1");
    });
  },
);
