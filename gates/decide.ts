// The step every gate takes: ask OPA about the facts, record the gate event in history.jsonl, and throw when
// OPA denies or cannot answer. Each gate says what else a refusal records (a failed deploy, a refused mode
// change) through `onRefused`. Runs in the dynamic-provider host: no runtime import of @pulumi/pulumi.
import { appendHistory } from "../lib/history";
import type { GateEvent } from "../lib/history-events";
import { OpaError, PolicyDeniedError, queryDecision, type OpaVerdict } from "../lib/opa";
import { POLICY_PACKAGES, type GateName } from "../lib/types";

/** Where a gate asks and records: the stack's OPA socket and history file. */
export interface GateTarget {
  /** Host path of OPA's Unix socket. */
  opaSocket: string;
  /** Limit for one OPA exchange, in ms. */
  timeoutMs: number;
  /** The stack's history.jsonl. */
  historyFile: string;
  stack: string;
}

export interface DecideOptions {
  /** When the gate's work began (the canary gate's window); the gate event's duration counts from it. */
  startedAt?: number;
  /** More fields of the gate event, computed once OPA has answered (or failed). */
  extraFields?: () => Pick<GateEvent, "overhead_ms">;
  /** Records what a refusal means for this gate; `reason` is the message `pulumi up` fails with. */
  onRefused: (reason: string, decisionId: string | null) => void;
  /** What to do next, printed under OPA's violations when it denies. */
  advice?: string;
}

/** Asks OPA at the gate's decision path; returns an allowing verdict or throws after recording. */
export async function decideGate(
  target: GateTarget,
  gate: GateName,
  facts: unknown,
  opts: DecideOptions,
): Promise<OpaVerdict> {
  const askedAt = Date.now();
  const record = (
    fields: Pick<GateEvent, "result" | "decision_id" | "duration_ms" | "error" | "error_kind">,
  ) =>
    appendHistory(target.historyFile, {
      stack: target.stack,
      type: "gate",
      gate,
      input: facts,
      ...fields,
      ...opts.extraFields?.(),
    });
  let verdict: OpaVerdict;
  try {
    verdict = await queryDecision(
      { socketPath: target.opaSocket, timeoutMs: target.timeoutMs },
      POLICY_PACKAGES[gate],
      facts,
    );
  } catch (err) {
    const message = `[OPA/${gate.toUpperCase()}] no decision: ${(err as Error).message}`;
    record({
      result: null,
      decision_id: null,
      duration_ms: Date.now() - (opts.startedAt ?? askedAt),
      error: (err as Error).message,
      ...(err instanceof OpaError ? { error_kind: err.kind } : {}),
    });
    opts.onRefused(message, null);
    throw new Error(message);
  }
  record({
    result: verdict.decision,
    decision_id: verdict.decisionId,
    duration_ms: opts.startedAt === undefined ? verdict.durationMs : Date.now() - opts.startedAt,
  });
  if (!verdict.decision.allow) {
    const denied = new PolicyDeniedError(gate, verdict, opts.advice);
    opts.onRefused(denied.message, verdict.decisionId);
    throw denied;
  }
  return verdict;
}
