// The infrastructure gate: a dynamic resource that, on every `pulumi up`, sends the host's facts (disk,
// CPU load, memory) to OPA and fails the update with OPA's violations when it denies. The app and nginx
// depend on it, so a denial leaves them exactly as they were.
import * as pulumi from "@pulumi/pulumi";
import { appendHistory } from "../lib/history";
import { collectHostFacts } from "../lib/host-facts";
import { OpaError, PolicyDeniedError, queryDecision } from "../lib/opa";
import { POLICY_PACKAGES, type HostFacts, type PolicyCheck } from "../lib/types";

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

interface GateInputs {
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
async function decide(inputs: GateInputs): Promise<InfrastructureVerdict> {
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
  async create(inputs: GateInputs) {
    return { id: "infrastructure-gate", outs: { ...inputs, verdict: await decide(inputs) } };
  },
  async update(_id: string, _olds: GateInputs, news: GateInputs) {
    return { outs: { ...news, verdict: await decide(news) } };
  },
};

export class InfrastructureGate extends pulumi.dynamic.Resource {
  declare public readonly verdict: pulumi.Output<InfrastructureVerdict>;

  constructor(name: string, args: InfrastructureGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      infrastructureGateProvider,
      name,
      { ...args, verdict: undefined },
      opts,
      "swiftdeploy",
      "InfrastructureGate",
    );
  }
}

/**
 * During `pulumi preview` the gate does not decide; when OPA already runs, this shows what it would say
 * (a warning on denial), without recording anything.
 */
export async function previewInfrastructureVerdict(args: GateInputs): Promise<void> {
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
