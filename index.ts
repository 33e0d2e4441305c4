// SwiftDeploy: manifest.yaml -> networks, OPA, infrastructure gate, canary gate, app, nginx.
// Wiring only: lib/ derives names, ports, host files and component arguments; components/ and gates/
// declare the resources.
import * as pulumi from "@pulumi/pulumi";
import { AuditRecord } from "./components/audit";
import { App } from "./components/app";
import { NetworkPair } from "./components/network";
import { Nginx } from "./components/nginx";
import { OpaServer } from "./components/opa";
import { CanaryGate } from "./gates/canary";
import { InfrastructureGate, previewInfrastructureVerdict } from "./gates/infrastructure";
import { appArgs, loadStackPlan, networkPairArgs, nginxArgs, opaServerArgs } from "./lib/component-args";
import { afterRegistrationsSent, DynamicHost } from "./lib/dynamic-host";
import { prepareHostFiles, type StackPlan } from "./lib/stack-plan";

const config = new pulumi.Config("swiftdeploy");
// An invalid config or manifest throws here, before anything is registered.
const plan = loadStackPlan({
  project: pulumi.getProject(),
  stack: pulumi.getStack(),
  projectDir: __dirname,
  config: (key) => config.get(key),
});

// The gates and readiness probes run in this provider's process. Registered first, and the rest of the
// stack declared once that registration is on its way, so the engine starts the process (~0.5 s) while
// this program prepares the host files.
const dynamicHost = new DynamicHost("dynamic-host");
const stack = afterRegistrationsSent().then(() => declareStack(plan, dynamicHost));

function declareStack(plan: StackPlan, dynamicHost: DynamicHost) {
  const files = prepareHostFiles(plan);
  const { manifest, paths } = plan;
  const onHost = { providers: [dynamicHost] };
  const gateTarget = {
    opaSocket: paths.opaSocket,
    timeoutMs: manifest.gates.opa_timeout_ms,
    historyFile: paths.historyFile,
    stack: plan.stack,
  };
  const infrastructureGateArgs = { ...gateTarget, dockerRoot: files.dockerRoot };

  const networks = new NetworkPair("networks", networkPairArgs(plan));

  const opa = new OpaServer("opa", opaServerArgs(plan, files, networks.internalNetwork.name), onHost);

  if (pulumi.runtime.isDryRun()) void previewInfrastructureVerdict(infrastructureGateArgs);

  const infrastructureGate = new InfrastructureGate("infrastructure-gate", infrastructureGateArgs, {
    dependsOn: [opa],
    provider: dynamicHost,
  });

  const canaryGate = new CanaryGate(
    "canary-gate",
    {
      ...gateTarget,
      mode: plan.mode,
      adminUrls: plan.adminUrls,
      windowSeconds: manifest.gates.observation_window_s,
    },
    { dependsOn: [infrastructureGate], provider: dynamicHost },
  );

  // The app runs the mode the canary gate lets through, never the config's directly.
  const app = new App("app", appArgs(plan, files, networks.publicNetwork.name, canaryGate.mode), {
    dependsOn: [infrastructureGate, canaryGate],
    ...onHost,
  });

  // Not after the app: nginx finds the app by name at request time, so both start side by side.
  const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), {
    dependsOn: [infrastructureGate],
    ...onHost,
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
    { dependsOn: [app, nginx] },
  );

  return { mode: canaryGate.mode, infrastructureVerdict: infrastructureGate.verdict };
}

export const publicUrl = plan.publicUrl;
export const adminUrls = plan.adminUrls;
export const opaSocket = plan.paths.opaSocket;
export const mode = pulumi.output(stack.then((s) => s.mode));
export const historyFile = plan.paths.historyFile;
export const infrastructureVerdict = pulumi.output(stack.then((s) => s.infrastructureVerdict));
