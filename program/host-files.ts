// The host files the program prepares before it declares resources: what Docker builds, `nginx -t` and
// Pulumi's comparisons read (build contexts, the rendered nginx.conf, content hashes), and Docker's data
// root for the infrastructure gate.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findTool, hashFiles, listFiles, prepareBuildContext } from "./build-context";
import { BIG_FILE_BYTES, nginxConfig, type StackPlan } from "./plan";
import { bundleService } from "./service-bundle";

export interface HostFiles {
  opaBinary: string;
  opaContext: { dir: string; hash: string };
  nginxContext: { dir: string; hash: string };
  nginxConfig: string;
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
  fs.mkdirSync(paths.opaSocketDir, { recursive: true });
  const imagesDir = path.join(paths.projectDir, "components", "images");
  const buildsDir = path.join(paths.projectDir, ".swiftdeploy", "build");

  const opaBinary = findTool("opa");
  const opaDir = prepareBuildContext(path.join(buildsDir, "opa"), path.join(imagesDir, "opa", "Dockerfile"), {
    opa: opaBinary,
  });
  const nginxDir = path.join(imagesDir, "nginx");

  const config = nginxConfig(plan);
  writeIfChanged(paths.nginxConfigFile, config);

  const dockerRoot = dockerRootDir();
  // Callers that never read it (the bench's baseline) must not turn a failed `docker info` into a crash.
  dockerRoot.catch(() => undefined);

  const policyPaths = listFiles(paths.policiesDir);
  const served = policyPaths.filter((f) => !f.endsWith("_test.rego")).sort();

  return {
    opaBinary,
    opaContext: { dir: opaDir, hash: hashFiles(listFiles(opaDir), opaDir, { statAbove: BIG_FILE_BYTES }) },
    nginxContext: { dir: nginxDir, hash: hashFiles(listFiles(nginxDir), nginxDir) },
    nginxConfig: config,
    policyFiles: served.map((f) => ({ name: path.basename(f), content: fs.readFileSync(f, "utf8") })),
    policiesHash: hashFiles(policyPaths, paths.policiesDir),
    appImageHash: bundleService(path.join(paths.serviceDir, "dist", "server.js")).then((bundle) =>
      hashFiles([bundle, path.join(paths.serviceDir, "Dockerfile")], paths.serviceDir),
    ),
    dockerRoot,
    user: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
  };
}

function writeIfChanged(file: string, content: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === content) return;
  fs.writeFileSync(file, content);
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
