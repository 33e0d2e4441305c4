// A throwaway copy of the project for the program's unit and integration tests. The program writes next to itself
// (.swiftdeploy/<stack>/, .swiftdeploy/build/, service/dist/), so the tests run a copy rather than the
// checkout others work in. Sources are copied, not linked: Vite resolves links to their targets, so a
// linked index.ts would see the checkout as its __dirname. node_modules is linked (read-only use).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../..");

const COPIED = [
  "index.ts",
  "program",
  "tools",
  "components",
  "gates",
  "lib",
  "service",
  "templates",
  "policies",
  "scripts",
  "manifest.yaml",
  "manifest.schema.json",
  "Pulumi.yaml",
  "tsconfig.json",
  "package.json",
];

/** Copies the program into a new temp folder (named after `prefix`) and returns its (real) path. */
export function copyProject(prefix = "swiftdeploy-program-"): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  for (const entry of COPIED) {
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), {
      recursive: true,
      // A bundle left by a deploy would only be rewritten; .swiftdeploy never belongs to the copy.
      filter: (source) => !source.startsWith(path.join(REPO_ROOT, "service", "dist")),
    });
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** The tools `npm run setup` built (opa among them), first on PATH, as `source scripts/env` does. */
export function toolsBinDir(): string {
  const tools =
    process.env.SWIFTDEPLOY_TOOLS ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "swiftdeploy", "tools");
  return path.join(tools, "bin");
}
