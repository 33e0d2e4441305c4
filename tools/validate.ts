// npm run validate [-- --stack NAME]: checks everything `pulumi up` would rely on, without touching the
// stack: the manifest against its schema, the stack config, the policies (opa fmt/check/test/coverage),
// and the rendered nginx.conf with `nginx -t` of the stack's own nginx image.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { loadManifest, type Manifest } from "../program/manifest";
import { nginxConfig, planStack } from "../program/plan";
import { applyPortOverrides, readStackSettings, type StackSettings } from "../program/stack-settings";

const ROOT = path.resolve(__dirname, "..");

interface Outcome {
  ok: boolean;
  detail: string;
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

function checkNginx(manifest: Manifest, settings: StackSettings, stack: string): Outcome {
  const plan = planStack({ project: "swiftdeploy", stack, mode: settings.mode, manifest, projectDir: ROOT });
  const image = plan.names.nginxImage;
  if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0) {
    return {
      ok: true,
      detail: `skipped nginx -t: image ${image} is not built yet (the first pulumi up builds it)`,
    };
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-validate-")), "nginx.conf");
  fs.writeFileSync(file, nginxConfig(plan));
  const args = [
    "run",
    "--rm",
    "--network",
    "none",
    "-v",
    `${file}:/etc/nginx/nginx.conf:ro`,
    image,
    "nginx",
    "-t",
    "-q",
  ];
  const out = spawnSync("docker", args, { encoding: "utf8" });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return out.status === 0
    ? { ok: true, detail: `nginx -t passes with ${image}` }
    : { ok: false, detail: `nginx -t failed: ${out.stderr.trim()}` };
}

function main(argv: string[]): number {
  const stackIndex = argv.indexOf("--stack");
  const stack = stackIndex >= 0 ? argv[stackIndex + 1] : "dev";
  if (!stack) {
    console.error("usage: npm run validate [-- --stack NAME]");
    return 2;
  }
  const results: [string, Outcome][] = [];
  const attempt = (name: string, check: () => Outcome) => {
    try {
      results.push([name, check()]);
    } catch (err) {
      results.push([name, { ok: false, detail: (err as Error).message }]);
    }
  };
  const config = stackConfig(stack);
  let settings: StackSettings | undefined;
  let manifest: Manifest | undefined;
  attempt(`stack config (Pulumi.${stack}.yaml)`, () => {
    settings = readStackSettings(config);
    return { ok: true, detail: `mode ${settings.mode}` };
  });
  attempt("manifest", () => {
    const loaded = loadManifest(path.join(ROOT, config("manifest") ?? "manifest.yaml"));
    manifest = settings ? applyPortOverrides(loaded, settings) : loaded;
    return {
      ok: true,
      detail: `${manifest.service.name} ${manifest.service.version}, ${manifest.app.replicas} replica(s)`,
    };
  });
  attempt("policies", checkPolicies);
  if (manifest && settings) attempt("nginx.conf", () => checkNginx(manifest!, settings!, stack));

  for (const [name, outcome] of results) {
    console.log(`${outcome.ok ? "ok  " : "FAIL"} ${name}: ${outcome.detail.replace(/\n/g, "\n       ")}`);
  }
  return results.every(([, o]) => o.ok) ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
