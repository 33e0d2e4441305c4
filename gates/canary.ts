// The canary gate: a dynamic resource that guards every move of the release state (program/release.ts). A
// promotion is judged from both sets' traffic over the observation window (canary against stable), a
// release that skips the canary and a rollback by the release policy; a denial fails `pulumi up` before
// any set (each depends on this gate) is touched, so the containers and the split stay as they are.
import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { HostedResource, providerSource } from "../components/providers";
import type { Mode } from "../lib/modes";
import type { ReleaseState } from "../lib/release-state";
import type { CanaryGateInputs, CanaryVerdict } from "./canary-provider";

/** The provider module beside this resource, bundled for the dynamic-provider host. */
export const CANARY_GATE_PROVIDER = providerSource<typeof import("./canary-provider")>(
  path.join(__dirname, "canary-provider.ts"),
  "canaryGateProvider",
);

export type CanaryGateArgs = { [K in keyof CanaryGateInputs]: pulumi.Input<CanaryGateInputs[K]> };

export class CanaryGate extends HostedResource {
  /** The release state the gate let through: the stack exports it, the next update plans from it. */
  declare public readonly state: pulumi.Output<ReleaseState>;
  /** The mode the stack runs once the move is done: canary while a canary set runs. */
  declare public readonly mode: pulumi.Output<Mode>;
  declare public readonly verdict: pulumi.Output<CanaryVerdict | null>;

  constructor(name: string, args: CanaryGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "CanaryGate",
      CANARY_GATE_PROVIDER,
      name,
      { ...args, state: undefined, previous: undefined, mode: undefined, verdict: undefined },
      opts,
    );
  }
}
