// The Docker Compose baseline of the deploy bench: a compose file rendered from the same stack plan (with
// bench/docker-compose.yml.liquid, beside this file), and a Compose project that brings it up and down.
import * as fs from "node:fs";
import * as path from "node:path";
import { Liquid } from "liquidjs";
import { appHealthProbe } from "../components/app";
import { nginxHealthProbe } from "../components/nginx";
import { opaContainerCommand, opaHealthProbe } from "../components/opa";
import { listFiles } from "../program/build-context";
import { HEALTHCHECK } from "../components/supervised";
import { appEnvironment } from "../lib/app-environment";
import { CONFIG_DIR_IN_CONTAINER, CONFIG_FILE } from "../components/ingress-config-provider";
import { adminPorts } from "../program/manifest";
import { nginxConfig, NGINX_LISTEN_PORT, type StackPlan } from "../program/plan";
import { runTimed, type TimedRun } from "./process";

export interface ComposeImages {
  opa: string;
  app: string;
  nginx: string;
}

const SOCKET_DIR_IN_CONTAINER = "/run/opa";
/** Compose's way: every replica also answers to one alias, and is published on fixed admin ports. */
const APP_NETWORK_ALIAS = "app";

/**
 * The compose file for a stack plan, rendered with liquidjs from bench/docker-compose.yml.liquid. It
 * mirrors what components/ declare: OPA's command, the healthchecks and their timings come from there, the
 * app's environment from lib/app-environment.ts as the component builds it.
 */
export function renderComposeFile(plan: StackPlan, images: ComposeImages, user: string): string {
  const { manifest, names, paths } = plan;
  const socket = `${SOCKET_DIR_IN_CONTAINER}/opa.sock`;
  const policyFiles = listFiles(paths.policiesDir)
    .filter((f) => !f.endsWith("_test.rego"))
    .sort()
    .map((host) => ({ host, name: path.basename(host) }));
  const vars = {
    project: `${names.opaContainer.replace(/-opa$/, "")}`,
    health: {
      interval: HEALTHCHECK.interval,
      timeout: HEALTHCHECK.timeout,
      start_period: HEALTHCHECK.startPeriod,
      retries: HEALTHCHECK.retries,
    },
    networks: { public: names.publicNetwork, internal: names.internalNetwork },
    opa: {
      container: names.opaContainer,
      image: images.opa,
      user,
      command: opaContainerCommand(socket),
      socket_dir: paths.opaSocketDir,
      socket_dir_in_container: SOCKET_DIR_IN_CONTAINER,
      policy_files: policyFiles,
      healthcheck: ["CMD", ...opaHealthProbe(socket)],
    },
    app: {
      image: images.app,
      environment: appEnvironment({
        serviceName: manifest.service.name,
        version: manifest.service.version,
        mode: plan.mode,
        appPort: manifest.app.port,
        adminPort: manifest.app.admin_port,
        chaosEnabled: manifest.app.chaos_enabled,
      }),
      alias: APP_NETWORK_ALIAS,
      admin_port: manifest.app.admin_port,
      healthcheck: ["CMD", ...appHealthProbe(manifest.app.port)],
      replicas: adminPorts(manifest).map((port, index) => ({
        index,
        container: names.appContainer("compose", index),
        admin_host_port: port,
      })),
    },
    nginx: {
      container: names.nginxContainer,
      image: images.nginx,
      bind: manifest.ingress.bind,
      port: manifest.ingress.port,
      listen_port: NGINX_LISTEN_PORT,
      config_dir: paths.nginxConfigDir,
      config_dir_in_container: CONFIG_DIR_IN_CONTAINER,
      healthcheck: ["CMD", ...nginxHealthProbe(NGINX_LISTEN_PORT)],
    },
  };
  const engine = new Liquid({
    root: __dirname,
    strictVariables: true,
    strictFilters: true,
  });
  return engine.renderFileSync("docker-compose.yml.liquid", vars);
}

/**
 * nginx's config as a Compose user writes it: the stack's own template, but proxying to the alias every
 * replica answers to, looked up by Docker's DNS per request (so a recreated container is found again).
 */
function composeNginxConfig(plan: StackPlan): string {
  const { text } = nginxConfig(plan, [{ set: plan.mode, servers: [APP_NETWORK_ALIAS] }], null);
  const withResolver = text.replace(
    /  upstream app_\w+ \{[^}]*\}\n/,
    "  resolver 127.0.0.11 valid=1s ipv6=off;\n",
  );
  const port = plan.manifest.app.port;
  const replicas = plan.manifest.app.replicas;
  return withResolver
    .replace(
      "proxy_pass http://app_$swiftdeploy_set;",
      `set $app_upstream http://${APP_NETWORK_ALIAS}:${port};\n      proxy_pass $app_upstream;`,
    )
    .replace(/proxy_next_upstream_tries \d+;/, `proxy_next_upstream_tries ${replicas + 1};`);
}

/** A Compose project whose files live in the plan's state folder. */
export class ComposeProject {
  readonly file: string;

  constructor(
    public plan: StackPlan,
    private readonly images: ComposeImages,
    private readonly user: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.file = path.join(plan.paths.stateDir, "docker-compose.yml");
    this.write(plan);
  }

  /** Writes the compose file and nginx's config for `plan`, as a user edits them before `up -d`. */
  write(plan: StackPlan): void {
    this.plan = plan;
    fs.mkdirSync(plan.paths.opaSocketDir, { recursive: true });
    fs.mkdirSync(plan.paths.nginxConfigDir, { recursive: true });
    fs.writeFileSync(path.join(plan.paths.nginxConfigDir, CONFIG_FILE), composeNginxConfig(plan));
    fs.writeFileSync(this.file, renderComposeFile(plan, this.images, this.user));
  }

  compose(args: string[]): Promise<TimedRun> {
    return runTimed("docker", ["compose", "-f", this.file, ...args], { env: this.env, timeoutMs: 120_000 });
  }

  up(wait: boolean): Promise<TimedRun> {
    return this.compose(["up", "-d", ...(wait ? ["--wait"] : [])]);
  }

  /** `up -d` after an edit, removing the services the file no longer has (replicas scaled away). */
  apply(): Promise<TimedRun> {
    return this.compose(["up", "-d", "--remove-orphans"]);
  }

  down(): Promise<TimedRun> {
    return this.compose(["down", "--remove-orphans", "--timeout", "10"]);
  }
}
