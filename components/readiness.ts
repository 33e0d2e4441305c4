// `pulumi up` waits for health: a dynamic resource that, whenever the containers behind it are (re)created,
// probes them from the host until each answers its health route (lib/readiness.ts, also its provider). Unchanged containers
// are not probed again, as Pulumi's own wait for a container happens only when it is created.
import * as pulumi from "@pulumi/pulumi";
import { HostedResource } from "../lib/providers";
import type { Probe } from "../lib/readiness";

export interface ReadinessArgs {
  probes: pulumi.Input<Probe[]>;
  /** The ids of the containers the probes reach: a new id (a new container) probes again. */
  containerIds: pulumi.Input<pulumi.Input<string>[]>;
  timeoutSeconds: number;
}

export class Readiness extends HostedResource {
  /** How long the containers took to answer, in ms, when they were last (re)created. */
  declare public readonly readyAfterMs: pulumi.Output<number>;

  constructor(name: string, args: ReadinessArgs, opts?: pulumi.CustomResourceOptions) {
    const provider = { file: "lib/readiness.ts", exportName: "readinessProvider" };
    super("Readiness", provider, name, { ...args, readyAfterMs: undefined }, opts);
  }
}
