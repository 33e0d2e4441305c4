// Everything the program derives from the manifest and the stack config before it declares resources:
// Docker names, host ports and URLs, per-stack paths (planStack, pure) and the rendered nginx.conf. The
// host files come after (host-files.ts).
import * as path from "node:path";
import type { ContainerLimits } from "../components/supervised";
import { PROXY_READ_TIMEOUT_S } from "../lib/drain";
import { historyPath } from "../lib/history";
import type { Manifest } from "./manifest";
import { dockerPrefix, stackDockerNames } from "./names";
import { renderNginxConfig, type RenderedNginxConfig } from "./nginx-config";
import type { Mode } from "../lib/modes";
import { LABEL } from "../lib/labels";
import type { AppSet } from "../lib/release-state";
import { loadManifest, ManifestError } from "./manifest";
import { applyPortOverrides, readStackSettings, StackSettingsError } from "./stack-settings";

/** nginx's port inside its container; the manifest's ingress port is the host side. */
export const NGINX_LISTEN_PORT = 8080;
/** Build-context files above this size count by size and modification time in the image hash. */
export const BIG_FILE_BYTES = 1 << 20;
/** Routes the app serves on its admin listener only; nginx refuses them on the public port. */
export const ADMIN_ROUTES = ["/metrics", "/chaos"];
/**
 * OPA's limits, fixed: it serves the gates alone, so what it needs follows the shipped policies, not the
 * traffic (measured here at rest: ≈20 MB and 9 threads; its healthcheck's curl adds one process).
 */
export const OPA_LIMITS: ContainerLimits = { memoryMb: 128, pidsLimit: 64 };

export interface StackPlan {
  project: string;
  stack: string;
  mode: Mode;
  manifest: Manifest;
  names: ReturnType<typeof stackDockerNames>;
  /** The app image's repository and the version's tag; the content hash of service/'s build follows it. */
  appImage: string;
  publicUrl: string;
  paths: {
    projectDir: string;
    stateDir: string;
    historyFile: string;
    opaSocketDir: string;
    opaSocket: string;
    /** Host folder mounted into nginx: the config it runs, written only by a rollout step. */
    nginxConfigDir: string;
    /** Prometheus file_sd targets of the app's admin listeners, rewritten whenever they change. */
    scrapeTargetsFile: string;
    policiesDir: string;
    serviceDir: string;
    /** One build context per app image (<version>-<content hash>), kept while the release keeps the image. */
    appImagesDir: string;
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
  return {
    ...opts,
    names,
    appImage: `${names.appImage(manifest.service.image)}:${manifest.service.version}`,
    // Bound to every address (0.0.0.0), the ingress is reached from this host on loopback.
    publicUrl: `http://${manifest.ingress.bind === "0.0.0.0" ? "127.0.0.1" : manifest.ingress.bind}:${manifest.ingress.port}`,
    paths: {
      projectDir,
      stateDir,
      historyFile: historyPath(projectDir, stack),
      opaSocketDir: path.join(stateDir, "opa"),
      opaSocket: path.join(stateDir, "opa", "opa.sock"),
      nginxConfigDir: path.join(stateDir, "nginx"),
      scrapeTargetsFile: path.join(stateDir, "prometheus", "app-targets.json"),
      policiesDir: path.join(projectDir, "policies"),
      serviceDir: path.join(projectDir, "service"),
      appImagesDir: path.join(stateDir, "images"),
    },
  };
}

/** The labels of the stack's containers, for Docker's filters (`docker ps --filter label=…`). */
export function stackLabels(plan: Pick<StackPlan, "project" | "stack">): Record<string, string> {
  return { [LABEL.project]: plan.project, [LABEL.stack]: plan.stack };
}

/** The labels of the stack's containers of one role (each app container also carries its generation and replica). */
export function roleLabels(
  plan: Pick<StackPlan, "project" | "stack">,
  role: "app" | "nginx" | "opa",
): Record<string, string> {
  return { ...stackLabels(plan), [LABEL.role]: role };
}

/** The labels of the app's containers. */
export function appLabels(plan: Pick<StackPlan, "project" | "stack">): Record<string, string> {
  return roleLabels(plan, "app");
}

/** The labels of one set's app containers: its set and version besides the stack's and the role's. */
export function setLabels(
  plan: Pick<StackPlan, "project" | "stack">,
  set: AppSet,
  version: string,
): Record<string, string> {
  return { ...appLabels(plan), [LABEL.set]: set, [LABEL.version]: version };
}

/** The app containers' limits, from the manifest. */
export function appLimits(plan: Pick<StackPlan, "manifest">): ContainerLimits {
  return { memoryMb: plan.manifest.app.memory_mb, pidsLimit: plan.manifest.app.pids_limit };
}

/** The request header that pins a request to the canary (`always`) or to stable (`never`). */
export const CANARY_PIN_HEADER = "X-Canary";

/**
 * nginx.conf proxying to the sets in rotation (their containers by Docker name on its network), `weight`
 * percent of requests to the canary when two sets run (null with one).
 */
export function nginxConfig(
  plan: StackPlan,
  sets: { set: AppSet; servers: string[] }[],
  weight: number | null,
): RenderedNginxConfig {
  return renderNginxConfig({
    stack: plan.stack,
    listen_port: NGINX_LISTEN_PORT,
    sets,
    max_servers: Math.max(...sets.map((s) => s.servers.length)),
    canary_weight: sets.length > 1 && weight !== null ? weight : 0,
    pin_header: CANARY_PIN_HEADER,
    app_port: plan.manifest.app.port,
    proxy_read_timeout_s: PROXY_READ_TIMEOUT_S,
    admin_routes: ADMIN_ROUTES,
  });
}

/**
 * The plan of a stack from its config: settings validated, manifest loaded with the port overrides. Bad
 * input throws a StackSettingsError or a ManifestError (isInputError); anything else it throws is a bug.
 */
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

/**
 * Whether loadStackPlan failed on the user's input (stack config, manifest) rather than on a bug: its
 * message names every bad key and value, and a stack trace would only bury it.
 */
export function isInputError(err: unknown): err is StackSettingsError | ManifestError {
  return err instanceof StackSettingsError || err instanceof ManifestError;
}
