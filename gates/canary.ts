// The canary gate: a dynamic resource that judges a promotion. When the stack's mode goes from canary to
// stable it scrapes every replica's admin /metrics at the start and the end of the observation window,
// computes error rate and P99 of the public traffic in between, and asks OPA. A denial fails `pulumi up`
// before the app (which depends on this gate) is touched, so the app keeps its mode and its containers.
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { HostedResource, providerSource } from "../components/providers";
import type { Mode } from "../lib/modes";
import type { CanaryGateInputs, CanaryVerdict } from "./canary-provider";

/** The provider module beside this resource, bundled for the dynamic-provider host. */
export const CANARY_GATE_PROVIDER = providerSource<typeof import("./canary-provider")>(
  path.join(__dirname, "canary-provider.ts"),
  "canaryGateProvider",
);

export type CanaryGateArgs = { [K in keyof CanaryGateInputs]: pulumi.Input<CanaryGateInputs[K]> };

export class CanaryGate extends HostedResource {
  /** The mode the app may run: it changes only once the gate has allowed (or needed no judgement). */
  declare public readonly mode: pulumi.Output<Mode>;
  declare public readonly verdict: pulumi.Output<CanaryVerdict | null>;

  constructor(name: string, args: CanaryGateArgs, opts?: pulumi.CustomResourceOptions) {
    super("CanaryGate", CANARY_GATE_PROVIDER, name, { ...args, verdict: undefined }, opts);
  }
}
