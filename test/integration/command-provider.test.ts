// The real engine with `@pulumi/command` 1.2.1 and the installed `command` 1.2.1 plugin (ours, built by
// `npm run setup`, or the official one where it is installed): a throwaway program whose scripts append
// to an events file, so every run of create/update/delete is visible from outside.
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claim, unclaim } from "../support/test-objects";

const ROOT = path.resolve(__dirname, "../..");
const TOOLS = process.env.SWIFTDEPLOY_TOOLS ?? path.join(os.homedir(), ".cache/swiftdeploy/tools");
const PULUMI = path.join(TOOLS, "bin", "pulumi");
const STEP_MS = 120_000;
const run = promisify(execFile);

// Each script appends one line to $EVENTS; stdout becomes the Command's `stdout` output.
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { local } = require("@pulumi/command");
const cfg = new pulumi.Config();
const version = cfg.require("version");
const probe = new local.Command("probe", {
  create: 'echo create >> "$EVENTS"; echo "hello from create" >&2; echo created',
  update: 'echo "update v' + version + ' prev=$PULUMI_COMMAND_STDOUT" >> "$EVENTS"; echo out-v' + version,
  delete: 'echo "delete prev=$PULUMI_COMMAND_STDOUT" >> "$EVENTS"',
  environment: { EVENTS: cfg.require("events") },
  dir: cfg.require("dir"),
  triggers: [cfg.require("trigger")],
});
if (cfg.getBoolean("fail")) {
  new local.Command("broken", { create: 'echo "boom: rendered nginx.conf is invalid" >&2; exit 3' });
}
if (cfg.getBoolean("slow")) {
  // A child in the background that would outlive its shell, and a shell that waits for it.
  new local.Command(
    "slow",
    { create: 'sleep 300 & echo $! > "$CHILD"; wait', environment: { CHILD: cfg.require("child") } },
    { customTimeouts: { create: "2s" } },
  );
}
exports.stdout = probe.stdout;
`;

let workDir: string;
let eventsFile: string;
let stack: Stack;

/** "gone", or the state letter of /proc/<pid>/stat (R, S, Z for a zombie: dead, not yet reaped). */
function processState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return "gone";
  }
}

async function waitForPid(file: string, deadlineMs: number): Promise<number> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    if (/^\d+$/.test(text)) return Number(text);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no pid in ${file} within ${deadlineMs} ms`);
}

const events = (): string[] =>
  fs.existsSync(eventsFile) ? fs.readFileSync(eventsFile, "utf8").split("\n").filter(Boolean) : [];
const bounded = () => ({ signal: AbortSignal.timeout(STEP_MS - 10_000) });

async function setConfig(values: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(values)) await stack.setConfig(key, { value });
}

// Fails with the fix when setup has not installed the plugin: these tests must run, never skip.
async function assertCommandPluginInstalled(env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout } = await run(PULUMI, ["plugin", "ls", "--json"], { env, timeout: 30_000 });
  const plugins = JSON.parse(stdout) as { name: string; kind: string; version: string }[];
  const found = plugins.some((p) => p.name === "command" && p.kind === "resource" && p.version === "1.2.1");
  if (!found)
    throw new Error(`resource plugin command 1.2.1 is not installed in PULUMI_HOME; run npm run setup`);
}

beforeAll(async () => {
  if (!fs.existsSync(PULUMI)) throw new Error(`${PULUMI} does not exist; run npm run setup`);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "sdtest-cmd-"));
  claim(path.basename(workDir), { dirs: [workDir] });
  const programDir = path.join(workDir, "program");
  const runDir = path.join(workDir, "run");
  fs.mkdirSync(programDir);
  fs.mkdirSync(runDir);
  fs.mkdirSync(path.join(workDir, "state"));
  eventsFile = path.join(runDir, "events");
  fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: sdtest-cmd\nruntime: nodejs\n");
  fs.writeFileSync(path.join(programDir, "package.json"), '{ "name": "sdtest-cmd", "main": "index.js" }\n');
  fs.writeFileSync(path.join(programDir, "index.js"), PROGRAM);
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(programDir, "node_modules"));

  const envVars = {
    PATH: `${path.join(TOOLS, "bin")}:${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  await assertCommandPluginInstalled({ ...process.env, ...envVars });
  const pulumiCommand = await PulumiCommand.get({ root: TOOLS });
  const stackName = `sdtest-cmd-${crypto.randomBytes(4).toString("hex")}`;
  stack = await LocalWorkspace.createStack({ stackName, workDir: programDir }, { pulumiCommand, envVars });
  await setConfig({
    version: "1",
    trigger: "a",
    events: eventsFile,
    dir: runDir,
    fail: "false",
    slow: "false",
    child: path.join(runDir, "child.pid"),
  });
}, STEP_MS);

afterAll(async () => {
  try {
    if (stack) {
      await stack.destroy(bounded()).catch(() => undefined);
      await stack.workspace.removeStack(stack.name, { force: true });
    }
  } finally {
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    if (workDir) unclaim(path.basename(workDir));
  }
}, STEP_MS);

describe("command:local:Command with the real engine", { timeout: STEP_MS }, () => {
  it("runs nothing in a preview of a new Command, which shows a create", async () => {
    const preview = await stack.preview(bounded());
    expect(preview.changeSummary.create).toBe(2); // the stack and the Command
    expect(events()).toEqual([]);
  });

  it("runs create on pulumi up, logs its output and records its stdout", async () => {
    const up = await stack.up(bounded());
    expect(events()).toEqual(["create"]);
    expect(up.outputs.stdout.value).toBe("created");
    expect(up.stdout).toContain("hello from create");
  });

  it("runs nothing when no input changed", async () => {
    const up = await stack.up(bounded());
    expect(up.summary.resourceChanges).toEqual({ same: 2 });
    expect(events()).toEqual(["create"]);
  });

  it("previews a changed update script as an update without running it", async () => {
    await setConfig({ version: "2" });
    const preview = await stack.preview(bounded());
    expect(preview.changeSummary.update).toBe(1);
    expect(events()).toEqual(["create"]);
  });

  it("runs update with the previous stdout in PULUMI_COMMAND_STDOUT when the update script changes", async () => {
    const up = await stack.up(bounded());
    expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(events()).toEqual(["create", "update v2 prev=created"]);
    expect(up.outputs.stdout.value).toBe("out-v2");
  });

  it("replaces the Command when a trigger changes: create for the new one, then delete for the old one", async () => {
    await setConfig({ trigger: "b" });
    const preview = await stack.preview(bounded());
    expect(preview.changeSummary.replace).toBe(1);
    expect(events()).toHaveLength(2);

    const up = await stack.up(bounded());
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
    expect(events().slice(2)).toEqual(["create", "delete prev=out-v2"]);
  });

  it("fails pulumi up with the failing command's stderr and leaves the other Command alone", async () => {
    await setConfig({ fail: "true" });
    const failed = await stack.up(bounded()).then(
      () => new Error("pulumi up succeeded"),
      (err: Error) => err,
    );
    expect(failed.message).toContain("boom: rendered nginx.conf is invalid");
    expect(failed.message).toMatch(/exit(ed with code| status) 3/);
    expect(events()).toHaveLength(4);
    await setConfig({ fail: "false" });
  });

  it("kills a command that outlives its custom timeout together with its children", async () => {
    const childFile = path.join(workDir, "run", "child.pid");
    await setConfig({ slow: "true" });
    try {
      const up = stack.up(bounded()).then(
        () => new Error("pulumi up succeeded"),
        (err: Error) => err,
      );
      // The control: while the command runs, its child is there and alive.
      const child = await waitForPid(childFile, 60_000);
      expect(processState(child)).toMatch(/^[RS]$/);
      const failed = await up;
      expect(failed.message).toContain("create command timed out and was killed");
      // Gone the moment `pulumi up` returns: killed with its shell, not left to sleep for 300 s.
      expect(["gone", "Z"]).toContain(processState(child));
    } finally {
      await setConfig({ slow: "false" });
    }
  });

  it("runs delete with the last stdout on pulumi destroy", async () => {
    const destroy = await stack.destroy(bounded());
    expect(destroy.summary.resourceChanges).toMatchObject({ delete: 2 });
    expect(events().slice(4)).toEqual(["delete prev=created"]);
  });
});
