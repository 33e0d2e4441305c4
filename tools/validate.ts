// npm run validate [-- --stack NAME]: checks everything `pulumi up` would rely on, without touching the
// stack: the stack config, the manifest against its schema, the policies (opa fmt/check/test/coverage),
// and the rendered nginx.conf with `nginx -t` of the stack's own nginx image (built first when it does not
// exist yet, as before the first deploy). Each result is printed as soon as it is known.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { loadManifest, type Manifest } from "../program/manifest";
import { nginxConfig, planStack } from "../program/plan";
import { applyPortOverrides, readStackSettings, type StackSettings } from "../program/stack-settings";
import { runDocker } from "./validate/docker";
import { checkNginxConfig, type Outcome } from "./validate/nginx";

const ROOT = path.resolve(__dirname, "..");
const USAGE = "usage: npm run validate [-- --stack NAME]";

/** The project's name, as Pulumi.yaml declares it: Docker names derive from it. */
function projectName(): string {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name?: unknown };
  return typeof doc?.name === "string" ? doc.name : "swiftdeploy";
}

function stackConfig(stack: string): (key: string) => string | undefined {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  const doc = fs.existsSync(file) ? (yaml.load(fs.readFileSync(file, "utf8")) as { config?: object }) : {};
  const config = (doc?.config ?? {}) as Record<string, unknown>;
  return (key) => {
    const value = config[`swiftdeploy:${key}`];
    return value === undefined ? undefined : String(value);
  };
}

function checkPolicies(): Outcome {
  const out = spawnSync("bash", [path.join(ROOT, "scripts", "policy-check.sh")], { encoding: "utf8" });
  const text = `${out.stdout}${out.stderr}`.trim();
  const coverage = /policy coverage: [^\n]*/.exec(text)?.[0] ?? "";
  return out.status === 0
    ? { ok: true, detail: `opa fmt, check --strict, test pass; ${coverage}` }
    : { ok: false, detail: text };
}

function checkNginx(manifest: Manifest, settings: StackSettings, stack: string): Promise<Outcome> {
  const plan = planStack({ project: projectName(), stack, mode: settings.mode, manifest, projectDir: ROOT });
  return checkNginxConfig(
    {
      image: plan.names.nginxImage,
      buildContext: path.join(ROOT, "components", "images", "nginx"),
      // No app container runs here: the upstreams are a loopback address, as the rollout step writes
      // addresses. Both sets, split by the manifest's weight: the richest config the stack renders.
      config: nginxConfig(
        plan,
        [
          { set: "stable", servers: ["127.0.0.1"] },
          { set: "canary", servers: ["127.0.0.1"] },
        ],
        manifest.canary.weight,
      ).text,
    },
    runDocker,
    (line) => console.error(`     ${line}`),
  );
}

function report(name: string, outcome: Outcome): void {
  console.log(`${outcome.ok ? "ok  " : "FAIL"} ${name}: ${outcome.detail.replace(/\n/g, "\n       ")}`);
}

async function main(argv: string[]): Promise<number> {
  const stackIndex = argv.indexOf("--stack");
  const stack = stackIndex >= 0 ? argv[stackIndex + 1] : "dev";
  if (!stack) {
    console.error(USAGE);
    return 2;
  }
  let failed = false;
  const attempt = async (name: string, check: () => Outcome | Promise<Outcome>) => {
    let outcome: Outcome;
    try {
      outcome = await check();
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    failed ||= !outcome.ok;
    report(name, outcome);
  };
  const config = stackConfig(stack);
  let settings: StackSettings | undefined;
  let manifest: Manifest | undefined;
  await attempt(`stack config (Pulumi.${stack}.yaml)`, () => {
    settings = readStackSettings(config);
    return { ok: true, detail: `mode ${settings.mode}` };
  });
  await attempt("manifest", () => {
    const loaded = loadManifest(path.resolve(ROOT, config("manifest") ?? "manifest.yaml"));
    manifest = settings ? applyPortOverrides(loaded, settings) : loaded;
    return {
      ok: true,
      detail: `${manifest.service.name} ${manifest.service.version}, ${manifest.app.replicas} replica(s)`,
    };
  });
  await attempt("policies", checkPolicies);
  if (manifest && settings) {
    const [m, s] = [manifest, settings];
    await attempt("nginx.conf", () => checkNginx(m, s, stack));
  } else {
    console.log("skip nginx.conf: not checked, it is rendered from the manifest and the stack config above");
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
