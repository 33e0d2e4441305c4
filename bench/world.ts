// What one bench run creates (stacks `bench-<pid>`, its compose project, image tags, state folders), named
// from one id so that the cleanup finds every piece of it, also after a failure or Ctrl+C.
import * as fs from "node:fs";
import * as path from "node:path";
import { loadManifest } from "../program/manifest";
import { planStack, type StackPlan } from "../program/plan";
import { applyPortOverrides } from "../program/stack-settings";
import type { ComposeProject } from "./compose";
import { ROOT } from "./paths";
import { runTimed } from "./process";
import { PulumiStack } from "./pulumi";

const OBSERVATION_WINDOW_S = 5;
const PROJECT = "swiftdeploy";

const log = (line: string) => console.log(line);

/** What the bench creates, named from one id so the cleanup can find every piece of it. */
export class BenchWorld {
  readonly id = `bench-${process.pid}`;
  readonly dockerPrefix = `${PROJECT}-${this.id}`;
  readonly manifestFile = path.join(".swiftdeploy", this.id, "manifest.yaml");
  readonly stateDirs = ["", "-plain", "-compose", "-changes", "-canary"].map((s) =>
    path.join(ROOT, ".swiftdeploy", `${this.id}${s}`),
  );
  readonly stacks: PulumiStack[] = [];
  readonly keptImages: string[] = [];
  compose?: ComposeProject;
  /** Compose projects of other benches (changes under load), brought down by the cleanup too. */
  readonly composeProjects: ComposeProject[] = [];
  /** The project's selected stack before the bench (scripts/pulumi.sh selects the stack it deploys). */
  private selectedStack: string | null = null;

  constructor(readonly env: NodeJS.ProcessEnv) {}

  async rememberSelectedStack(): Promise<void> {
    try {
      const run = await runTimed("pulumi", ["stack", "--show-name", "--non-interactive"], { env: this.env });
      this.selectedStack = run.lines[0]?.text.trim() || null;
    } catch {
      this.selectedStack = null; // none selected
    }
  }

  /** The manifest with a short observation window, so the canary bench does not wait 30 s. */
  writeManifest(): void {
    const text = fs.readFileSync(path.join(ROOT, "manifest.yaml"), "utf8");
    const short = text.replace(
      /observation_window_s:\s*\d+/,
      `observation_window_s: ${OBSERVATION_WINDOW_S}`,
    );
    if (short === text) throw new Error("manifest.yaml has no gates.observation_window_s to shorten");
    fs.mkdirSync(path.join(ROOT, ".swiftdeploy", this.id), { recursive: true });
    fs.writeFileSync(path.join(ROOT, this.manifestFile), short);
  }

  /** The plan of a stack of this run; manifestFile (relative to the project) for a bench with its own. */
  plan(
    stack: string,
    ports: { ingress: number; admin: number },
    manifestFile = this.manifestFile,
  ): StackPlan {
    const manifest = applyPortOverrides(loadManifest(path.join(ROOT, manifestFile)), {
      mode: "stable",
      ingressPort: ports.ingress,
      adminPort: ports.admin,
    });
    return planStack({ project: PROJECT, stack, mode: "stable", manifest, projectDir: ROOT });
  }

  async stack(
    name: string,
    dir: string,
    ports: { ingress: number; admin: number },
    manifestFile = this.manifestFile,
  ): Promise<PulumiStack> {
    const configFile = path.join(ROOT, ".swiftdeploy", name, `Pulumi.${name}.yaml`);
    const stack = new PulumiStack(name, dir, configFile, this.env);
    this.stacks.push(stack);
    await stack.init({
      "swiftdeploy:ingressPort": String(ports.ingress),
      "swiftdeploy:adminPort": String(ports.admin),
      "swiftdeploy:manifest": manifestFile,
    });
    return stack;
  }

  /** Destroys and removes a stack before the run ends (a bench done with it); never throws. */
  async dropStack(stack: PulumiStack): Promise<void> {
    await stack.remove(log);
    this.stacks.splice(this.stacks.indexOf(stack), 1);
  }

  /** Extra tags on the images the stack built: compose runs them by name, and destroys cannot drop them. */
  async keepImages(plan: StackPlan): Promise<{ opa: string; app: string; nginx: string }> {
    const keep = `${this.dockerPrefix}-keep`;
    const pairs = {
      opa: [`${plan.names.opaImage}:latest`, `${keep}/opa:latest`],
      app: [await this.builtAppImage(plan), `${keep}/app:${plan.manifest.service.version}`],
      nginx: [`${plan.names.nginxImage}:latest`, `${keep}/nginx:latest`],
    };
    for (const [source, tag] of Object.values(pairs)) {
      await runTimed("docker", ["tag", source, tag], { env: this.env });
      this.keptImages.push(tag);
    }
    return { opa: pairs.opa[1], app: pairs.app[1], nginx: pairs.nginx[1] };
  }

  /** The tag of the app image the stack built for the plan's version (<version>-<build>). */
  private async builtAppImage(plan: StackPlan): Promise<string> {
    const run = await runTimed("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}"], {
      env: this.env,
    });
    const tag = run.lines.map((l) => l.text.trim()).find((t) => t.startsWith(`${plan.appImage}-`));
    if (!tag) throw new Error(`no image ${plan.appImage}-<build> found: did the bench stack deploy?`);
    return tag;
  }

  /** Removes everything this run made; reports, never throws. */
  async cleanup(): Promise<void> {
    log(`cleanup: removing ${this.id}'s stacks, compose project, containers, networks, images, state`);
    for (const project of [...this.composeProjects, ...(this.compose ? [this.compose] : [])]) {
      await project.down().catch((err: Error) => log(`cleanup: ${err.message}`));
    }
    for (const stack of [...this.stacks].reverse()) await stack.remove(log);
    await this.sweepDocker();
    for (const dir of this.stateDirs) fs.rmSync(dir, { recursive: true, force: true });
    const select = this.selectedStack ? ["select", this.selectedStack] : ["unselect"];
    await runTimed("pulumi", ["stack", ...select, "--non-interactive"], { env: this.env }).catch(
      (err: Error) => log(`cleanup: could not restore the selected stack: ${err.message}`),
    );
  }

  /** Anything left with this run's Docker prefix (a destroy that failed half-way, say) goes too. */
  private async sweepDocker(): Promise<void> {
    const list = async (args: string[]) =>
      (await runTimed("docker", args, { env: this.env })).lines.map((l) => l.text.trim()).filter(Boolean);
    const mine = (name: string) =>
      name.startsWith(`${this.dockerPrefix}-`) || name.startsWith(`${this.dockerPrefix}/`);
    try {
      const containers = (await list(["ps", "-a", "--format", "{{.Names}}"])).filter(mine);
      if (containers.length) await runTimed("docker", ["rm", "-f", ...containers], { env: this.env });
      const networks = (await list(["network", "ls", "--format", "{{.Name}}"])).filter(mine);
      if (networks.length) await runTimed("docker", ["network", "rm", ...networks], { env: this.env });
      const images = (await list(["images", "--format", "{{.Repository}}:{{.Tag}}"])).filter(mine);
      if (images.length) await runTimed("docker", ["rmi", ...images], { env: this.env });
      const left = [...containers, ...networks, ...images.filter((i) => !this.keptImages.includes(i))];
      if (left.length) log(`cleanup: swept leftovers: ${left.join(", ")}`);
    } catch (err) {
      log(`cleanup: sweeping Docker objects of ${this.dockerPrefix} failed: ${(err as Error).message}`);
    }
  }
}
