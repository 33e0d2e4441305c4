// Files the program prepares on the host before Docker builds or Pulumi compares inputs: image build
// contexts, content hashes that decide rebuilds, and the location of the tools setup built.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * sha256 over the files' paths (relative to `root`, so moving the checkout changes nothing) and contents,
 * in sorted order, as a short hex string. With `statAbove`, a file of more bytes than that counts by its
 * size and modification time instead of its content: for a large file copied with its modification time
 * (prepareBuildContext), such as the 60 MB opa binary, whose reading cost ~50 ms of every `pulumi up`.
 */
export function hashFiles(files: string[], root: string, opts: { statAbove?: number } = {}): string {
  const hash = createHash("sha256");
  const entries = files.map((file) => ({ file, name: path.relative(root, file) }));
  for (const { file, name } of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const stat = opts.statAbove === undefined ? undefined : fs.statSync(file);
    const identity =
      stat && stat.size > opts.statAbove! ? `size ${stat.size} mtime ${stat.mtimeMs}` : fs.readFileSync(file);
    hash.update(name).update("\0").update(identity).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/** Every regular file under a directory, recursively, as absolute paths. */
export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** The absolute path of an executable on PATH (resolving links), or an error that says how to get it. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.realpathSync(candidate);
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not on PATH: run \`npm run setup\` and \`source scripts/env\` first`);
}

/**
 * A Docker build context made of a Dockerfile and files copied next to it, in `dir`. Files are copied only
 * when their size or modification time differ, so an unchanged context costs a stat per file.
 */
export function prepareBuildContext(dir: string, dockerfile: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  copyIfChanged(dockerfile, path.join(dir, "Dockerfile"));
  for (const [name, source] of Object.entries(files)) copyIfChanged(source, path.join(dir, name));
  return dir;
}

function copyIfChanged(source: string, target: string): void {
  const from = fs.statSync(source);
  const to = fs.statSync(target, { throwIfNoEntry: false });
  if (to && to.size === from.size && to.mtimeMs === from.mtimeMs) return;
  fs.copyFileSync(source, target);
  fs.utimesSync(target, from.atime, from.mtime);
  fs.chmodSync(target, from.mode);
}
