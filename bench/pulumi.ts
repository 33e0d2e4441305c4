// The Pulumi driver of the bench: a stack of the project's local backend, created for a run and removed again.
import * as fs from "node:fs";
import * as path from "node:path";
import { runTimed, type TimedRun } from "./process";

/**
 * A Pulumi stack of the project's local backend that the bench creates, and removes again. Its config file
 * lives in the bench's git-ignored state folder (`--config-file`), not beside the program as
 * Pulumi.<stack>.yaml, so a commit made while the bench runs cannot pick it up.
 */
export class PulumiStack {
  constructor(
    readonly name: string,
    /** The program's folder: the project root, or bench/plain. */
    readonly programDir: string,
    /** Where the stack's config file is kept. */
    readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private pulumi(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<TimedRun> {
    return runTimed("pulumi", ["--stack", this.name, "--non-interactive", ...args], {
      cwd: this.programDir,
      env: { ...this.env, ...opts.env },
      timeoutMs: 240_000,
    });
  }

  async init(config: Record<string, string>): Promise<void> {
    await runTimed("pulumi", ["stack", "init", this.name, "--non-interactive"], {
      cwd: this.programDir,
      env: this.env,
    });
    // `stack init` has no --config-file: it writes the secrets salt beside the program; move it away.
    const written = path.join(this.programDir, `Pulumi.${this.name}.yaml`);
    fs.mkdirSync(path.dirname(this.configFile), { recursive: true });
    if (fs.existsSync(written)) fs.renameSync(written, this.configFile);
    for (const [key, value] of Object.entries(config)) await this.setConfig(key, value);
  }

  async setConfig(key: string, value: string): Promise<void> {
    await this.pulumi(["config", "set", key, value, "--config-file", this.configFile]);
  }

  up(flags: string[], env?: NodeJS.ProcessEnv): Promise<TimedRun> {
    return this.pulumi(["up", ...flags, "--config-file", this.configFile], { env });
  }

  destroy(): Promise<TimedRun> {
    return this.pulumi(["destroy", "--yes", "--skip-preview", "--config-file", this.configFile]);
  }

  /** Destroys what is left and removes the stack; never throws (used in finally). */
  async remove(log: (line: string) => void): Promise<void> {
    try {
      await this.destroy();
    } catch (err) {
      log(`cleanup: destroy of stack ${this.name} failed: ${(err as Error).message}`);
    }
    try {
      await this.pulumi(["stack", "rm", "--yes", "--force"]);
    } catch (err) {
      log(`cleanup: removing stack ${this.name} failed: ${(err as Error).message}`);
    }
    fs.rmSync(path.join(this.programDir, `Pulumi.${this.name}.yaml`), { force: true });
  }
}
