// The plain baseline of `npm run bench`: index.ts without the gates and the audit record. The same components
// declare the same networks, OPA, app and nginx from the same manifest, so the difference a benchmark shows is
// what SwiftDeploy's gates and audit cost. The app still waits for OPA, as it does behind the gates in
// index.ts, so the creation order (and so the cold-deploy critical path) stays the same.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { App } from "../../../components/app";
import { NetworkPair } from "../../../components/network";
import { Nginx } from "../../../components/nginx";
import { OpaServer } from "../../../components/opa";
import { loadManifest } from "../../../lib/manifest";
import { APP_NETWORK_ALIAS, NGINX_LISTEN_PORT, planStack, prepareHostFiles } from "../../../lib/stack-plan";
import { applyPortOverrides, readStackSettings } from "../../../lib/stack-settings";

const config = new pulumi.Config("swiftdeploy");
const settings = readStackSettings((key) => config.get(key));
const projectDir = path.resolve(__dirname, "..", "..", "..");
const manifest = applyPortOverrides(
  loadManifest(path.join(projectDir, config.get("manifest") ?? "manifest.yaml")),
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
    mode: plan.mode,
    serviceName: manifest.service.name,
    version: manifest.service.version,
    chaosEnabled: manifest.app.chaos_enabled,
  },
  { dependsOn: [opa] },
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
  { dependsOn: [app] },
);

export const publicUrl = plan.publicUrl;
export const adminUrls = plan.adminUrls;
export const nginxContainer = nginx.container.name;
