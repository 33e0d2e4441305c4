// The gates' provider methods, called directly (under Pulumi's mocks a dynamic provider is never run):
// a stand-in OPA on a Unix socket and stand-in app replicas on 127.0.0.1 give the answers; the tests check
// what the gate decides, what it records in history.jsonl, and the error `pulumi up` would show.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canaryGateProvider } from "../../../gates/canary-provider";
import { infrastructureGateProvider } from "../../../gates/infrastructure-provider";
import { readHistory } from "../../../lib/history";
import type { PolicyDecision } from "../../../lib/types";

let dir: string;
let servers: http.Server[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-gates-"));
  servers = [];
});

afterEach(async () => {
  await Promise.all(
    servers.map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

const ALLOW: PolicyDecision = { allow: true, violations: [], checks: [] };
const DENY: PolicyDecision = {
  allow: false,
  violations: ["Disk free (3.2 GB) is below minimum threshold (10.0 GB)"],
  checks: [{ id: "disk_free", title: "Disk free", passed: false, observed: 3.2, threshold: 10, unit: "GB" }],
};

/** A stand-in OPA that answers `decision` and remembers the inputs it was asked about. */
async function fakeOpa(decision: PolicyDecision): Promise<{ socketPath: string; inputs: unknown[] }> {
  const socketPath = path.join(dir, "opa.sock");
  const inputs: unknown[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      inputs.push(JSON.parse(body).input);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result: decision, decision_id: "d-123" }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socketPath, inputs };
}

/** Listens on 127.0.0.1 with `handler`; the URL of the stand-in's admin listener. */
async function serveReplica(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

/** A stand-in replica whose /metrics shows `requests` (of which `errors` 500s) of 0.05 s each, so far. */
async function fakeReplica(counts: { requests: number; errors: number }): Promise<string> {
  return serveReplica((_req, res) => {
    const ok = counts.requests - counts.errors;
    res.writeHead(200, { "content-type": PROMETHEUS_TEXT });
    res.end(
      [
        "app_uptime_seconds 12.5",
        `http_requests_total{method="GET",path="/",status_code="200"} ${ok}`,
        `http_requests_total{method="GET",path="/",status_code="500"} ${counts.errors}`,
        `http_request_duration_seconds_bucket{le="0.1",method="GET",path="/",status_code="200"} ${ok}`,
        `http_request_duration_seconds_bucket{le="+Inf",method="GET",path="/",status_code="200"} ${ok}`,
        `http_request_duration_seconds_bucket{le="0.1",method="GET",path="/",status_code="500"} ${counts.errors}`,
        `http_request_duration_seconds_bucket{le="+Inf",method="GET",path="/",status_code="500"} ${counts.errors}`,
        "",
      ].join("\n"),
    );
  });
}

/** A stand-in replica that answers every request with this status, content type and body. */
function fixedReplica(status: number, contentType: string, body: string): Promise<string> {
  return serveReplica((_req, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  });
}

/** A stand-in OPA on the socket that accepts every request and answers it with `answer` (or never). */
async function misbehavingOpa(answer: string | null): Promise<string> {
  const socketPath = path.join(dir, "opa.sock");
  const server = http.createServer((req, res) => {
    req.resume();
    if (answer === null) return; // accepts, reads, never answers
    res.writeHead(200, { "content-type": "application/json" });
    res.end(answer);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return socketPath;
}

describe("the infrastructure gate", () => {
  const inputs = (socketPath: string) => ({
    opaSocket: socketPath,
    timeoutMs: 2000,
    historyFile: path.join(dir, "history.jsonl"),
    stack: "unit",
    dockerRoot: os.tmpdir(),
  });

  it("decides on every pulumi up", async () => {
    expect(await infrastructureGateProvider.diff!("id", {}, {})).toEqual({ changes: true });
  });

  it("sends the host facts to OPA and keeps OPA's verdict when it allows", async () => {
    const opa = await fakeOpa(ALLOW);
    const { outs } = await infrastructureGateProvider.create(inputs(opa.socketPath));
    expect(Object.keys(opa.inputs[0] as object).sort()).toEqual([
      "cpu_load",
      "disk_free_gb",
      "mem_free_percent",
    ]);
    expect(outs.verdict).toMatchObject({ allow: true, decisionId: "d-123", facts: opa.inputs[0] });
    const [gate] = readHistory(path.join(dir, "history.jsonl")).events;
    expect(gate).toMatchObject({ type: "gate", gate: "infrastructure", decision_id: "d-123", result: ALLOW });
  });

  it("fails with OPA's violations under the gate's header when OPA denies, and records the failed deploy", async () => {
    const opa = await fakeOpa(DENY);
    const update = infrastructureGateProvider.update!("id", {}, inputs(opa.socketPath));
    await expect(update).rejects.toThrow(
      "[OPA/INFRASTRUCTURE] Policy FAILED (decision d-123)\n  - Disk free (3.2 GB) is below minimum threshold (10.0 GB)",
    );
    const types = readHistory(path.join(dir, "history.jsonl")).events.map((e) => e.type);
    expect(types).toEqual(["gate", "deploy_failed"]);
  });

  it("fails saying OPA is unreachable, naming the socket, when nothing listens", async () => {
    const socketPath = path.join(dir, "nobody.sock");
    await expect(infrastructureGateProvider.create(inputs(socketPath))).rejects.toThrow(
      `[OPA/INFRASTRUCTURE] no decision: OPA unreachable at unix socket ${socketPath}`,
    );
    const [gate] = readHistory(path.join(dir, "history.jsonl")).events;
    expect(gate).toMatchObject({ type: "gate", result: null, decision_id: null });
    expect(String(gate.error)).toContain("unreachable");
  });
});

describe("the canary gate", () => {
  const inputs = (mode: string, adminUrls: string[], socketPath: string) => ({
    mode,
    adminUrls,
    windowSeconds: 1,
    opaSocket: socketPath,
    timeoutMs: 2000,
    historyFile: path.join(dir, "history.jsonl"),
    stack: "unit",
  });

  it("judges nothing on the first deploy, whichever mode it starts in", async () => {
    const { outs } = await canaryGateProvider.create(inputs("stable", [], path.join(dir, "none.sock")));
    expect(outs).toMatchObject({ mode: "stable", verdict: null });
    expect(readHistory(path.join(dir, "history.jsonl")).events).toEqual([]);
  });

  it("sees a change only when the mode changes, not when the replicas or the window move", async () => {
    const base = inputs("canary", ["http://127.0.0.1:1"], "s");
    expect(await canaryGateProvider.diff!("id", base, { ...base })).toEqual({ changes: false });
    const moved = { ...base, adminUrls: ["http://127.0.0.1:2", "http://127.0.0.1:3"], windowSeconds: 60 };
    expect(await canaryGateProvider.diff!("id", base, moved)).toEqual({ changes: false });
    expect(await canaryGateProvider.diff!("id", base, { ...base, mode: "stable" })).toEqual({
      changes: true,
    });
  });

  it("asks OPA about the window's public traffic summed over the replicas on canary -> stable", async () => {
    const opa = await fakeOpa(ALLOW);
    const counts = [
      { requests: 10, errors: 0 },
      { requests: 5, errors: 1 },
    ];
    const urls = [await fakeReplica(counts[0]), await fakeReplica(counts[1])];
    // Traffic arrives during the window: 30 more requests on replica 0 (3 errors), 10 on replica 1.
    setTimeout(() => {
      Object.assign(counts[0], { requests: 40, errors: 3 });
      Object.assign(counts[1], { requests: 15, errors: 1 });
    }, 300);
    const { outs } = await canaryGateProvider.update!(
      "id",
      inputs("canary", urls, "s"),
      inputs("stable", urls, opa.socketPath),
    );
    expect(opa.inputs[0]).toEqual({
      requests: 40,
      error_rate_percent: 7.5,
      p99_latency_ms: 99,
      window_seconds: 1,
    });
    expect(outs).toMatchObject({ mode: "stable", verdict: { allow: true, decisionId: "d-123" } });
    const events = readHistory(path.join(dir, "history.jsonl")).events;
    expect(events.map((e) => e.type)).toEqual(["gate", "mode_change"]);
    expect(events[1]).toMatchObject({ from: "canary", to: "stable", allowed: true, decision_id: "d-123" });
    expect(outs.verdict.overheadMs).toBeLessThan(1000);
  });

  it("refuses the promotion with OPA's violations and records the refusal", async () => {
    const opa = await fakeOpa({
      ...DENY,
      violations: ["Only 0 requests in the last 1s; at least 20 are needed to judge the canary"],
    });
    const url = await fakeReplica({ requests: 0, errors: 0 });
    const update = canaryGateProvider.update!(
      "id",
      inputs("canary", [url], "s"),
      inputs("stable", [url], opa.socketPath),
    );
    await expect(update).rejects.toThrow(
      "[OPA/CANARY] Policy FAILED (decision d-123)\n  - Only 0 requests in the last 1s; at least 20 are needed to judge the canary",
    );
    const change = readHistory(path.join(dir, "history.jsonl")).events.at(-1);
    expect(change).toMatchObject({ type: "mode_change", allowed: false });
  });

  describe("when OPA gives no decision", () => {
    // Each failure has its own sentence, and each is recorded: the gate event with the error and its kind,
    // then the refused promotion with the message `pulumi up` shows.
    const failures = [
      [
        "is down",
        async () => path.join(dir, "nobody.sock"),
        "unreachable",
        /^\[OPA\/CANARY\] no decision: OPA unreachable at unix socket \S+nobody\.sock \(ENOENT\): is the OPA container running\?$/,
      ],
      [
        "is slow",
        () => misbehavingOpa(null),
        "timeout",
        /^\[OPA\/CANARY\] no decision: OPA did not answer within 300 ms \(unix socket \S+, swiftdeploy\/canary\/decision\)$/,
      ],
      [
        "answers garbage",
        () => misbehavingOpa("<html>502 Bad Gateway</html>"),
        "malformed",
        /^\[OPA\/CANARY\] no decision: OPA gave a malformed answer for data\.swiftdeploy\.canary\.decision: the body is not JSON: "<html>502 Bad Gateway<\/html>"$/,
      ],
    ] as const;

    it.each(failures)(
      "says so in its own words and records it when OPA %s",
      async (_what, start, kind, message) => {
        const socketPath = await start();
        const url = await fakeReplica({ requests: 30, errors: 0 });
        const update = canaryGateProvider.update!("id", inputs("canary", [url], "s"), {
          ...inputs("stable", [url], socketPath),
          timeoutMs: 300,
        });
        await expect(update).rejects.toThrow(message);
        const events = readHistory(path.join(dir, "history.jsonl")).events;
        expect(events.map((e) => e.type)).toEqual(["gate", "mode_change"]);
        expect(events[0]).toMatchObject({
          gate: "canary",
          result: null,
          decision_id: null,
          error_kind: kind,
        });
        expect(events[0].input).toMatchObject({ requests: 0, window_seconds: 1 });
        expect(`[OPA/CANARY] no decision: ${String(events[0].error)}`).toMatch(message);
        expect(events[1]).toMatchObject({ from: "canary", to: "stable", allowed: false });
        expect(String(events[1].reason)).toMatch(message);
      },
    );
  });

  describe("when a replica's /metrics cannot be used", () => {
    const failures = [
      [
        "refused",
        async () => {
          const url = await fakeReplica({ requests: 0, errors: 0 });
          const server = servers.pop()!;
          await new Promise((resolve) => server.close(resolve));
          return url;
        },
        { kind: "unreachable", status: null },
        (url: string) => `[CANARY] cannot scrape ${url}/metrics (ECONNREFUSED): is the app running?`,
      ],
      [
        "answered HTTP 500",
        () => fixedReplica(500, "application/json", '{"error":"internal error"}'),
        { kind: "http_status", status: 500 },
        (url: string) => `[CANARY] ${url}/metrics answered HTTP 500`,
      ],
      [
        "answered an HTML page",
        () => fixedReplica(200, "text/html", "<html><body>Welcome to nginx!</body></html>"),
        { kind: "not_metrics", status: null },
        (url: string) =>
          `[CANARY] ${url}/metrics did not answer the app's metrics: not Prometheus text: content-type "text/html", body "<html><body>Welcome to nginx!</body></html>"`,
      ],
      [
        "answered another program's Prometheus text",
        () => fixedReplica(200, PROMETHEUS_TEXT, "node_load1 0.5\n"),
        { kind: "not_metrics", status: null },
        (url: string) =>
          `[CANARY] ${url}/metrics did not answer the app's metrics: not the app's metrics: no app_uptime_seconds in "node_load1 0.5"`,
      ],
    ] as const;

    it.each(failures)(
      "refuses naming the replica, records the failed scrape and the refusal, and asks no OPA, when it %s",
      async (_what, start, recorded, message) => {
        const opa = await fakeOpa(ALLOW);
        const url = await start();
        const update = canaryGateProvider.update!(
          "id",
          inputs("canary", [url], "s"),
          inputs("stable", [url], opa.socketPath),
        );
        await expect(update).rejects.toThrow(message(url));
        expect(opa.inputs).toEqual([]);
        const events = readHistory(path.join(dir, "history.jsonl")).events;
        expect(events.map((e) => e.type)).toEqual(["scrape_failed", "mode_change"]);
        expect(events[0]).toMatchObject({
          gate: "canary",
          url: `${url}/metrics`,
          at: "window_start",
          ...recorded,
        });
        expect(events[1]).toMatchObject({
          from: "canary",
          to: "stable",
          allowed: false,
          reason: message(url),
        });
      },
    );

    it("records which replica failed at the end of the window", async () => {
      const opa = await fakeOpa(ALLOW);
      const healthy = await fakeReplica({ requests: 5, errors: 0 });
      const failing = await fakeReplica({ requests: 5, errors: 0 });
      const server = servers.at(-1)!;
      setTimeout(() => {
        server.closeAllConnections();
        server.close();
      }, 300);
      const urls = [healthy, failing];
      const update = canaryGateProvider.update!(
        "id",
        inputs("canary", urls, "s"),
        inputs("stable", urls, opa.socketPath),
      );
      await expect(update).rejects.toThrow(`[CANARY] cannot scrape ${failing}/metrics (ECONNREFUSED)`);
      const events = readHistory(path.join(dir, "history.jsonl")).events;
      expect(events.map((e) => e.type)).toEqual(["scrape_failed", "mode_change"]);
      expect(events[0]).toMatchObject({ url: `${failing}/metrics`, at: "window_end", kind: "unreachable" });
      expect(opa.inputs).toEqual([]);
    });
  });

  it("lets the app go back to canary with no judgement, and records it", async () => {
    const { outs } = await canaryGateProvider.update!(
      "id",
      inputs("stable", [], "s"),
      inputs("canary", [], path.join(dir, "none.sock")),
    );
    expect(outs.mode).toBe("canary");
    const [change] = readHistory(path.join(dir, "history.jsonl")).events;
    expect(change).toMatchObject({ type: "mode_change", from: "stable", to: "canary", allowed: true });
  });
});
