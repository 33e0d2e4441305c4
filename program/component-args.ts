// The arguments of the stack's components, derived from the plan and the host files. index.ts and the
// bench's gate-less baseline (bench/plain) both declare the components from these, so the baseline
// cannot drift from what the stack really deploys.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { App, AppArgs } from "../components/app";
import type { IngressConfigArgs } from "../components/ingress-config";
import type { NetworkPairArgs } from "../components/network";
import { NGINX_HEALTH_PATH, type NginxArgs } from "../components/nginx";
import type { OpaServerArgs } from "../components/opa";
import type { SetPlan } from "./release";
import type { HostFiles } from "./host-files";
import {
  appLimits,
  NGINX_LISTEN_PORT,
  nginxConfig,
  OPA_LIMITS,
  roleLabels,
  setLabels,
  type StackPlan,
} from "./plan";

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
    labels: roleLabels(plan, "opa"),
    ...OPA_LIMITS,
  };
}

/** One set of the app (program/release.ts), running the image resource `imageId`. */
export function appArgs(
  plan: StackPlan,
  publicNetwork: pulumi.Input<string>,
  set: SetPlan,
  imageId: pulumi.Input<string>,
): AppArgs {
  const { manifest } = plan;
  return {
    containerName: plan.names.appContainer,
    labels: setLabels(plan, set.set, set.version),
    set: set.set,
    image: set.image,
    imageId,
    replicas: set.replicas,
    publicNetwork,
    publicNetworkName: plan.names.publicNetwork,
    port: manifest.app.port,
    adminPort: manifest.app.admin_port,
    serviceName: manifest.service.name,
    version: set.version,
    chaosEnabled: manifest.app.chaos_enabled,
    ...appLimits(plan),
  };
}

export function nginxArgs(plan: StackPlan, files: HostFiles, publicNetwork: pulumi.Input<string>): NginxArgs {
  return {
    containerName: plan.names.nginxContainer,
    imageName: plan.names.nginxImage,
    buildContext: files.nginxContext.dir,
    imageHash: files.nginxContext.hash,
    configDir: plan.paths.nginxConfigDir,
    publicNetwork,
    bind: plan.manifest.ingress.bind,
    port: plan.manifest.ingress.port,
    listenPort: NGINX_LISTEN_PORT,
    publicUrl: plan.publicUrl,
    labels: roleLabels(plan, "nginx"),
    memoryMb: plan.manifest.ingress.memory_mb,
    pidsLimit: plan.manifest.ingress.pids_limit,
  };
}

/**
 * The rollout step's arguments: the config naming the sets' containers (stable first), `weight` percent of
 * requests to the canary when two run, applied to the running nginx.
 */
export function ingressConfigArgs(
  plan: StackPlan,
  nginx: docker.Container,
  apps: Pick<App, "set" | "containerNames" | "adminListeners">[],
  weight: number | null,
): IngressConfigArgs {
  const config = nginxConfig(
    plan,
    apps.map((a) => ({ set: a.set, servers: a.containerNames })),
    weight,
  );
  return {
    nginx,
    configDir: plan.paths.nginxConfigDir,
    config: config.text,
    configId: config.id,
    upstreams: apps.flatMap((a) => a.containerNames),
    healthUrl: `${plan.publicUrl}${NGINX_HEALTH_PATH}`,
    targetsFile: plan.paths.scrapeTargetsFile,
    admins: apps.flatMap((a) => a.adminListeners),
  };
}
