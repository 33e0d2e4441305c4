// Everything the program derives from the manifest and the stack config before it declares resources:
// Docker names, host ports and URLs, per-stack paths (planStack, pure), and the host files Docker builds
// and Pulumi compares read (prepareHostFiles: build contexts, the rendered nginx.conf, content hashes).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bundleService } from "./service-bundle";
import { findTool, hashFiles, listFiles, prepareBuildContext } from "./build-context";
import { historyPath } from "../lib/history";
import { adminPorts, type Manifest } from "./manifest";
import { dockerPrefix, stackDockerNames } from "./names";
import { renderNginxConfig } from "./nginx-config";
import type { Mode } from "../lib/types";

/** nginx's port inside its container; the manifest's ingress port is the host side. */
export const NGINX_LISTEN_PORT = 8080;
/** The name every app replica answers to on the public network. */
export const APP_NETWORK_ALIAS = "app";
/** Build-context files above this size count by size and modification time in the image hash. */
export const BIG_FILE_BYTES = 1 << 20;
/** Routes the app serves on its admin listener only; nginx refuses them on the public port. */
export const ADMIN_ROUTES = ["/metrics", "/chaos"];

export interface StackPlan {
  project: string;
  stack: string;
  mode: Mode;
  manifest: Manifest;
  names: ReturnType<typeof stackDockerNames>;
  appImage: string;
  adminHostPorts: number[];
  adminUrls: string[];
  publicUrl: string;
  paths: {
    projectDir: string;
    stateDir: string;
    historyFile: string;
    opaSocketDir: string;
    opaSocket: string;
    nginxConfigFile: string;
    policiesDir: string;
    serviceDir: string;
  };
}

export function planStack(opts: {
  project: string;
  stack: string;
  mode: Mode;
  manifest: Manifest;
  projectDir: string;
}): StackPlan {
  const { manifest, projectDir, stack } = opts;
  const names = stackDockerNames(dockerPrefix(opts.project, stack), manifest.networks);
  const stateDir = path.join(projectDir, ".swiftdeploy", stack);
  const hostPorts = adminPorts(manifest);
  return {
    ...opts,
    names,
    appImage: `${names.appImage(manifest.service.image)}:${manifest.service.version}`,
    adminHostPorts: hostPorts,
    adminUrls: hostPorts.map((port) => `http://127.0.0.1:${port}`),
    // Bound to every address (0.0.0.0), the ingress is reached from this host on loopback.
    publicUrl: `http://${manifest.ingress.bind === "0.0.0.0" ? "127.0.0.1" : manifest.ingress.bind}:${manifest.ingress.port}`,
    paths: {
      projectDir,
      stateDir,
      historyFile: historyPath(projectDir, stack),
      opaSocketDir: path.join(stateDir, "opa"),
      opaSocket: path.join(stateDir, "opa", "opa.sock"),
      nginxConfigFile: path.join(stateDir, "nginx.conf"),
      policiesDir: path.join(projectDir, "policies"),
      serviceDir: path.join(projectDir, "service"),
    },
  };
}

export function nginxConfig(plan: StackPlan): string {
  return renderNginxConfig({
    stack: plan.stack,
    listen_port: NGINX_LISTEN_PORT,
    app_host: APP_NETWORK_ALIAS,
    app_port: plan.manifest.app.port,
    replicas: plan.manifest.app.replicas,
    dns_valid_s: 1,
    admin_routes: ADMIN_ROUTES,
  });
}

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
