// The infrastructure gate's provider, run in the dynamic-provider host (components/providers.ts bundles this
// module with esbuild into the gate's __provider): on every `pulumi up` it sends the host's facts to OPA and
// fails the update with OPA's violations when it denies. No runtime import of @pulumi/pulumi: the host would
// load the whole SDK for it.
import type * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import { collectHostFacts } from "../lib/host-facts";
import type { HostFacts, PolicyCheck } from "../lib/types";
import { decideGate, type GateTarget } from "./decide";

export interface InfrastructureGateInputs extends GateTarget {
  /** A directory on the filesystem whose free space the policy judges (Docker's data root). */
  dockerRoot: string;
}

/** What the gate keeps in state and the stack exports: the last verdict, as OPA gave it. */
export interface InfrastructureVerdict {
  allow: boolean;
  violations: string[];
  checks: PolicyCheck[];
  decisionId: string | null;
  facts: HostFacts;
  checkedAt: string;
}

/** Asks OPA about the host, records the decision, and throws when OPA denies or cannot answer. */
async function decide(inputs: InfrastructureGateInputs): Promise<InfrastructureVerdict> {
  const facts = await collectHostFacts(inputs.dockerRoot);
  const verdict = await decideGate(inputs, "infrastructure", facts, {
    onRefused: (reason) =>
      appendHistory(inputs.historyFile, { stack: inputs.stack, type: "deploy_failed", reason }),
  });
  return { ...verdict.decision, decisionId: verdict.decisionId, facts, checkedAt: new Date().toISOString() };
}

export const infrastructureGateProvider: pulumi.dynamic.ResourceProvider = {
  // Decides on every `pulumi up`: the host's state is not an input Pulumi can diff.
  async diff() {
    return { changes: true };
  },
  async create(inputs: InfrastructureGateInputs) {
    return { id: "infrastructure-gate", outs: { ...inputs, verdict: await decide(inputs) } };
  },
  async update(_id: string, _olds: InfrastructureGateInputs, news: InfrastructureGateInputs) {
    return { outs: { ...news, verdict: await decide(news) } };
  },
};
