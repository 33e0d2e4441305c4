// The stack's wiring: networks, OPA, infrastructure gate, canary gate, app, nginx, audit record. index.ts
// loads this module once the providers are registered (see there); plan.ts, host-files.ts and
// component-args.ts beside it derive names, ports, host files and arguments; components/ and gates/
// declare the resources.
import * as pulumi from "@pulumi/pulumi";
import { AuditRecord } from "../components/audit";
import { App } from "../components/app";
import { NetworkPair } from "../components/network";
import { IngressConfig } from "../components/ingress-config";
import { Nginx } from "../components/nginx";
import { OpaServer } from "../components/opa";
import { CanaryGate } from "../gates/canary";
import type { GateTarget } from "../gates/decide";
import { InfrastructureGate, previewInfrastructureVerdict } from "../gates/infrastructure";
import { appArgs, ingressConfigArgs, networkPairArgs, nginxArgs, opaServerArgs } from "./component-args";
import type { DynamicHost, PackageProvider } from "../components/providers";
import { prepareHostFiles } from "./host-files";
import { appLabels, type StackPlan } from "./plan";
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

  const canaryGate = new CanaryGate(
    "canary-gate",
    {
      ...gateTarget,
      mode: plan.mode,
      // The replicas that serve now: the containers the gate lets through depend on it.
      adminUrls: runningAdminUrls(appLabels(plan)),
      windowSeconds: manifest.gates.observation_window_s,
    },
    { dependsOn: [infrastructureGate], provider: dynamicHost },
  );

  // nginx does not wait for the app: it serves what it served until the rollout step below reloads it.
  const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), {
    dependsOn: [infrastructureGate],
    ...providers,
  });

  // The app's containers are named by their generation, which hashes the image's content: known once
  // esbuild has written the bundle (meanwhile the engine works on OPA and the gates).
  const imageHash = await files.appImageHash;
  // The app runs the mode the canary gate lets through, never the config's directly.
  const app = new App("app", appArgs(plan, networks.publicNetwork.name, canaryGate.mode, imageHash), {
    dependsOn: [infrastructureGate, canaryGate],
    ...providers,
  });

  // Rotation: once the new containers answer, nginx is reloaded to proxy to them alone; containers that
  // left the program are removed by the engine after this step, each drained first.
  const ingressConfig = new IngressConfig("ingress-config", ingressConfigArgs(plan, nginx.container, app), {
    dependsOn: [infrastructureGate, app.ready, nginx.ready],
    provider: dynamicHost,
  });

  new AuditRecord(
    "audit",
    {
      historyFile: paths.historyFile,
      stack: plan.stack,
      projectDir: paths.projectDir,
      deployed: {
        mode: canaryGate.mode,
        version: manifest.service.version,
        app: pulumi.all(app.containers.map((c) => c.id)).apply((ids) => ids.join(",")),
        nginx: nginx.container.id,
      },
    },
    { dependsOn: [app, nginx, ingressConfig], ...providers },
  );

  return {
    mode: canaryGate.mode,
    adminUrls: ingressConfig.adminUrls,
    infrastructureVerdict: infrastructureGate.verdict,
  };
}
