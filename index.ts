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
import { prepareHostFiles } from "./lib/stack-plan";

const config = new pulumi.Config("swiftdeploy");
const plan = loadStackPlan({
  project: pulumi.getProject(),
  stack: pulumi.getStack(),
  projectDir: __dirname,
  config: (key) => config.get(key),
});
const files = prepareHostFiles(plan);
const { manifest, paths } = plan;
const gateTarget = {
  opaSocket: paths.opaSocket,
  timeoutMs: manifest.gates.opa_timeout_ms,
  historyFile: paths.historyFile,
  stack: plan.stack,
};
const infrastructureGateArgs = { ...gateTarget, dockerRoot: files.dockerRoot };

const networks = new NetworkPair("networks", networkPairArgs(plan));

const opa = new OpaServer("opa", opaServerArgs(plan, files, networks.internalNetwork.name));

if (pulumi.runtime.isDryRun()) void previewInfrastructureVerdict(infrastructureGateArgs);

const infrastructureGate = new InfrastructureGate("infrastructure-gate", infrastructureGateArgs, {
  dependsOn: [opa],
});

const canaryGate = new CanaryGate(
  "canary-gate",
  {
    ...gateTarget,
    mode: plan.mode,
    adminUrls: plan.adminUrls,
    windowSeconds: manifest.gates.observation_window_s,
  },
  { dependsOn: [infrastructureGate] },
);

// The app runs the mode the canary gate lets through, never the config's directly.
const app = new App("app", appArgs(plan, files, networks.publicNetwork.name, canaryGate.mode), {
  dependsOn: [infrastructureGate, canaryGate],
});

// Not after the app: nginx finds the app by name at request time, so both start side by side.
const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), {
  dependsOn: [infrastructureGate],
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

export const publicUrl = plan.publicUrl;
export const adminUrls = plan.adminUrls;
export const opaSocket = opa.socketPath;
export const mode = canaryGate.mode;
export const historyFile = paths.historyFile;
export const infrastructureVerdict = infrastructureGate.verdict;
