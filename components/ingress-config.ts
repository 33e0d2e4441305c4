// The rollout's rotation step: a dynamic resource that applies a new nginx config to the running nginx by a
// graceful reload, once the gates have passed and the containers the config names are ready (its inputs
// come from them). The provider (ingress-config-provider.ts) tests the config with `nginx -t` first and
// confirms the reload before the step ends; the engine removes containers that left the program only after
// it, so a container leaves the rotation before it is stopped.
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { PROXY_READ_TIMEOUT_S } from "../lib/drain";
import type { AdminTarget, IngressConfigInputs } from "./ingress-config-provider";
import { HostedResource, providerSource } from "./providers";

/** The provider module beside this resource, bundled for the dynamic-provider host. */
export const INGRESS_CONFIG_PROVIDER = providerSource<typeof import("./ingress-config-provider")>(
  path.join(__dirname, "ingress-config-provider.ts"),
  "ingressConfigProvider",
);

/** How long a reload may take to show on /nginx-health before `pulumi up` fails. */
export const RELOAD_TIMEOUT_SECONDS = 10;

/** The provider's inputs (documented there), with the running nginx in place of its name and id. */
export type IngressConfigArgs = Omit<
  IngressConfigInputs,
  "container" | "containerId" | "timeoutSeconds" | "drainSeconds"
> & {
  /** The running nginx. */
  nginx: docker.Container;
};

export class IngressConfig extends HostedResource {
  /** How long the reload took to show on /nginx-health, in ms. */
  declare public readonly reloadMs: pulumi.Output<number>;
  /** The admin listeners in rotation on the host, as Docker published them when the step last ran. */
  declare public readonly adminUrls: pulumi.Output<string[]>;
  /** The same with each listener's labels (set, version, replica). */
  declare public readonly adminTargets: pulumi.Output<AdminTarget[]>;

  constructor(name: string, args: IngressConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const { nginx, ...rest } = args;
    const inputs: { [K in keyof IngressConfigInputs]: pulumi.Input<IngressConfigInputs[K]> } = {
      ...rest,
      container: nginx.name,
      containerId: nginx.id,
      timeoutSeconds: RELOAD_TIMEOUT_SECONDS,
      drainSeconds: PROXY_READ_TIMEOUT_S,
    };
    super(
      "IngressConfig",
      INGRESS_CONFIG_PROVIDER,
      name,
      { ...inputs, reloadMs: undefined, adminUrls: undefined, adminTargets: undefined, addresses: undefined },
      opts,
    );
  }
}
