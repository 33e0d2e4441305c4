// The plain baseline of `npm run bench`: index.ts without the gates and the audit record. The same components
// declare the same networks, OPA, app and nginx from the same manifest with the same arguments
// (program/component-args.ts), so the difference a benchmark shows is what SwiftDeploy's gates and audit cost.
// The app and nginx still wait for OPA, as they do behind the gates in index.ts, so the creation order (and
// so the cold-deploy critical path) stays the same.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { App } from "../../components/app";
import { NetworkPair } from "../../components/network";
import { Nginx } from "../../components/nginx";
import { OpaServer } from "../../components/opa";
import { appArgs, networkPairArgs, nginxArgs, opaServerArgs } from "../../program/component-args";
import { prepareHostFiles } from "../../program/host-files";
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
new App("app", appArgs(plan, files, networks.publicNetwork.name, plan.mode), {
  dependsOn: [opa],
});
const nginx = new Nginx("nginx", nginxArgs(plan, files, networks.publicNetwork.name), { dependsOn: [opa] });

export const publicUrl = plan.publicUrl;
export const adminUrls = plan.adminUrls;
export const nginxContainer = nginx.container.name;
