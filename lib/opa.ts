// The one OPA client (gates, dashboard, scripts). OPA serves its REST API on a Unix socket, so this speaks
// node:http with `socketPath`.
import * as http from "node:http";
import type { GateName, PolicyCheck, PolicyDecision } from "./types";

export type OpaFailureKind = "unreachable" | "timeout" | "malformed" | "undefined";

/** OPA could not give a decision. A denial is not an OpaError: it is a normal verdict. */
export class OpaError extends Error {
  readonly kind: OpaFailureKind;
  constructor(kind: OpaFailureKind, message: string) {
    super(message);
    this.name = "OpaError";
    this.kind = kind;
  }
}

export interface OpaTarget {
  /** Path of OPA's Unix socket (`opa run --server --addr unix://<path>`). */
  socketPath: string;
  /** Limit for the whole exchange: connect, request, complete answer. */
  timeoutMs: number;
}

export interface OpaVerdict {
  decision: PolicyDecision;
  /** OPA's `decision_id`; present when OPA runs with decision logging on. */
  decisionId: string | null;
  durationMs: number;
}

interface Reply {
  status: number;
  body: string;
}

/** Asks OPA for `data.<packagePath>` (slash form, e.g. `swiftdeploy/canary/decision`) with `input`. */
export async function queryDecision(
  target: OpaTarget,
  packagePath: string,
  input: unknown,
): Promise<OpaVerdict> {
  const startedAt = performance.now();
  const pkg = packagePath.replace(/^\/+|\/+$/g, "");
  const what = `unix socket ${target.socketPath}, ${pkg}`;
  const reply = await exchange(target, "POST", `/v1/data/${pkg}`, JSON.stringify({ input }), what);
  const { decision, decisionId } = readDecisionReply(pkg, reply);
  return { decision, decisionId, durationMs: Math.round((performance.now() - startedAt) * 100) / 100 };
}

/** True when OPA answers `GET /health` with 200 within the target's timeout. */
export async function opaHealthy(target: OpaTarget): Promise<boolean> {
  try {
    const reply = await exchange(
      target,
      "GET",
      "/health",
      undefined,
      `unix socket ${target.socketPath}, /health`,
    );
    return reply.status === 200;
  } catch {
    return false;
  }
}

/** Thrown by a gate when OPA denies; its message is what `pulumi up` shows under Diagnostics. */
export class PolicyDeniedError extends Error {
  readonly verdict: OpaVerdict;
  readonly gate: GateName;
  constructor(gate: GateName, verdict: OpaVerdict, advice?: string) {
    const message = denialMessage(gate, verdict) + (advice === undefined ? "" : `\n${advice}`);
    super(message);
    this.name = "PolicyDeniedError";
    this.gate = gate;
    this.verdict = verdict;
  }
}

/** `[OPA/CANARY] Policy FAILED (decision <id>)` followed by OPA's violations, verbatim, one per line. */
export function denialMessage(gate: GateName, verdict: OpaVerdict): string {
  const id = verdict.decisionId === null ? "" : ` (decision ${verdict.decisionId})`;
  const violations = verdict.decision.violations;
  const lines = violations.length > 0 ? violations : ["OPA denied without naming a violation"];
  return [`[OPA/${gate.toUpperCase()}] Policy FAILED${id}`, ...lines.map((v) => `  - ${v}`)].join("\n");
}

/** One HTTP exchange over the socket; a single timer bounds it, so a server that never answers times out too. */
function exchange(target: OpaTarget, method: string, path: string, body: string | undefined, what: string) {
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    // agent: false — a fresh connection per query, so a restarted OPA never meets a stale pooled socket.
    const req = http.request(
      { socketPath: target.socketPath, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          settle(() =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
          ),
        );
        res.on("error", (err) => settle(() => reject(unreachable(target, err))));
      },
    );
    timer = setTimeout(() => {
      const message = `OPA did not answer within ${target.timeoutMs} ms (${what})`;
      settle(() => reject(new OpaError("timeout", message)));
      req.destroy();
    }, target.timeoutMs);
    req.on("error", (err) => settle(() => reject(unreachable(target, err))));
    req.end(body);
  });
}

function unreachable(target: OpaTarget, err: Error): OpaError {
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  const message = `OPA unreachable at unix socket ${target.socketPath} (${code}): is the OPA container running?`;
  return new OpaError("unreachable", message);
}

/** Turns OPA's answer into a decision, or says precisely why it is not one. */
function readDecisionReply(
  packagePath: string,
  reply: Reply,
): { decision: PolicyDecision; decisionId: string | null } {
  const dataPath = `data.${packagePath.replace(/\//g, ".")}`;
  const malformed = (why: string) =>
    new OpaError("malformed", `OPA gave a malformed answer for ${dataPath}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    if (reply.status < 200 || reply.status > 299)
      throw malformed(`HTTP ${reply.status}, ${excerpt(reply.body)}`);
    throw malformed(`the body is not JSON: ${excerpt(reply.body)}`);
  }
  if (reply.status < 200 || reply.status > 299) {
    throw malformed(`HTTP ${reply.status}, ${opaErrorText(parsed) ?? excerpt(reply.body)}`);
  }
  if (!isObject(parsed)) throw malformed(`the body is not a JSON object: ${excerpt(reply.body)}`);
  if (!("result" in parsed)) {
    throw new OpaError("undefined", `OPA has no decision at ${dataPath} (undefined): is the policy loaded?`);
  }
  const problem = decisionShapeProblem(parsed.result);
  if (problem !== null) {
    throw malformed(
      `${problem}; expected {allow: boolean, violations: string[], checks: array}, got ${excerpt(JSON.stringify(parsed.result))}`,
    );
  }
  const decisionId = typeof parsed.decision_id === "string" ? parsed.decision_id : null;
  return { decision: parsed.result as PolicyDecision, decisionId };
}

/** The first way `result` differs from PolicyDecision (types.ts), or null when it matches. */
function decisionShapeProblem(result: unknown): string | null {
  if (!isObject(result)) return "the result is not an object";
  if (typeof result.allow !== "boolean")
    return `allow must be a boolean, got ${JSON.stringify(result.allow)}`;
  if (!Array.isArray(result.violations) || !result.violations.every((v) => typeof v === "string")) {
    return "violations must be an array of strings";
  }
  if (!Array.isArray(result.checks)) return "checks must be an array";
  if (
    result.notes !== undefined &&
    (!Array.isArray(result.notes) || !result.notes.every((n) => typeof n === "string"))
  ) {
    return "notes must be an array of strings";
  }
  for (const [i, check] of result.checks.entries()) {
    const problem = checkShapeProblem(check);
    if (problem !== null) return `checks[${i}]${problem}`;
  }
  return null;
}

function checkShapeProblem(check: unknown): string | null {
  if (!isObject(check)) return " must be an object";
  const expected: Record<keyof PolicyCheck, (v: unknown) => boolean> = {
    id: (v) => typeof v === "string",
    title: (v) => typeof v === "string",
    passed: (v) => typeof v === "boolean",
    observed: (v) => v === null || typeof v === "number",
    threshold: (v) => v === null || typeof v === "number",
    unit: (v) => typeof v === "string",
    // Optional: the canary checks report their status and stable's value; the infrastructure ones need neither.
    status: (v) => v === undefined || v === "pass" || v === "fail" || v === "no_data",
    stable: (v) => v === undefined || v === null || typeof v === "number",
  };
  for (const [key, valid] of Object.entries(expected)) {
    if (!valid(check[key]))
      return `.${key} has the wrong type, got ${JSON.stringify(check[key]) ?? "nothing"}`;
  }
  return null;
}

/** OPA's own error body is `{"code": "...", "message": "..."}`. */
function opaErrorText(body: unknown): string | null {
  if (!isObject(body) || typeof body.message !== "string") return null;
  return excerpt(typeof body.code === "string" ? `${body.code}: ${body.message}` : body.message);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 200 ? `${flat.slice(0, 200)}…` : flat);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
