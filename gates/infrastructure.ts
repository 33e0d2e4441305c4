// The infrastructure gate: a dynamic resource that, on every `pulumi up`, sends the host's facts (disk,
// CPU load, memory) to OPA and fails the update with OPA's violations when it denies. The app and nginx
// depend on it, so a denial leaves them exactly as they were.
import * as pulumi from "@pulumi/pulumi";
import { HostedResource } from "../components/providers";
import { collectHostFacts } from "../lib/host-facts";
import { PolicyDeniedError, queryDecision } from "../lib/opa";
import { POLICY_PACKAGES } from "../lib/types";
import type { InfrastructureGateInputs, InfrastructureVerdict } from "./infrastructure-provider";

export interface InfrastructureGateArgs {
  /** Host path of OPA's Unix socket. */
  opaSocket: pulumi.Input<string>;
  /** Limit for one OPA exchange, in ms. */
  timeoutMs: pulumi.Input<number>;
  /** The stack's history.jsonl. */
  historyFile: pulumi.Input<string>;
  stack: pulumi.Input<string>;
  /** A directory on the filesystem whose free space the policy judges (Docker's data root). */
  dockerRoot: pulumi.Input<string>;
}

export class InfrastructureGate extends HostedResource {
  declare public readonly verdict: pulumi.Output<InfrastructureVerdict>;

  constructor(name: string, args: InfrastructureGateArgs, opts?: pulumi.CustomResourceOptions) {
    const provider = { file: "gates/infrastructure-provider.ts", exportName: "infrastructureGateProvider" };
    super("InfrastructureGate", provider, name, { ...args, verdict: undefined }, opts);
  }
}

/**
 * During `pulumi preview` the gate does not decide; when OPA already runs, this shows what it would say
 * (a warning on denial), without recording anything.
 */
export async function previewInfrastructureVerdict(args: InfrastructureGateInputs): Promise<void> {
  const fs = await import("node:fs");
  if (!fs.existsSync(args.opaSocket)) return;
  try {
    const facts = await collectHostFacts(args.dockerRoot);
    const verdict = await queryDecision(
      { socketPath: args.opaSocket, timeoutMs: args.timeoutMs },
      POLICY_PACKAGES.infrastructure,
      facts,
    );
    if (verdict.decision.allow) {
      await pulumi.log.info(`[OPA/INFRASTRUCTURE] would pass now (decision ${verdict.decisionId ?? "n/a"})`);
    } else {
      await pulumi.log.warn(`would fail now: ${new PolicyDeniedError("infrastructure", verdict).message}`);
    }
  } catch (err) {
    await pulumi.log.warn(`[OPA/INFRASTRUCTURE] preview could not ask OPA: ${(err as Error).message}`);
  }
}
