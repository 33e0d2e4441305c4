import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  OpaError,
  PolicyDeniedError,
  denialMessage,
  opaHealthy,
  queryDecision,
  type OpaVerdict,
} from "../../../lib/opa";
import type { PolicyDecision } from "../../../lib/types";

const PACKAGE = "swiftdeploy/canary/decision";
const ALLOWED: PolicyDecision = {
  allow: true,
  violations: [],
  checks: [{ id: "error_rate", title: "Error rate", passed: true, observed: 0.5, threshold: 1, unit: "%" }],
};
const DENIED: PolicyDecision = {
  allow: false,
  violations: [
    "Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
    "P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
  ],
  checks: [
    { id: "error_rate", title: "Error rate", passed: false, observed: 46.94, threshold: 1, unit: "%" },
  ],
};

let dir: string;
const servers: http.Server[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opa-client-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fake OPA on a fresh Unix socket; `handler` answers every request. */
async function fakeOpa(handler: http.RequestListener): Promise<string> {
  const socketPath = path.join(dir, `opa-${servers.length}-${Math.random().toString(36).slice(2, 8)}.sock`);
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return socketPath;
}

function answering(status: number, body: string): http.RequestListener {
  return (req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": "application/json" }).end(body));
  };
}

async function failure(socketPath: string, timeoutMs = 2000): Promise<OpaError> {
  const err = await queryDecision({ socketPath, timeoutMs }, PACKAGE, { requests: 1 }).then(
    () => new Error("expected queryDecision to reject"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpaError);
  return err as OpaError;
}

describe("queryDecision failures", () => {
  it("reports an absent socket file as unreachable, naming the path and ENOENT", async () => {
    const socketPath = path.join(dir, "missing.sock");
    const err = await failure(socketPath);
    expect(err.kind).toBe("unreachable");
    expect(err.message).toBe(
      `OPA unreachable at unix socket ${socketPath} (ENOENT): is the OPA container running?`,
    );
  });

  it("reports a socket file nobody listens on as unreachable with ECONNREFUSED", async () => {
    // Closing a listening server unlinks its socket file; renaming it first leaves a dead socket behind.
    const live = await fakeOpa(answering(200, "{}"));
    const dead = path.join(dir, "dead.sock");
    fs.renameSync(live, dead);
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const err = await failure(dead);
    expect(err.kind).toBe("unreachable");
    expect(err.message).toContain(`at unix socket ${dead} (ECONNREFUSED)`);
  });

  it("gives up on a server that accepts but never answers, naming the limit in ms", async () => {
    const socketPath = await fakeOpa(() => undefined);
    const started = Date.now();
    const err = await failure(socketPath, 150);
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe(`OPA did not answer within 150 ms (unix socket ${socketPath}, ${PACKAGE})`);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("gives up on a server that sends headers and then stalls the body", async () => {
    const socketPath = await fakeOpa((_req, res) => res.writeHead(200).write('{"result":'));
    const err = await failure(socketPath, 150);
    expect(err.kind).toBe("timeout");
  });

  it("reports a body that is not JSON as malformed, with an excerpt", async () => {
    const socketPath = await fakeOpa(answering(200, "<html>502 Bad Gateway</html>"));
    const err = await failure(socketPath);
    expect(err.kind).toBe("malformed");
    expect(err.message).toBe(
      'OPA gave a malformed answer for data.swiftdeploy.canary.decision: the body is not JSON: "<html>502 Bad Gateway</html>"',
    );
  });

  it("keeps the excerpt of a long bad body to 200 characters", async () => {
    const socketPath = await fakeOpa(answering(200, "x".repeat(5000)));
    const err = await failure(socketPath);
    expect(err.message).toContain(`"${"x".repeat(200)}…"`);
    expect(err.message).not.toContain("x".repeat(201));
  });

  it("reports an HTTP 500 as malformed with OPA's own error code and message", async () => {
    const body = JSON.stringify({ code: "internal_error", message: "1 error occurred: eval_conflict_error" });
    const socketPath = await fakeOpa(answering(500, body));
    const err = await failure(socketPath);
    expect(err.kind).toBe("malformed");
    expect(err.message).toBe(
      'OPA gave a malformed answer for data.swiftdeploy.canary.decision: HTTP 500, "internal_error: 1 error occurred: eval_conflict_error"',
    );
  });

  it.each([
    [
      "allow is not a boolean",
      { allow: "yes", violations: [], checks: [] },
      'allow must be a boolean, got "yes"',
    ],
    [
      "violations hold a number",
      { allow: true, violations: [1], checks: [] },
      "violations must be an array of strings",
    ],
    ["checks is missing", { allow: true, violations: [] }, "checks must be an array"],
    [
      "a check lacks its threshold",
      { ...ALLOWED, checks: [{ ...ALLOWED.checks[0], threshold: undefined }] },
      "checks[0].threshold",
    ],
    ["the result is a bare boolean", true, "the result is not an object"],
  ])("reports a result of the wrong shape as malformed: %s", async (_name, result, reason) => {
    const socketPath = await fakeOpa(answering(200, JSON.stringify({ result, decision_id: "d-1" })));
    const err = await failure(socketPath);
    expect(err.kind).toBe("malformed");
    expect(err.message).toContain(reason);
    expect(err.message).toContain("expected {allow: boolean, violations: string[], checks: array}");
  });

  it.each([["{}"], ['{"decision_id":"x"}']])(
    "reports %s as an undefined decision naming the package",
    async (body) => {
      const socketPath = await fakeOpa(answering(200, body));
      const err = await failure(socketPath);
      expect(err.kind).toBe("undefined");
      expect(err.message).toBe(
        "OPA has no decision at data.swiftdeploy.canary.decision (undefined): is the policy loaded?",
      );
    },
  );
});

describe("queryDecision verdicts", () => {
  it("posts the input to /v1/data/<package> and returns an allow with its decision id", async () => {
    let seen: { method?: string; url?: string; body?: string } = {};
    const socketPath = await fakeOpa((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        seen = { method: req.method, url: req.url, body };
        res.end(JSON.stringify({ decision_id: "4ca636c1-55e4", result: ALLOWED }));
      });
    });
    const verdict = await queryDecision({ socketPath, timeoutMs: 2000 }, PACKAGE, { requests: 42 });
    expect(seen).toEqual({ method: "POST", url: `/v1/data/${PACKAGE}`, body: '{"input":{"requests":42}}' });
    expect(verdict.decision).toEqual(ALLOWED);
    expect(verdict.decisionId).toBe("4ca636c1-55e4");
    expect(verdict.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("returns a denial as a verdict rather than throwing", async () => {
    const socketPath = await fakeOpa(answering(200, JSON.stringify({ decision_id: "d-2", result: DENIED })));
    const verdict = await queryDecision({ socketPath, timeoutMs: 2000 }, PACKAGE, {});
    expect(verdict.decision).toEqual(DENIED);
    expect(verdict.decisionId).toBe("d-2");
  });

  it("gives a null decision id when OPA runs without decision logging", async () => {
    const socketPath = await fakeOpa(answering(200, JSON.stringify({ result: ALLOWED })));
    const verdict = await queryDecision({ socketPath, timeoutMs: 2000 }, PACKAGE, {});
    expect(verdict.decisionId).toBeNull();
  });
});

describe("denial messages", () => {
  const verdict: OpaVerdict = { decision: DENIED, decisionId: "d-2", durationMs: 1 };

  it("name the gate and the decision, then list every violation verbatim", () => {
    expect(denialMessage("canary", verdict)).toBe(
      [
        "[OPA/CANARY] Policy FAILED (decision d-2)",
        "  - Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 30s",
        "  - P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 30s",
      ].join("\n"),
    );
  });

  it("leave out the decision when OPA gave no id", () => {
    expect(denialMessage("infrastructure", { ...verdict, decisionId: null }).split("\n")[0]).toBe(
      "[OPA/INFRASTRUCTURE] Policy FAILED",
    );
  });

  it("are the message of PolicyDeniedError, which keeps the gate and the verdict", () => {
    const err = new PolicyDeniedError("canary", verdict);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe(denialMessage("canary", verdict));
    expect(err.gate).toBe("canary");
    expect(err.verdict).toBe(verdict);
    expect("id" in err).toBe(false); // an `id` would make Pulumi record a partial create
  });
});

describe("opaHealthy", () => {
  it("is true when GET /health answers 200", async () => {
    let url: string | undefined;
    const socketPath = await fakeOpa((req, res) => {
      url = req.url;
      res.end("{}");
    });
    expect(await opaHealthy({ socketPath, timeoutMs: 500 })).toBe(true);
    expect(url).toBe("/health");
  });

  it("is false when there is no socket, an error status or no answer", async () => {
    expect(await opaHealthy({ socketPath: path.join(dir, "none.sock"), timeoutMs: 500 })).toBe(false);
    const failing = await fakeOpa(answering(500, "{}"));
    expect(await opaHealthy({ socketPath: failing, timeoutMs: 500 })).toBe(false);
    const silent = await fakeOpa(() => undefined);
    expect(await opaHealthy({ socketPath: silent, timeoutMs: 100 })).toBe(false);
  });
});
