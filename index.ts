// SwiftDeploy: manifest.yaml -> networks, OPA, infrastructure gate, canary gate, app, nginx.
// Wiring only: lib/ derives names, ports and host files; components/ and gates/ declare the resources.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { AuditRecord } from "./components/audit";
import { App } from "./components/app";
import { NetworkPair } from "./components/network";
import { Nginx } from "./components/nginx";
import { OpaServer } from "./components/opa";
import { CanaryGate } from "./gates/canary";
import { InfrastructureGate, previewInfrastructureVerdict } from "./gates/infrastructure";
import { loadManifest } from "./lib/manifest";
import { NGINX_LISTEN_PORT, APP_NETWORK_ALIAS, planStack, prepareHostFiles } from "./lib/stack-plan";
import { applyPortOverrides, readStackSettings } from "./lib/stack-settings";

const config = new pulumi.Config("swiftdeploy");
const settings = readStackSettings((key) => config.get(key));
const projectDir = __dirname;
const manifest = applyPortOverrides(
  loadManifest(path.resolve(projectDir, config.get("manifest") ?? "manifest.yaml")),
  settings,
);
const plan = planStack({
  project: pulumi.getProject(),
  stack: pulumi.getStack(),
  mode: settings.mode,
  manifest,
  projectDir,
});
const files = prepareHostFiles(plan);
const { names, paths } = plan;
const opaTarget = { opaSocket: paths.opaSocket, timeoutMs: manifest.gates.opa_timeout_ms };

const networks = new NetworkPair("networks", {
  publicName: names.publicNetwork,
  internalName: names.internalNetwork,
});

const opa = new OpaServer("opa", {
  containerName: names.opaContainer,
  imageName: names.opaImage,
  buildContext: files.opaContext.dir,
  imageHash: files.opaContext.hash,
  internalNetwork: networks.internalNetwork.name,
  policiesDir: paths.policiesDir,
  policyFiles: files.policyFiles,
  policiesHash: files.policiesHash,
  socketDir: paths.opaSocketDir,
  opaBinary: files.opaBinary,
  user: files.user,
});

if (pulumi.runtime.isDryRun()) {
  void previewInfrastructureVerdict({
    ...opaTarget,
    historyFile: paths.historyFile,
    stack: plan.stack,
    dockerRoot: files.dockerRoot,
  });
}

const infrastructureGate = new InfrastructureGate(
  "infrastructure-gate",
  { ...opaTarget, historyFile: paths.historyFile, stack: plan.stack, dockerRoot: files.dockerRoot },
  { dependsOn: [opa] },
);

const canaryGate = new CanaryGate(
  "canary-gate",
  {
    ...opaTarget,
    mode: plan.mode,
    adminUrls: plan.adminUrls,
    windowSeconds: manifest.gates.observation_window_s,
    historyFile: paths.historyFile,
    stack: plan.stack,
  },
  { dependsOn: [infrastructureGate] },
);

const app = new App(
  "app",
  {
    containerName: names.appContainer,
    imageName: plan.appImage,
    buildContext: paths.serviceDir,
    imageHash: files.appImageHash,
    replicas: manifest.app.replicas,
    publicNetwork: networks.publicNetwork.name,
    networkAlias: APP_NETWORK_ALIAS,
    port: manifest.app.port,
    adminPort: manifest.app.admin_port,
    adminHostPorts: plan.adminHostPorts,
    mode: canaryGate.mode,
    serviceName: manifest.service.name,
    version: manifest.service.version,
    chaosEnabled: manifest.app.chaos_enabled,
  },
  { dependsOn: [infrastructureGate, canaryGate] },
);

const nginx = new Nginx(
  "nginx",
  {
    containerName: names.nginxContainer,
    imageName: names.nginxImage,
    buildContext: files.nginxContext.dir,
    imageHash: files.nginxContext.hash,
    config: files.nginxConfig,
    configFile: paths.nginxConfigFile,
    publicNetwork: networks.publicNetwork.name,
    bind: manifest.ingress.bind,
    port: manifest.ingress.port,
    listenPort: NGINX_LISTEN_PORT,
  },
  // Not on the app: nginx finds the app by name at request time, so both start side by side.
  { dependsOn: [infrastructureGate] },
);

new AuditRecord(
  "audit",
  {
    historyFile: paths.historyFile,
    stack: plan.stack,
    projectDir,
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
