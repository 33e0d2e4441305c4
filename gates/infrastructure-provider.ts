// The infrastructure gate's provider, run in the dynamic-provider host (components/providers.ts bundles this
// module with esbuild into the gate's __provider): on every `pulumi up` it sends the host's facts to OPA and
// fails the update with OPA's violations when it denies. No runtime import of @pulumi/pulumi: the host would
// load the whole SDK for it.
import type * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import { collectHostFacts } from "../lib/host-facts";
import { OpaError, PolicyDeniedError, queryDecision } from "../lib/opa";
import { POLICY_PACKAGES, type HostFacts, type PolicyCheck } from "../lib/types";

export interface InfrastructureGateInputs {
  opaSocket: string;
  timeoutMs: number;
  historyFile: string;
  stack: string;
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
  const record = (fields: Record<string, unknown>) =>
    appendHistory(inputs.historyFile, {
      stack: inputs.stack,
      type: "gate",
      gate: "infrastructure",
      input: facts,
      ...fields,
    });
  const started = Date.now();
  let verdict;
  try {
    verdict = await queryDecision(
      { socketPath: inputs.opaSocket, timeoutMs: inputs.timeoutMs },
      POLICY_PACKAGES.infrastructure,
      facts,
    );
  } catch (err) {
    const message = `[OPA/INFRASTRUCTURE] no decision: ${(err as Error).message}`;
    record({
      result: null,
      decision_id: null,
      duration_ms: Date.now() - started,
      error: (err as OpaError).message,
    });
    appendHistory(inputs.historyFile, { stack: inputs.stack, type: "deploy_failed", reason: message });
    throw new Error(message);
  }
  record({ result: verdict.decision, decision_id: verdict.decisionId, duration_ms: verdict.durationMs });
  if (!verdict.decision.allow) {
    const denied = new PolicyDeniedError("infrastructure", verdict);
    appendHistory(inputs.historyFile, { stack: inputs.stack, type: "deploy_failed", reason: denied.message });
    throw denied;
  }
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
