// The canary gate: a dynamic resource that judges a promotion. When the stack's mode goes from canary to
// stable it scrapes every replica's admin /metrics at the start and the end of the observation window,
// computes error rate and P99 of the public traffic in between, and asks OPA. A denial fails `pulumi up`
// before the app (which depends on this gate) is touched, so the app keeps its mode and its containers.
import type * as pulumi from "@pulumi/pulumi";
import { HostedResource } from "../components/providers";
import type { CanaryVerdict } from "./canary-provider";

export interface CanaryGateArgs {
  /** The mode the stack config asks for: canary or stable. */
  mode: pulumi.Input<string>;
  /** The replicas' admin listeners on 127.0.0.1, e.g. http://127.0.0.1:9100. */
  adminUrls: pulumi.Input<pulumi.Input<string>[]>;
  /** Length of the observation window in seconds. */
  windowSeconds: pulumi.Input<number>;
  opaSocket: pulumi.Input<string>;
  timeoutMs: pulumi.Input<number>;
  historyFile: pulumi.Input<string>;
  stack: pulumi.Input<string>;
}

export class CanaryGate extends HostedResource {
  /** The mode the app may run: it changes only once the gate has allowed (or needed no judgement). */
  declare public readonly mode: pulumi.Output<string>;
  declare public readonly verdict: pulumi.Output<CanaryVerdict | null>;

  constructor(name: string, args: CanaryGateArgs, opts?: pulumi.CustomResourceOptions) {
    const provider = { file: "gates/canary-provider.ts", exportName: "canaryGateProvider" };
    super("CanaryGate", provider, name, { ...args, verdict: undefined }, opts);
  }
}
