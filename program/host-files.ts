// The host files the program prepares before it declares resources: what Docker builds and Pulumi's
// comparisons read (build contexts, content hashes), and Docker's data root for the infrastructure gate.
// Never nginx's config: only the rollout step writes that (components/ingress-config.ts).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findTool, hashFiles, listFiles, prepareBuildContext } from "./build-context";
import { BIG_FILE_BYTES, type StackPlan } from "./plan";
import { bundleService } from "./service-bundle";

export interface HostFiles {
  opaBinary: string;
  opaContext: { dir: string; hash: string };
  nginxContext: { dir: string; hash: string };
  policyFiles: { name: string; content: string }[];
  policiesHash: string;
  /** Resolves once service/dist/server.js is written: hash of the bundle and the Dockerfile. */
  appImageHash: Promise<string>;
  /** Resolves to Docker's data root, as the engine reports it. */
  dockerRoot: Promise<string>;
  user: string;
}

/** Writes what Docker builds and `nginx -t` read, and hashes what decides rebuilds. */
export function prepareHostFiles(plan: StackPlan): HostFiles {
  const { paths } = plan;
  // Only the user running Pulumi reaches OPA's socket (OPA also sets the mode at every start).
  fs.mkdirSync(paths.opaSocketDir, { recursive: true, mode: 0o700 });
  // Mounted into nginx; empty until the rollout step writes the config (an empty folder is all a preview makes).
  fs.mkdirSync(paths.nginxConfigDir, { recursive: true });
  // nginx runs unprivileged and must read it whatever the umask.
  fs.chmodSync(paths.nginxConfigDir, 0o755);
  const imagesDir = path.join(paths.projectDir, "components", "images");
  const buildsDir = path.join(paths.projectDir, ".swiftdeploy", "build");

  const opaBinary = findTool("opa");
  const opaDir = prepareBuildContext(path.join(buildsDir, "opa"), path.join(imagesDir, "opa", "Dockerfile"), {
    opa: opaBinary,
  });
  const nginxDir = path.join(imagesDir, "nginx");

  const dockerRoot = dockerRootDir();
  // Callers that never read it (the bench's baseline) must not turn a failed `docker info` into a crash.
  dockerRoot.catch(() => undefined);

  const policyPaths = listFiles(paths.policiesDir);
  const served = policyPaths.filter((f) => !f.endsWith("_test.rego")).sort();

  return {
    opaBinary,
    opaContext: { dir: opaDir, hash: hashFiles(listFiles(opaDir), opaDir, { statAbove: BIG_FILE_BYTES }) },
    nginxContext: { dir: nginxDir, hash: hashFiles(listFiles(nginxDir), nginxDir) },
    policyFiles: served.map((f) => ({ name: path.basename(f), content: fs.readFileSync(f, "utf8") })),
    policiesHash: hashFiles(policyPaths, paths.policiesDir),
    appImageHash: bundleService(path.join(paths.serviceDir, "dist", "server.js")).then((bundle) =>
      hashFiles([bundle, path.join(paths.serviceDir, "Dockerfile")], paths.serviceDir),
    ),
    dockerRoot,
    user: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
  };
}

/**
 * Docker's data root (where images and containers take disk space), as the engine reports it. `docker info`
 * takes ~0.1 s: the program does not wait for it, only the infrastructure gate does.
 */
function dockerRootDir(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "docker",
      ["info", "--format", "{{.DockerRootDir}}"],
      { encoding: "utf8", timeout: 10_000 },
      (err, stdout, stderr) => {
        const dir = stdout?.trim();
        if (err || !dir) {
          const why = stderr?.trim() || err?.message || "no DockerRootDir in its answer";
          reject(new Error(`docker info failed (${why}): is the Docker engine running?`));
        } else resolve(dir);
      },
    );
  });
}

/**
 * The build context of each kept app image, by tag: `<appImagesDir>/<version>-<content hash>/`, written once
 * from service/ when `built` (the tag service/ builds to now) is first kept, then left alone, so a version
 * always builds to the same image. Contexts of images neither kept nor among `previous` are removed.
 */
export function prepareAppImageContexts(
  plan: StackPlan,
  images: { kept: string[]; built: string; previous: string[] },
): Map<string, string> {
  const dir = plan.paths.appImagesDir;
  const contextOf = (tag: string) => path.join(dir, tag.slice(tag.lastIndexOf(":") + 1));
  fs.mkdirSync(dir, { recursive: true });
  const contexts = new Map(images.kept.map((tag) => [tag, contextOf(tag)]));
  const builtContext = contexts.get(images.built);
  if (builtContext !== undefined && !fs.existsSync(builtContext)) {
    const staging = `${builtContext}.tmp-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(path.join(staging, "dist"), { recursive: true });
    fs.copyFileSync(path.join(plan.paths.serviceDir, "Dockerfile"), path.join(staging, "Dockerfile"));
    fs.copyFileSync(
      path.join(plan.paths.serviceDir, "dist", "server.js"),
      path.join(staging, "dist", "server.js"),
    );
    fs.renameSync(staging, builtContext);
  }
  const keep = new Set([...images.kept, ...images.previous].map((tag) => path.basename(contextOf(tag))));
  for (const entry of fs.readdirSync(dir)) {
    if (!keep.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  return contexts;
}
