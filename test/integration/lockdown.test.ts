// Every container of a deployed stack, as Docker and the kernel see it: capabilities, no-new-privileges,
// read-only root with only the promised writable paths, the manifest's memory and pids limits, log rotation,
// the user each process runs as. The same deploy then takes a crash: the app's main process SIGKILLed from
// the host (not `docker kill`, for which Docker turns its restart policy off) comes back by itself, still
// locked down, and the next `pulumi up` replaces nothing. Killed `pulumi up`s are faults.test.ts.
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../lib/history";
import { httpGet, TestProject } from "./support/project";

/** Limits unlike the defaults, so each value seen in Docker can only have come from this manifest. */
const LIMITS = {
  app: { memory_mb: 200, pids_limit: 100 },
  ingress: { memory_mb: 96, pids_limit: 48 },
};
const MB = 1024 * 1024;
const RUNNER = `${process.getuid!()}:${process.getgid!()}`;

type Role = "app" | "nginx" | "opa";

/** What each container promises (components/supervised.ts; OPA's limits are program/plan.ts OPA_LIMITS). */
const PROMISED: Record<Role, { user: string; memoryMb: number; pidsLimit: number; tmpfs: string[] }> = {
  app: { user: "10001:10001", memoryMb: 200, pidsLimit: 100, tmpfs: [] },
  nginx: { user: "10002:10002", memoryMb: 96, pidsLimit: 48, tmpfs: ["/run", "/var/lib/nginx"] },
  opa: { user: RUNNER, memoryMb: 128, pidsLimit: 64, tmpfs: ["/policies"] },
};

interface Inspected {
  Id: string;
  Name: string;
  RestartCount: number;
  State: { Pid: number; Status: string; StartedAt: string };
  Config: { User: string; Labels: Record<string, string> };
  HostConfig: {
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    SecurityOpt: string[] | null;
    ReadonlyRootfs: boolean;
    Tmpfs: Record<string, string> | null;
    Memory: number;
    MemorySwap: number;
    PidsLimit: number | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    RestartPolicy: { Name: string };
  };
}

let project: TestProject;
let containers: Record<Role, Inspected>;

async function inspect(name: string): Promise<Inspected> {
  return JSON.parse(await project.docker("inspect", name))[0];
}

/** The stack's containers as Docker finds them by the stack's label, one per role (one app replica). */
async function labelledContainers(): Promise<Record<Role, Inspected>> {
  const ids = (await project.docker("ps", "-aq", "--filter", `label=swiftdeploy.stack=${project.stackName}`))
    .split("\n")
    .filter(Boolean);
  const found = await Promise.all(ids.map(inspect));
  const byRole = Object.fromEntries(found.map((c) => [c.Config.Labels["swiftdeploy.role"], c]));
  expect(Object.keys(byRole).sort()).toEqual(["app", "nginx", "opa"]);
  expect(found).toHaveLength(3);
  return byRole as Record<Role, Inspected>;
}

/** A line of /proc/<pid>/status, e.g. "Uid:\t10001\t10001\t10001\t10001". */
function procStatus(pid: number, field: string): string {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return (line ?? "").slice(field.length + 1).trim();
}

/** Host pids of every process in a container (its main process and what it started). */
async function processesOf(container: string): Promise<number[]> {
  const top = await project.docker("top", container, "-eo", "pid");
  return top.split("\n").slice(1).map(Number).filter(Boolean);
}

beforeAll(async () => {
  project = await TestProject.create({
    name: "lockdown",
    manifest: (text) =>
      text
        .replace(/^( {2}memory_mb:) 256\b/m, `$1 ${LIMITS.app.memory_mb}`)
        .replace(/^( {2}pids_limit:) 128\b/m, `$1 ${LIMITS.app.pids_limit}`)
        .replace(/^( {2}memory_mb:) 128\b/m, `$1 ${LIMITS.ingress.memory_mb}`)
        .replace(/^( {2}pids_limit:) 64\b/m, `$1 ${LIMITS.ingress.pids_limit}`),
  });
  const manifest = fs.readFileSync(`${project.dir}/manifest.yaml`, "utf8");
  for (const limits of Object.values(LIMITS))
    for (const [key, value] of Object.entries(limits)) expect(manifest).toContain(`${key}: ${value} `);
  await project.up();
  containers = await labelledContainers();
});

afterAll(async () => {
  await project?.dispose();
});

describe.each<Role>(["app", "nginx", "opa"])("the %s container of a deployed stack", (role) => {
  it("drops every capability and keeps none, and no process in it can gain one (no-new-privileges)", async () => {
    const { HostConfig, Name } = containers[role];
    expect(HostConfig.CapDrop).toEqual(["ALL"]);
    expect(HostConfig.CapAdd ?? []).toEqual([]);
    expect(HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"]);
    const pids = await processesOf(Name.slice(1));
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      expect({ pid, CapEff: procStatus(pid, "CapEff"), CapBnd: procStatus(pid, "CapBnd") }).toEqual({
        pid,
        CapEff: "0000000000000000",
        CapBnd: "0000000000000000",
      });
      expect(procStatus(pid, "NoNewPrivs")).toBe("1");
    }
  });

  it("runs every process as its promised user", async () => {
    const { Config, Name } = containers[role];
    expect(Config.User).toBe(PROMISED[role].user);
    const [uid] = PROMISED[role].user.split(":");
    for (const pid of await processesOf(Name.slice(1))) {
      // Real, effective, saved and filesystem uid.
      expect(procStatus(pid, "Uid").split(/\s+/)).toEqual([uid, uid, uid, uid]);
    }
    if (role !== "opa") expect(uid).not.toBe("0");
  });

  it("has a read-only root filesystem, writable only where promised", async () => {
    const { HostConfig, Name } = containers[role];
    expect(HostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(HostConfig.Tmpfs ?? {}).sort()).toEqual(PROMISED[role].tmpfs);
    const write = (dir: string) =>
      project
        .docker("exec", Name.slice(1), "sh", "-c", `touch ${dir}/lockdown-probe && echo written`)
        .catch((err: Error) => (/Read-only file system/.test(err.message) ? "read-only" : err.message));
    expect(await write("/usr/local/bin")).toBe("read-only");
    expect(await write("/etc")).toBe("read-only");
    for (const dir of PROMISED[role].tmpfs) expect(await write(dir)).toBe("written");
  });

  it("is limited to the manifest's memory (no swap beyond it) and pids", async () => {
    const { HostConfig } = containers[role];
    expect(HostConfig.Memory).toBe(PROMISED[role].memoryMb * MB);
    expect(HostConfig.MemorySwap).toBe(PROMISED[role].memoryMb * MB);
    expect(HostConfig.PidsLimit).toBe(PROMISED[role].pidsLimit);
  });

  it("rotates its log: json-file, at most 3 files of 10 MB", () => {
    expect(containers[role].HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-file": "3", "max-size": "10m" },
    });
  });

  it("carries the stack's labels and its role", () => {
    expect(containers[role].Config.Labels).toMatchObject({
      "swiftdeploy.project": "swiftdeploy",
      "swiftdeploy.stack": project.stackName,
      "swiftdeploy.role": role,
    });
  });
});

describe("the locked-down stack", () => {
  it("serves through the ingress and answers OPA's health on its socket", async () => {
    expect((await httpGet(`${project.publicUrl}/`)).status).toBe(200);
    const { status } = await httpGet(`${project.publicUrl}/nginx-health`);
    expect(status).toBe(200);
  });

  it("brings the app back by itself when its main process is SIGKILLed from the host, and the next up replaces nothing", async () => {
    const before = containers.app;
    expect(before.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
    process.kill(before.State.Pid, "SIGKILL");

    // Back: the same container (same id), restarted by Docker, answering through the ingress.
    const deadline = Date.now() + 30_000;
    let after = await inspect(before.Id);
    let answer = { status: 0, body: "" };
    while (Date.now() < deadline) {
      after = await inspect(before.Id);
      if (after.RestartCount > before.RestartCount && after.State.Status === "running") {
        answer = await httpGet(`${project.publicUrl}/`).catch(() => answer);
        if (answer.status === 200) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect({ restarts: after.RestartCount - before.RestartCount, status: after.State.Status }).toEqual({
      restarts: 1,
      status: "running",
    });
    expect(after.State.Pid).not.toBe(before.State.Pid);
    expect(answer.status).toBe(200);
    // Restarted as it was: Docker keeps every limit, docker update's pids limit included.
    expect(after.HostConfig).toEqual(before.HostConfig);

    // Docker published the admin port anew (it picks one at every start): the next up puts the stack's
    // outputs and nginx's view right by updates, and replaces nothing.
    const { steps, summary } = await project.up();
    expect(
      steps.filter((step) => !step.endsWith(" update")),
      JSON.stringify(summary.resourceChanges),
    ).toEqual([]);
    expect((await labelledContainers()).app.Id).toBe(before.Id);
    const live = (await project.docker("port", before.Name.slice(1))).split(" -> ")[1];
    expect(await project.adminUrls()).toEqual([`http://${live}`]);
    expect((await httpGet(`${project.publicUrl}/`)).status).toBe(200);
  });

  it("keeps history.jsonl whole", () => {
    const { events, skipped } = readHistory(project.historyFile);
    expect(skipped).toEqual([]);
    expect(events.filter((e) => e.type === "deploy")).toHaveLength(1);
  });
});
