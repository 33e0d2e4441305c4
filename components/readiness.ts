// `pulumi up` waits for health: a dynamic resource that, whenever the containers behind it are (re)created,
// probes them from the host until each answers its health route (components/readiness-provider.ts, also its provider).
// Unchanged containers are not probed again, as Pulumi's own wait for a container happens only when it is
// created.
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { HostedResource, providerSource } from "./providers";
import type { Probe } from "./readiness-provider";

/** The provider module beside this resource, bundled for the dynamic-provider host. */
export const READINESS_PROVIDER = providerSource<typeof import("./readiness-provider")>(
  path.join(__dirname, "readiness-provider.ts"),
  "readinessProvider",
);

/** How long the probes may take before `pulumi up` fails. */
export const READY_TIMEOUT_SECONDS = 60;

export interface ReadinessArgs {
  probes: pulumi.Input<Probe[]>;
  /** The containers the probes reach: a new one (a new id) is probed again. */
  containers: docker.Container[];
}

export class Readiness extends HostedResource {
  /** How long the containers took to answer, in ms, when they were last (re)created. */
  declare public readonly readyAfterMs: pulumi.Output<number>;

  constructor(name: string, args: ReadinessArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      probes: args.probes,
      containerIds: args.containers.map((c) => c.id),
      timeoutSeconds: READY_TIMEOUT_SECONDS,
      readyAfterMs: undefined,
    };
    super("Readiness", READINESS_PROVIDER, name, inputs, opts);
  }
}
