// The plain baseline of `npm run bench`: index.ts without the gates and the audit record. The same components
// declare the same networks, OPA, app and nginx from the same manifest with the same arguments
// (program/component-args.ts), and the same rollout step applies nginx's config, so the difference a
// benchmark shows is what SwiftDeploy's gates and audit cost.
// The app and nginx still wait for OPA, as they do behind the gates in index.ts, so the creation order (and
// so the cold-deploy critical path) stays the same.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { App } from "../../components/app";
import { appImage } from "../../components/app-image";
import { NetworkPair } from "../../components/network";
import { IngressConfig } from "../../components/ingress-config";
import { Nginx } from "../../components/nginx";
import { OpaServer } from "../../components/opa";
import {
  appArgs,
  ingressConfigArgs,
  networkPairArgs,
  nginxArgs,
  opaServerArgs,
} from "../../program/component-args";
import { prepareAppImageContexts, prepareHostFiles } from "../../program/host-files";
import { loadStackPlan } from "../../program/plan";

const config = new pulumi.Config("swiftdeploy");
const plan = loadStackPlan({
  project: pulumi.getProject(),
  stack: pulumi.getStack(),
  projectDir: path.resolve(__dirname, "..", ".."),
  config: (key) => config.get(key),
});
const files = prepareHostFiles(plan);

const networks = new NetworkPair("networks", networkPairArgs(plan));
const opa = new OpaServer("opa", opaServerArgs(plan, files, networks.internalNetwork.name));
const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), { dependsOn: [opa] });
// One set, in the config's mode, running service/'s build: no release state, no judgement.
const app = files.appImageHash.then((imageHash) => {
  const tag = `${plan.appImage}-${imageHash.slice(0, 8)}`;
  const contexts = prepareAppImageContexts(plan, { kept: [tag], built: tag, previous: [] });
  const image = appImage(tag, contexts.get(tag)!, { dependsOn: [opa] });
  const set = {
    set: plan.mode,
    version: plan.manifest.service.version,
    image: tag,
    replicas: plan.manifest.app.replicas,
  };
  const app = new App(`app-${set.set}`, appArgs(plan, networks.publicNetwork.name, set, image.imageId), {
    dependsOn: [opa],
  });
  const ingressConfig = new IngressConfig(
    "ingress-config",
    ingressConfigArgs(plan, nginx.container, [app], null),
    { dependsOn: [app.ready, nginx.ready] },
  );
  return { app, ingressConfig };
});

export const publicUrl = plan.publicUrl;
export const adminUrls = pulumi.output(app.then(({ ingressConfig }) => ingressConfig.adminUrls));
export const nginxContainer = nginx.container.name;
