// scripts/recover.sh and scripts/recover.ts in a real bash and Node, against a file backend laid out as Pulumi
// lays it out, with `docker` and `pulumi` stand-ins on PATH that note their arguments: what it decides, what
// it runs, what it says. faults.test.ts runs it for real after killed updates.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  knownContainerIds,
  lockHolder,
  LOCAL_PROCESSES,
  pendingOperations,
  unknownContainers,
  type Deployment,
  type StackLock,
} from "../../../scripts/recover";

const RECOVER = path.resolve(__dirname, "../../../scripts/recover.sh");
const STACK = "s1";
const CONTAINER = "docker:index/container:Container";
const KNOWN_ID = "a".repeat(64);
const STRAY_ID = "b".repeat(64);

let dir: string;
let state: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-recover-"));
  state = path.join(dir, "state");
  fs.mkdirSync(path.join(dir, "bin"));
  // `docker ps` prints what docker-ps holds (only the ids unless asked for names too); `docker rm` and
  // `pulumi` note their arguments, but `pulumi cancel` removes the lock files, as the file backend's does,
  // and `pulumi refresh` swaps in the checkpoint the test prepared for it.
  stub(
    "docker",
    `echo "docker $*" >>"$STUB_DIR/calls"
     case "$1" in
     ps) case "$*" in *Names*) cat "$STUB_DIR/docker-ps" 2>/dev/null ;;
         *) cut -f1 "$STUB_DIR/docker-ps" 2>/dev/null ;; esac ;;
     esac
     exit 0`,
  );
  stub(
    "pulumi",
    `echo "pulumi $*" >>"$STUB_DIR/calls"
     case "$1" in
     cancel) rm -f "$LOCK_DIR"/*.json ;;
     refresh) [ -f "$STUB_DIR/after-refresh.json" ] && cp "$STUB_DIR/after-refresh.json" "$CHECKPOINT" ;;
     esac
     exit 0`,
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function stub(name: string, body: string): void {
  fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

const checkpointFile = () => path.join(state, ".pulumi", "stacks", "swiftdeploy", `${STACK}.json`);
const lockDir = () => path.join(state, ".pulumi", "locks", "organization", "swiftdeploy", STACK);

function writeCheckpoint(deployment: Deployment, file = checkpointFile()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ version: 3, checkpoint: { stack: STACK, latest: deployment } }));
}

function writeLock(content: { pid: number; hostname?: string; timestamp: Date }): void {
  fs.mkdirSync(lockDir(), { recursive: true });
  fs.writeFileSync(
    path.join(lockDir(), "0e5a7f7c-lock.json"),
    JSON.stringify({ username: "root", hostname: os.hostname(), ...content }),
  );
}

/** Docker's containers with the stack's labels: id, name, status. */
function dockerHas(...containers: [id: string, name: string, status: string][]): void {
  fs.writeFileSync(path.join(dir, "docker-ps"), containers.map((c) => c.join("\t")).join("\n") + "\n");
}

const APP_URN = `urn:pulumi:s1::swiftdeploy::swiftdeploy:index:App$${CONTAINER}::app-1a2b3c4d-0`;

const deployed: Deployment = {
  resources: [
    { urn: "urn:pulumi:s1::swiftdeploy::pulumi:pulumi:Stack::swiftdeploy-s1", type: "pulumi:pulumi:Stack" },
    { urn: APP_URN, type: CONTAINER, id: KNOWN_ID },
  ],
};

function recover(): { code: number | null; stdout: string; stderr: string; calls: string[] } {
  const result = spawnSync("bash", [RECOVER, STACK], {
    encoding: "utf8",
    timeout: 15_000,
    env: {
      ...process.env,
      PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
      PULUMI_BACKEND_URL: `file://${state}`,
      STUB_DIR: dir,
      CHECKPOINT: checkpointFile(),
      LOCK_DIR: lockDir(),
    },
  });
  const callsFile = path.join(dir, "calls");
  const calls = fs.existsSync(callsFile) ? fs.readFileSync(callsFile, "utf8").trim().split("\n") : [];
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

/** The pid of a process that has ended. */
function goneProcessId(): number {
  return spawnSync("true").pid!;
}

describe("recover.sh", () => {
  it("does nothing and says nothing for a stack never deployed", () => {
    expect(recover()).toMatchObject({ code: 0, stdout: "", stderr: "", calls: [] });
  });

  it("only asks Docker, and says nothing, when the state knows every labelled container and nothing is pending or locked", () => {
    writeCheckpoint(deployed);
    dockerHas([KNOWN_ID, "swiftdeploy-s1-app-1a2b3c4d-0", "Up 3 minutes"]);
    const run = recover();
    expect(run).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(run.calls).toEqual([
      "docker ps -aq --no-trunc --filter label=swiftdeploy.project=swiftdeploy --filter label=swiftdeploy.stack=s1",
    ]);
  });

  it("clears a lock whose holder is gone with pulumi cancel, and says whose it was", () => {
    writeCheckpoint(deployed);
    const pid = goneProcessId();
    writeLock({ pid, timestamp: new Date("2026-11-30T02:10:11Z") });
    const run = recover();
    expect(run.code).toBe(0);
    expect(run.calls).toContain("pulumi cancel --yes --stack s1 --non-interactive");
    expect(run.stdout).toBe(
      `recover: cleared the lock of an update that is gone (pid ${pid}, root@${os.hostname()}, since 2026-11-30T02:10:11.000Z)\n`,
    );
  });

  it("touches nothing while the lock's holder still runs, and fails", () => {
    writeCheckpoint({ ...deployed, pending_operations: [] });
    dockerHas([STRAY_ID, "swiftdeploy-s1-app-ffffffff-0", "Created"]);
    writeLock({ pid: process.pid, timestamp: new Date() });
    const run = recover();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^recover: stack s1 is locked by an update that still runs \(pid \d+, .*\): nothing done\n$/,
    );
    expect(run.calls.filter((c) => !c.startsWith("docker ps"))).toEqual([]);
  });

  it("leaves a lock taken on another host alone, saying what to run once that update has ended", () => {
    writeCheckpoint(deployed);
    writeLock({ pid: goneProcessId(), hostname: "build-7", timestamp: new Date() });
    const run = recover();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("is locked from another host");
    expect(run.stdout).toContain("run `pulumi cancel --stack s1`");
    expect(run.calls.filter((c) => c.startsWith("pulumi"))).toEqual([]);
  });

  it("clears pending operations with pulumi refresh --clear-pending-creates, naming them", () => {
    writeCheckpoint({
      ...deployed,
      pending_operations: [
        {
          type: "creating",
          resource: { urn: "urn:pulumi:s1::swiftdeploy::x::app-99999999-0", type: CONTAINER },
        },
      ],
    });
    writeCheckpoint(deployed, path.join(dir, "after-refresh.json"));
    const run = recover();
    expect(run.code).toBe(0);
    expect(run.calls).toContain(
      "pulumi refresh --clear-pending-creates --yes --skip-preview --stack s1 --non-interactive",
    );
    expect(run.stdout).toBe(
      "recover: cleared 1 operation pending when the update stopped (creating app-99999999-0) and read the state " +
        "back from Docker (pulumi refresh --clear-pending-creates)\n",
    );
  });

  it("removes a labelled container no state knows, and only that one", () => {
    writeCheckpoint(deployed);
    dockerHas(
      [KNOWN_ID, "swiftdeploy-s1-app-1a2b3c4d-0", "Up 3 minutes"],
      [STRAY_ID, "swiftdeploy-s1-app-ffffffff-0", "Up 2 seconds"],
    );
    const run = recover();
    expect(run.code).toBe(0);
    expect(run.calls.filter((c) => c.startsWith("docker rm"))).toEqual([`docker rm -f ${STRAY_ID}`]);
    expect(run.stdout).toBe(
      "recover: removed container swiftdeploy-s1-app-ffffffff-0 (bbbbbbbbbbbb, Up 2 seconds): it carries the " +
        "stack's labels, but no state knows it\n",
    );
  });

  it("does all three in order after a killed update: lock, pending operations, then stray containers", () => {
    writeCheckpoint({
      ...deployed,
      pending_operations: [
        {
          type: "creating",
          resource: { urn: "urn:pulumi:s1::swiftdeploy::x::app-ffffffff-0", type: CONTAINER },
        },
      ],
    });
    writeCheckpoint(deployed, path.join(dir, "after-refresh.json"));
    writeLock({ pid: goneProcessId(), timestamp: new Date() });
    dockerHas([STRAY_ID, "swiftdeploy-s1-app-ffffffff-0", "Created"]);
    const run = recover();
    expect(run.code).toBe(0);
    expect(
      run.calls.filter((c) => !c.startsWith("docker ps")).map((c) => c.split(" ").slice(0, 2).join(" ")),
    ).toEqual(["pulumi cancel", "pulumi refresh", "docker rm"]);
    expect(run.stdout.split("\n").filter(Boolean)).toHaveLength(3);
  });

  it("leaves another backend alone", () => {
    writeCheckpoint(deployed);
    writeLock({ pid: goneProcessId(), timestamp: new Date() });
    const result = spawnSync("bash", [RECOVER, STACK], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
        PULUMI_BACKEND_URL: "s3://b",
      },
    });
    expect([result.status, result.stdout]).toEqual([0, ""]);
  });
});

describe("lockHolder", () => {
  const lock: StackLock = {
    file: "l.json",
    pid: 4242,
    username: "root",
    hostname: "vm",
    timestamp: new Date("2026-11-30T02:00:00Z"),
  };
  const host = (started: string | null) => ({
    hostname: "vm",
    startedAt: () => (started === null ? null : new Date(started)),
  });

  it.each<[string, ReturnType<typeof host>, string]>([
    ["no process has its pid", host(null), "gone"],
    [
      "its pid runs a process started after the lock was taken (reused)",
      host("2026-11-30T02:00:05Z"),
      "gone",
    ],
    ["its pid runs a process started before the lock", host("2026-11-30T01:59:58Z"), "running"],
    [
      "its process looks up to a second younger (start times in ticks)",
      host("2026-11-30T02:00:00.900Z"),
      "running",
    ],
    ["the lock was taken on another host", { ...host(null), hostname: "other" }, "elsewhere"],
  ])("when %s: %s", (_, processes, expected) => {
    expect(lockHolder(lock, processes)).toBe(expected);
  });

  it("reads this process's start time from /proc, before now and after boot", () => {
    const started = LOCAL_PROCESSES.startedAt(process.pid)!;
    expect(started.getTime()).toBeLessThanOrEqual(Date.now());
    expect(started.getTime()).toBeGreaterThan(Date.now() - os.uptime() * 1000 - 5000);
    expect(LOCAL_PROCESSES.startedAt(goneProcessId())).toBeNull();
  });
});

describe("the state's view", () => {
  it("lists pending operations by type and resource name, and none when the checkpoint has none", () => {
    expect(pendingOperations(deployed)).toEqual([]);
    expect(
      pendingOperations({
        pending_operations: [
          { type: "deleting", resource: { urn: "urn:pulumi:s::p::t::app-1-0", type: CONTAINER } },
          { type: "creating", resource: { urn: "urn:pulumi:s::p::t::nginx-server", type: CONTAINER } },
        ],
      }),
    ).toEqual(["deleting app-1-0", "creating nginx-server"]);
  });

  it("knows the containers the state holds, only those, and finds the others", () => {
    const known = knownContainerIds(deployed);
    expect([...known]).toEqual([KNOWN_ID]);
    const stray = { id: STRAY_ID, name: "x", status: "Created" };
    expect(unknownContainers([{ id: KNOWN_ID, name: "y", status: "Up" }, stray], known)).toEqual([stray]);
  });
});
