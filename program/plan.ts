// Everything the program derives from the manifest and the stack config before it declares resources:
// Docker names, host ports and URLs, per-stack paths (planStack, pure) and the rendered nginx.conf. The
// host files come after (host-files.ts).
import * as path from "node:path";
import { historyPath } from "../lib/history";
import { adminPorts, type Manifest } from "./manifest";
import { dockerPrefix, stackDockerNames } from "./names";
import { renderNginxConfig } from "./nginx-config";
import type { Mode } from "../lib/modes";
import { loadManifest } from "./manifest";
import { applyPortOverrides, readStackSettings } from "./stack-settings";

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

/** The plan of a stack from its config: settings validated, manifest loaded with the port overrides. */
export function loadStackPlan(opts: {
  project: string;
  stack: string;
  projectDir: string;
  config: (key: string) => string | undefined;
}): StackPlan {
  const settings = readStackSettings(opts.config);
  const manifestFile = path.resolve(opts.projectDir, opts.config("manifest") ?? "manifest.yaml");
  return planStack({
    project: opts.project,
    stack: opts.stack,
    mode: settings.mode,
    manifest: applyPortOverrides(loadManifest(manifestFile), settings),
    projectDir: opts.projectDir,
  });
}
