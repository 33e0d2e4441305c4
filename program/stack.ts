// The stack's wiring: networks, OPA, infrastructure gate, canary gate, the app's images and sets, nginx, the
// rollout step, audit record. index.ts loads this module once the providers are registered (see there);
// plan.ts, release.ts, host-files.ts and component-args.ts beside it derive names, ports, the release,
// host files and arguments; components/ and gates/ declare the resources.
import * as pulumi from "@pulumi/pulumi";
import { RunError } from "@pulumi/pulumi/errors";
import { AuditRecord } from "../components/audit";
import { App } from "../components/app";
import { appImage } from "../components/app-image";
import { NetworkPair } from "../components/network";
import { IngressConfig } from "../components/ingress-config";
import { Nginx } from "../components/nginx";
import { OpaServer } from "../components/opa";
import { CanaryGate } from "../gates/canary";
import type { GateTarget } from "../gates/decide";
import { InfrastructureGate, previewInfrastructureVerdict } from "../gates/infrastructure";
import { appArgs, ingressConfigArgs, networkPairArgs, nginxArgs, opaServerArgs } from "./component-args";
import type { DynamicHost, PackageProvider } from "../components/providers";
import { releaseStateOf, type AppSet, type ReleaseState } from "../lib/release-state";
import type { AdminTarget } from "../lib/types";
import { prepareAppImageContexts, prepareHostFiles } from "./host-files";
import { setLabels, type StackPlan } from "./plan";
import { keptImages, planRelease, ReleaseError, type ReleasePlan } from "./release";
import { runningAdminUrls } from "./running";

/** Declares every resource of the stack; resolves to the outputs that come from resources. */
export async function declareStack(
  plan: StackPlan,
  {
    dynamicHost,
    docker,
    command,
  }: { dynamicHost: DynamicHost; docker: PackageProvider; command: PackageProvider },
) {
  const files = prepareHostFiles(plan);
  const { manifest, paths } = plan;
  // The providers index.ts registered first; components hand them to their children by package.
  const providers = { providers: [dynamicHost, docker, command] };
  const gateTarget: GateTarget = {
    opaSocket: paths.opaSocket,
    timeoutMs: manifest.gates.opa_timeout_ms,
    historyFile: paths.historyFile,
    stack: plan.stack,
  };
  const infrastructureGateArgs = { ...gateTarget, dockerRoot: files.dockerRoot };

  const networks = new NetworkPair("networks", networkPairArgs(plan), providers);

  const opa = new OpaServer("opa", opaServerArgs(plan, files, networks.internalNetwork.name), providers);

  if (pulumi.runtime.isDryRun()) {
    // When `docker info` fails, the gate's registration reports it; the preview only has nothing to show.
    void files.dockerRoot.then(
      (dockerRoot) => previewInfrastructureVerdict({ ...gateTarget, dockerRoot }),
      () => undefined,
    );
  }

  const infrastructureGate = new InfrastructureGate("infrastructure-gate", infrastructureGateArgs, {
    dependsOn: [opa],
    provider: dynamicHost,
  });

  // Which sets run depends on the stable version, so the release is planned before any set, image or the
  // canary gate is declared: from the stack's last outputs (its own StackReference) and service/'s build
  // (its hash names the image, known once esbuild has written the bundle; meanwhile the engine works on OPA
  // and the infrastructure gate).
  const [last, imageHash] = await Promise.all([lastOutputs(plan), files.appImageHash]);
  const previous = last.release;
  const release = planReleaseOrExplain(plan, previous, `${plan.appImage}-${imageHash.slice(0, 8)}`);
  const { sets: _sets, ...move } = release;

  const canaryGate = new CanaryGate(
    "canary-gate",
    {
      ...gateTarget,
      move,
      // The sets that serve now: the containers the gate lets through depend on it.
      observed: observedSets(plan, release, last.adminTargets),
      windowSeconds: manifest.gates.observation_window_s,
    },
    { dependsOn: [infrastructureGate], provider: dynamicHost },
  );

  // nginx does not wait for the app: it serves what it served until the rollout step below reloads it.
  const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), {
    dependsOn: [infrastructureGate],
    ...providers,
  });

  // One image per kept version, each built once from a context of its own, once the gate let the release
  // through (a refused one builds nothing; a promoted version's image exists already).
  const contexts = prepareAppImageContexts(plan, {
    kept: keptImages(release.to),
    built: release.to.built!,
    // The last update's images may still be in the stack (this update may fail): their contexts stay too.
    previous: keptImages(release.from),
  });
  const images = new Map(
    [...contexts].map(([tag, context]) => [
      tag,
      appImage(tag, context, { dependsOn: [infrastructureGate, canaryGate], provider: docker }),
    ]),
  );

  // The sets the release runs (stable first); each waits for the gate, so a refusal touches none.
  const apps = release.sets.map(
    (set) =>
      new App(
        `app-${set.set}`,
        appArgs(plan, networks.publicNetwork.name, set, images.get(set.image)!.imageId),
        {
          dependsOn: [infrastructureGate, canaryGate],
          ...providers,
        },
      ),
  );

  // Rotation: once the new containers answer, nginx is reloaded to proxy to them alone (split between the
  // sets by the canary's weight); containers that left the program are removed by the engine after this
  // step, each drained first.
  const ingressConfig = new IngressConfig(
    "ingress-config",
    ingressConfigArgs(plan, nginx.container, apps, release.weight),
    {
      dependsOn: [infrastructureGate, ...apps.map((a) => a.ready), nginx.ready],
      provider: dynamicHost,
    },
  );

  new AuditRecord(
    "audit",
    {
      historyFile: paths.historyFile,
      stack: plan.stack,
      projectDir: paths.projectDir,
      deployed: {
        mode: canaryGate.mode,
        // The version that takes most requests (stable's, or the only set's), and the canary's beside it.
        version: release.sets[0].version,
        ...(release.sets.length > 1 ? { canary_version: release.sets[1].version } : {}),
        app: pulumi.all(apps.flatMap((a) => a.containers.map((c) => c.id))).apply((ids) => ids.join(",")),
        nginx: nginx.container.id,
      },
    },
    { dependsOn: [...apps, nginx, ingressConfig], ...providers },
  );

  return {
    mode: canaryGate.mode,
    release: canaryGate.state,
    canaryVerdict: canaryGate.verdict,
    weight: release.weight,
    adminUrls: ingressConfig.adminUrls,
    adminTargets: ingressConfig.adminTargets,
    infrastructureVerdict: infrastructureGate.verdict,
  };
}

/**
 * The release state the stack's last update exported (output `release`), read through a reference to the
 * stack itself; the empty state on a first deploy and after `pulumi destroy`.
 */
async function lastOutputs(plan: StackPlan): Promise<{ release: ReleaseState; adminTargets: unknown }> {
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${plan.project}/${plan.stack}`);
  const [release, adminTargets] = await Promise.all([
    self.getOutputValue("release"),
    self.getOutputValue("adminTargets"),
  ]);
  return { release: releaseStateOf(release), adminTargets };
}

/**
 * The generations of one set that the last update left in nginx's rotation (its `adminTargets` output);
 * undefined when that output names none (a stack deployed before it existed): then every one counts.
 */
function generationsInRotation(adminTargets: unknown, set: AppSet): ReadonlySet<string> | undefined {
  if (!Array.isArray(adminTargets)) return undefined;
  const generations = (adminTargets as Partial<AdminTarget>[])
    .filter((t) => t.labels?.set === set && typeof t.labels.generation === "string")
    .map((t) => t.labels!.generation);
  return generations.length > 0 ? new Set(generations) : undefined;
}

/** planRelease, its refusals of the user's input shown as Pulumi shows a RunError: the message alone. */
function planReleaseOrExplain(plan: StackPlan, previous: ReleaseState, builtImage: string): ReleasePlan {
  try {
    return planRelease({
      previous,
      mode: plan.mode,
      version: plan.manifest.service.version,
      builtImage,
      appReplicas: plan.manifest.app.replicas,
      canaryReplicas: plan.manifest.canary.replicas,
      weight: plan.manifest.canary.weight,
      retainedVersions: plan.manifest.app.retained_versions,
    });
  } catch (err) {
    throw err instanceof ReleaseError ? new RunError(err.message) : err;
  }
}

/** The running sets' admin listeners, for a promotion's judgement: by label, of the generations in rotation. */
async function observedSets(plan: StackPlan, release: ReleasePlan, adminTargets: unknown) {
  const { stable, canary } = release.from;
  const judged = release.judgement === "canary";
  const running = (set: AppSet, version: string) =>
    runningAdminUrls(setLabels(plan, set, version), generationsInRotation(adminTargets, set));
  const [stableUrls, canaryUrls] = await Promise.all([
    judged && stable !== null ? running("stable", stable.version) : [],
    judged && canary !== null ? running("canary", canary.version) : [],
  ]);
  return { stable: stableUrls, canary: canaryUrls };
}
