// A throwaway copy of the SwiftDeploy project with its own stack, backend and Docker names, driven by the
// real engine through the Automation API. Tests edit the copy's manifest.yaml and policies/data.json freely;
// `dispose()` destroys the stack and removes every Docker object named after it, also after a failure.
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack, type UpResult } from "@pulumi/pulumi/automation";
import { dockerPrefix } from "../../../program/names";
import { copyProject, REPO_ROOT } from "../../support/project-copy";

export const ROOT = REPO_ROOT;
export const TOOLS = process.env.SWIFTDEPLOY_TOOLS ?? path.join(os.homedir(), ".cache/swiftdeploy/tools");
const run = promisify(execFile);

export interface TestProjectOptions {
  /** Prefix of the stack name; a random suffix keeps runs apart. */
  name: string;
  ingressPort: number;
  adminPort: number;
  /** Edits applied to the copy's manifest.yaml text before the first deploy. */
  manifest?: (text: string) => string;
}

export class TestProject {
  readonly dir: string;
  readonly stackName: string;
  readonly dockerPrefix: string;
  readonly env: Record<string, string>;
  stack!: Stack;

  private constructor(readonly options: TestProjectOptions) {
    this.dir = copyProject(`sdtest-${options.name}-`);
    this.stackName = `sdtest-${options.name}-${crypto.randomBytes(3).toString("hex")}`;
    this.dockerPrefix = dockerPrefix("swiftdeploy", this.stackName);
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
    const project = new TestProject(options);
    fs.mkdirSync(path.join(project.dir, ".pulumi-state"));
    if (options.manifest) project.editFile("manifest.yaml", options.manifest);
    // These tests are about the mechanism, on a 2-core machine that is busy running them: a 1-minute load
    // above the shipped threshold would deny at random. Tests that want a denial set their own thresholds.
    project.setThreshold("infrastructure", "max_cpu_load", 1000);

    const pulumiCommand = await PulumiCommand.get({ root: TOOLS, skipVersionCheck: true });
    project.stack = await LocalWorkspace.createOrSelectStack(
      { stackName: project.stackName, workDir: project.dir },
      { envVars: project.env, pulumiCommand },
    );
    await project.stack.setConfig("swiftdeploy:ingressPort", { value: String(options.ingressPort) });
    await project.stack.setConfig("swiftdeploy:adminPort", { value: String(options.adminPort) });
    return project;
  }

  get publicUrl(): string {
    return `http://127.0.0.1:${this.options.ingressPort}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.options.adminPort}`;
  }

  get historyFile(): string {
    return path.join(this.dir, ".swiftdeploy", this.stackName, "history.jsonl");
  }

  get opaSocket(): string {
    return path.join(this.dir, ".swiftdeploy", this.stackName, "opa", "opa.sock");
  }

  container(role: "opa" | "nginx" | "app-0"): string {
    return `${this.dockerPrefix}-${role}`;
  }

  editFile(relative: string, edit: (text: string) => string): void {
    const file = path.join(this.dir, relative);
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
  }

  /** Sets one threshold in the copy's policies/data.json. */
  setThreshold(gate: "infrastructure" | "canary", key: string, value: number): void {
    this.editFile("policies/data.json", (text) => {
      const data = JSON.parse(text);
      data.swiftdeploy.thresholds[gate][key] = value;
      return `${JSON.stringify(data, null, 2)}\n`;
    });
  }

  /** `pulumi up`, with the engine's output kept for the failure message. */
  async up(opts: { refresh?: boolean } = {}): Promise<UpResult & { output: string }> {
    let output = "";
    const result = await this.stack.up({ onOutput: (s) => (output += s), refresh: opts.refresh });
    return { ...result, output };
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

  async containerId(role: "opa" | "nginx" | "app-0"): Promise<string | null> {
    try {
      return await this.docker("inspect", "--format", "{{.Id}}", this.container(role));
    } catch {
      return null;
    }
  }

  /** Sets the app's chaos through its loopback admin port (replica 0); fails unless the app accepts it. */
  async setChaos(body: object): Promise<void> {
    const response = await fetch(`${this.adminUrl}/chaos`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    if (response.status !== 200)
      throw new Error(
        `POST /chaos ${JSON.stringify(body)}: HTTP ${response.status}, ${await response.text()}`,
      );
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
  }
}

/** GET through fetch with a bound; returns status and body text. */
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
