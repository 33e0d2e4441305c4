// A throwaway copy of the SwiftDeploy project with its own stack, backend, Docker names and ports, driven by
// the real engine through the Automation API. Tests edit the copy's manifest.yaml and policies/data.json
// freely; `dispose()` destroys the stack and removes every Docker object named after it, also after a
// failure. The copy is claimed (test/support/test-objects.ts) before anything exists, so a later run
// removes what a killed one left; its host ports are locked for this process (test/support/ports.ts).
import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack, type UpResult } from "@pulumi/pulumi/automation";
import { startLoad, type LoadResult } from "../../../bench/load";
import { dockerPrefix } from "../../../program/names";
import { releasePorts, reservePort, reservePorts } from "../../support/ports";
import { copyProject, REPO_ROOT } from "../../support/project-copy";
import { claim, unclaim } from "../../support/test-objects";

export const ROOT = REPO_ROOT;
export const TOOLS = process.env.SWIFTDEPLOY_TOOLS ?? path.join(os.homedir(), ".cache/swiftdeploy/tools");
const run = promisify(execFile);

export interface TestProjectOptions {
  /** Prefix of the stack name; a random suffix keeps runs apart. */
  name: string;
  /** App replicas (manifest app.replicas); 1 unless set. */
  replicas?: number;
  /** Edits applied to the copy's manifest.yaml text before the first deploy. */
  manifest?: (text: string) => string;
  /**
   * @deprecated Ignored: host ports come from the locked test range (test/support/ports.ts) and admin URLs
   * from the stack's outputs. Kept only so that call sites written before compile; drop it there.
   */
  ingressPort?: number;
  /** @deprecated Ignored, as ingressPort. */
  adminPort?: number;
}

/** Host ports the stack config gives the stack, locked for this process until dispose(). */
interface StackPorts {
  ingress: number;
  /** Admin ports of replica 0..n-1 (the stack publishes replica i at adminPort + i). */
  admin: number[];
}

export class TestProject {
  readonly dir: string;
  readonly stackName: string;
  readonly dockerPrefix: string;
  readonly env: Record<string, string>;
  stack!: Stack;

  private constructor(
    readonly options: TestProjectOptions,
    readonly ports: StackPorts,
  ) {
    this.stackName = `sdtest-${options.name}-${crypto.randomBytes(3).toString("hex")}`;
    this.dockerPrefix = dockerPrefix("swiftdeploy", this.stackName);
    this.dir = copyProject(`sdtest-${options.name}-`);
    claim(this.stackName, { dockerPrefix: this.dockerPrefix, dirs: [this.dir] });
    this.env = {
      PATH: `${path.join(TOOLS, "bin")}:${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${path.join(this.dir, ".pulumi-state")}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
  }

  static async create(options: TestProjectOptions): Promise<TestProject> {
    const replicas = options.replicas ?? 1;
    const ports = { ingress: await reservePort(), admin: await reservePorts(replicas) };
    const project = new TestProject(options, ports);
    fs.mkdirSync(path.join(project.dir, ".pulumi-state"));
    project.editFile("manifest.yaml", (t) => t.replace(/^(\s*replicas:) \d+/m, `$1 ${replicas}`));
    if (options.manifest) project.editFile("manifest.yaml", options.manifest);
    // These tests are about the mechanism, on a 2-core machine that is busy running them: a 1-minute load
    // above the shipped threshold would deny at random. Tests that want a denial set their own thresholds.
    project.setThreshold("infrastructure", "max_cpu_load", 1000);

    const pulumiCommand = await PulumiCommand.get({ root: TOOLS, skipVersionCheck: true });
    project.stack = await LocalWorkspace.createOrSelectStack(
      { stackName: project.stackName, workDir: project.dir },
      { envVars: project.env, pulumiCommand },
    );
    await project.stack.setConfig("swiftdeploy:ingressPort", { value: String(ports.ingress) });
    await project.stack.setConfig("swiftdeploy:adminPort", { value: String(ports.admin[0]) });
    return project;
  }

  get publicUrl(): string {
    return `http://127.0.0.1:${this.ports.ingress}`;
  }

  /**
   * The replicas' admin URLs as the stack's last update exported them (`adminUrls`): where they are
   * published is the stack's business, so tests never compute them.
   */
  async adminUrls(): Promise<string[]> {
    const urls = (await this.stack.outputs()).adminUrls?.value as unknown;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === "string"))
      throw new Error(
        `stack ${this.stackName} exports no adminUrls (got ${JSON.stringify(urls)}): deployed?`,
      );
    return urls;
  }

  get historyFile(): string {
    return path.join(this.dir, ".swiftdeploy", this.stackName, "history.jsonl");
  }

  /** The Prometheus file_sd file the stack writes. */
  get scrapeTargetsFile(): string {
    return path.join(this.dir, ".swiftdeploy", this.stackName, "prometheus", "app-targets.json");
  }

  get opaSocket(): string {
    return path.join(this.dir, ".swiftdeploy", this.stackName, "opa", "opa.sock");
  }

  /** The Docker name of the stack's OPA or nginx container (one each, named once). */
  container(role: "opa" | "nginx"): string {
    return `${this.dockerPrefix}-${role}`;
  }

  editFile(relative: string, edit: (text: string) => string): void {
    const file = path.join(this.dir, relative);
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
  }

  /** Sets one threshold (or release setting) in the copy's policies/data.json. */
  setThreshold(gate: "infrastructure" | "canary" | "release", key: string, value: number | boolean): void {
    this.editFile("policies/data.json", (text) => {
      const data = JSON.parse(text);
      data.swiftdeploy.thresholds[gate][key] = value;
      return `${JSON.stringify(data, null, 2)}\n`;
    });
  }

  /**
   * `pulumi up`, with the engine's output kept for the failure message, and the steps that changed
   * something as "<resource name> <op>" (app generations as app-<set>-<generation>-<replica>), sorted.
   */
  async up(opts: { refresh?: boolean } = {}): Promise<UpResult & { output: string; steps: string[] }> {
    let output = "";
    const steps = new Set<string>();
    const result = await this.stack.up({
      onOutput: (s) => (output += s),
      refresh: opts.refresh,
      onEvent: (event) => {
        const step = event.resourcePreEvent?.metadata;
        if (step && changes(step.op)) steps.add(changedStep(step.urn, step.op));
      },
    });
    return { ...result, output, steps: [...steps].sort() };
  }

  /** `pulumi preview`'s steps that would change something, as `up` reports them. */
  async previewSteps(): Promise<{ steps: string[]; output: string }> {
    let output = "";
    const steps = new Set<string>();
    await this.stack.preview({
      onOutput: (s) => (output += s),
      onEvent: (event) => {
        const step = event.resourcePreEvent?.metadata;
        if (step && changes(step.op)) steps.add(changedStep(step.urn, step.op));
      },
    });
    return { steps: [...steps].sort(), output };
  }

  /**
   * What `npm run deploy` runs once setup is done, in the copy on this stack: scripts/pulumi-stack.sh up
   * --yes --skip-preview (its recovery first, then the CLI). Setup is left out: it would install npm packages
   * into the copy's node_modules, a link to the checkout's. Exit status and the whole output, interleaved.
   */
  async deploy(timeoutMs = 180_000): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn("bash", ["scripts/pulumi-stack.sh", "up", "--yes", "--skip-preview"], {
        cwd: this.dir,
        env: {
          ...process.env,
          ...this.env,
          SWIFTDEPLOY_STACK: this.stackName,
          SWIFTDEPLOY_STATE: path.join(this.dir, ".pulumi-state"),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  /** `pulumi up` that must fail; returns the engine's whole output (stdout and stderr). */
  async failedUp(): Promise<string> {
    try {
      await this.stack.up();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("pulumi up succeeded, but this test expected it to fail");
  }

  async docker(...args: string[]): Promise<string> {
    const { stdout } = await run("docker", args, { timeout: 60_000 });
    return stdout.trim();
  }

  /** Names of this stack's containers, networks and images that Docker still has. */
  async leftovers(): Promise<string[]> {
    const list = async (...args: string[]) =>
      (await this.docker(...args)).split("\n").filter((n) => n.startsWith(this.dockerPrefix));
    return [
      ...(await list("ps", "-a", "--format", "{{.Names}}")),
      ...(await list("network", "ls", "--format", "{{.Name}}")),
      ...(await list("images", "--format", "{{.Repository}}:{{.Tag}}")),
    ];
  }

  async containerId(role: "opa" | "nginx"): Promise<string | null> {
    try {
      return await this.docker("inspect", "--format", "{{.Id}}", this.container(role));
    } catch {
      return null;
    }
  }

  /** Ids of this stack's containers of one role, running or not (app: every replica of every generation). */
  async containerIds(role: "app" | "nginx" | "opa"): Promise<string[]> {
    const ids = await this.docker(
      "ps",
      "-aq",
      "--no-trunc",
      "--filter",
      `name=^${this.dockerPrefix}-${role}`,
    );
    return ids.split("\n").filter(Boolean).sort();
  }

  /** Names of this stack's running containers of one role (app: every replica), sorted. */
  async containersOf(role: "app" | "nginx" | "opa"): Promise<string[]> {
    const names = await this.docker(
      "ps",
      "--filter",
      `name=^${this.dockerPrefix}-${role}`,
      "--format",
      "{{.Names}}",
    );
    return names.split("\n").filter(Boolean).sort();
  }

  /**
   * The admin URLs of one set's replicas (stable or canary), from the stack's `adminTargets` output.
   */
  async adminUrlsOf(set: "stable" | "canary"): Promise<string[]> {
    const targets = (await this.stack.outputs()).adminTargets?.value as
      { url: string; labels: Record<string, string> }[] | undefined;
    if (!Array.isArray(targets))
      throw new Error(`stack ${this.stackName} exports no adminTargets: deployed?`);
    return targets.filter((t) => t.labels.set === set).map((t) => t.url);
  }

  /** One stack output's value (undefined when the stack does not export it). */
  async output(name: string): Promise<unknown> {
    return (await this.stack.outputs())[name]?.value;
  }

  /**
   * Sets the chaos of every replica (or of one set's) through its loopback admin port; fails unless each
   * accepts it.
   */
  async setChaos(body: object, set?: "stable" | "canary"): Promise<void> {
    const urls = set === undefined ? await this.adminUrls() : await this.adminUrlsOf(set);
    if (urls.length === 0) throw new Error(`no ${set ?? "app"} replica to set chaos on`);
    for (const url of urls) {
      const response = await fetch(`${url}/chaos`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      if (response.status !== 200)
        throw new Error(
          `POST ${url}/chaos ${JSON.stringify(body)}: HTTP ${response.status}, ${await response.text()}`,
        );
    }
  }

  /** Destroys the stack, then removes whatever Docker objects named after it are left, and the copy. */
  async dispose(): Promise<void> {
    try {
      await this.stack?.destroy({ onOutput: () => undefined });
      await this.stack?.workspace.removeStack(this.stackName);
    } catch {
      // the Docker sweep below removes what a failed destroy leaves
    }
    const names = await this.leftovers().catch(() => [] as string[]);
    for (const name of names) {
      await run("docker", ["rm", "-f", name]).catch(() => undefined);
      await run("docker", ["network", "rm", name]).catch(() => undefined);
      await run("docker", ["rmi", "-f", name]).catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    unclaim(this.stackName);
    releasePorts([this.ports.ingress, ...this.ports.admin]);
  }
}

/**
 * Whether an engine step changes something: not "same", not a refresh, and not the read of the stack's own
 * last outputs (its StackReference to itself, on every update).
 */
function changes(op: string): boolean {
  return op !== "same" && op !== "refresh" && op !== "read";
}

/**
 * "<resource name> <op>" of one engine step; a replacement's several steps (delete-replaced, replace,
 * create-replacement) read as one "replace", and an app generation's hash as "<generation>".
 */
function changedStep(urn: string, op: string): string {
  const name = (urn.split("::").pop() ?? urn).replace(
    /^app-(stable|canary)-[0-9a-f]{8}-(\d+)$/,
    "app-$1-<generation>-$2",
  );
  return `${name} ${op.includes("replace") ? "replace" : op}`;
}

/** GET through fetch with a bound; returns status and body text. */
/**
 * Runs `change` while 4 keep-alive and 4 new-connection clients send GET / through `publicUrl` (bounded
 * by `maxSeconds`); the load starts half a second before the change and ends shortly after it.
 */
export async function underLoad<T>(
  publicUrl: string,
  change: () => Promise<T>,
  maxSeconds = 150,
): Promise<{ load: LoadResult; result: T }> {
  const load = startLoad({
    url: `${publicUrl}/`,
    keepAliveClients: 4,
    freshClients: 4,
    maxSeconds,
    pauseMs: 2,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  let result: T;
  try {
    result = await change();
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  return { load: await load.stop(), result };
}

export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

/**
 * Steady traffic to the public port until stopped, bounded in count and time. Returns a stop function
 * that resolves to the number of requests sent.
 */
export function steadyTraffic(
  url: string,
  opts: { concurrency: number; maxSeconds: number; maxRequests: number },
) {
  const deadline = Date.now() + opts.maxSeconds * 1000;
  let sent = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && Date.now() < deadline && sent < opts.maxRequests) {
      sent++;
      await fetch(url, { signal: AbortSignal.timeout(15_000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const workers = Array.from({ length: opts.concurrency }, worker);
  return async () => {
    stopped = true;
    await Promise.all(workers);
    return sent;
  };
}
