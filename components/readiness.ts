// `pulumi up` waits for health: a dynamic resource that, whenever the containers behind it are (re)created,
// probes them from the host until each answers its health route (lib/readiness.ts). Unchanged containers
// are not probed again, as Pulumi's own wait for a container happens only when it is created.
import * as pulumi from "@pulumi/pulumi";
import { waitUntilReady, type Probe } from "../lib/readiness";

export interface ReadinessArgs {
  probes: pulumi.Input<Probe[]>;
  /** The ids of the containers the probes reach: a new id (a new container) probes again. */
  containerIds: pulumi.Input<pulumi.Input<string>[]>;
  timeoutSeconds: number;
}

interface ReadinessInputs {
  probes: Probe[];
  containerIds: string[];
  timeoutSeconds: number;
}

async function ready(inputs: ReadinessInputs) {
  const readyAfterMs = await waitUntilReady(inputs.probes, {
    timeoutMs: inputs.timeoutSeconds * 1000,
    intervalMs: 100,
  });
  return { ...inputs, readyAfterMs };
}

export const readinessProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ReadinessInputs, news: ReadinessInputs) {
    const changed = (["probes", "containerIds", "timeoutSeconds"] as const).filter(
      (k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]),
    );
    return { changes: changed.length > 0 };
  },
  async create(inputs: ReadinessInputs) {
    return { id: "ready", outs: await ready(inputs) };
  },
  async update(_id: string, _olds: ReadinessInputs, news: ReadinessInputs) {
    return { outs: await ready(news) };
  },
};

export class Readiness extends pulumi.dynamic.Resource {
  /** How long the containers took to answer, in ms, when they were last (re)created. */
  declare public readonly readyAfterMs: pulumi.Output<number>;

  constructor(name: string, args: ReadinessArgs, opts?: pulumi.CustomResourceOptions) {
    super(readinessProvider, name, { ...args, readyAfterMs: undefined }, opts, "swiftdeploy", "Readiness");
  }
}
