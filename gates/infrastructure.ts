// The infrastructure gate: a dynamic resource that, on every `pulumi up`, sends the host's facts (disk,
// CPU load, memory) to OPA and fails the update with OPA's violations when it denies. The app and nginx
// depend on it, so a denial leaves them exactly as they were.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { HostedResource, providerSource } from "../components/providers";
import { collectHostFacts } from "../lib/host-facts";
import { PolicyDeniedError, queryDecision } from "../lib/opa";
import { POLICY_PACKAGES } from "../lib/types";
import type { InfrastructureGateInputs, InfrastructureVerdict } from "./infrastructure-provider";

/** The provider module beside this resource, bundled for the dynamic-provider host. */
export const INFRASTRUCTURE_GATE_PROVIDER = providerSource<typeof import("./infrastructure-provider")>(
  path.join(__dirname, "infrastructure-provider.ts"),
  "infrastructureGateProvider",
);

export type InfrastructureGateArgs = {
  [K in keyof InfrastructureGateInputs]: pulumi.Input<InfrastructureGateInputs[K]>;
};

export class InfrastructureGate extends HostedResource {
  declare public readonly verdict: pulumi.Output<InfrastructureVerdict>;

  constructor(name: string, args: InfrastructureGateArgs, opts?: pulumi.CustomResourceOptions) {
    super("InfrastructureGate", INFRASTRUCTURE_GATE_PROVIDER, name, { ...args, verdict: undefined }, opts);
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
