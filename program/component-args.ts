// The arguments of the stack's components, derived from the plan and the host files. index.ts and the
// bench's gate-less baseline (bench/plain) both declare the components from these, so the baseline
// cannot drift from what the stack really deploys.
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { AppArgs } from "../components/app";
import type { NetworkPairArgs } from "../components/network";
import type { NginxArgs } from "../components/nginx";
import type { OpaServerArgs } from "../components/opa";
import { loadManifest } from "./manifest";
import {
  APP_NETWORK_ALIAS,
  NGINX_LISTEN_PORT,
  planStack,
  type HostFiles,
  type StackPlan,
} from "./plan";
import { applyPortOverrides, readStackSettings } from "./stack-settings";

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

export function networkPairArgs(plan: StackPlan): NetworkPairArgs {
  return { publicName: plan.names.publicNetwork, internalName: plan.names.internalNetwork };
}

export function opaServerArgs(
  plan: StackPlan,
  files: HostFiles,
  internalNetwork: pulumi.Input<string>,
): OpaServerArgs {
  return {
    containerName: plan.names.opaContainer,
    imageName: plan.names.opaImage,
    buildContext: files.opaContext.dir,
    imageHash: files.opaContext.hash,
    internalNetwork,
    policiesDir: plan.paths.policiesDir,
    policyFiles: files.policyFiles,
    policiesHash: files.policiesHash,
    socketDir: plan.paths.opaSocketDir,
    opaBinary: files.opaBinary,
    user: files.user,
  };
}

/** `mode` is the mode the app may run: index.ts passes the canary gate's output. */
export function appArgs(
  plan: StackPlan,
  files: HostFiles,
  publicNetwork: pulumi.Input<string>,
  mode: pulumi.Input<string>,
): AppArgs {
  const { manifest } = plan;
  return {
    containerName: plan.names.appContainer,
    imageName: plan.appImage,
    buildContext: plan.paths.serviceDir,
    imageHash: files.appImageHash,
    replicas: manifest.app.replicas,
    publicNetwork,
    networkAlias: APP_NETWORK_ALIAS,
    port: manifest.app.port,
    adminPort: manifest.app.admin_port,
    adminHostPorts: plan.adminHostPorts,
    mode,
    serviceName: manifest.service.name,
    version: manifest.service.version,
    chaosEnabled: manifest.app.chaos_enabled,
  };
}

export function nginxArgs(plan: StackPlan, files: HostFiles, publicNetwork: pulumi.Input<string>): NginxArgs {
  return {
    containerName: plan.names.nginxContainer,
    imageName: plan.names.nginxImage,
    buildContext: files.nginxContext.dir,
    imageHash: files.nginxContext.hash,
    config: files.nginxConfig,
    configFile: plan.paths.nginxConfigFile,
    publicNetwork,
    bind: plan.manifest.ingress.bind,
    port: plan.manifest.ingress.port,
    listenPort: NGINX_LISTEN_PORT,
    publicUrl: plan.publicUrl,
  };
}
