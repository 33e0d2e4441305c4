// The gates' provider methods, called directly (under Pulumi's mocks a dynamic provider is never run):
// a stand-in OPA on a Unix socket and stand-in app replicas on 127.0.0.1 give the answers; the tests check
// what the gate decides, what it records in history.jsonl, and the error `pulumi up` would show.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  canaryGateProvider,
  type CanaryGateInputs,
  type CanaryGateOutputs,
  type CanaryVerdict,
  type ReleaseMove,
} from "../../../gates/canary-provider";
import { infrastructureGateProvider } from "../../../gates/infrastructure-provider";
import { readHistory } from "../../../lib/history";
import { EMPTY_RELEASE_STATE, type Release, type ReleaseState } from "../../../lib/release-state";
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

/** A stand-in OPA that answers `decision` and remembers the inputs it was asked about, and where. */
async function fakeOpa(
  decision: PolicyDecision,
): Promise<{ socketPath: string; inputs: unknown[]; paths: string[] }> {
  const socketPath = path.join(dir, "opa.sock");
  const inputs: unknown[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      inputs.push(JSON.parse(body).input);
      paths.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result: decision, decision_id: "d-123" }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socketPath, inputs, paths };
}

/** Listens on 127.0.0.1 with `handler`; the URL of the stand-in's admin listener. */
async function serveReplica(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

/** Routes that are no set's traffic: the healthcheck, the admin routes, requests no route matched. */
const NOT_PUBLIC = ["/healthz", "/metrics", "/chaos", "unmatched"];

/** One route's count and latency buckets: `n` requests, `under01` of them within 0.1 s, `under05` within 0.5 s. */
function routeSeries(route: string, status: number, n: number, under01: number, under05: number): string[] {
  const labels = `method="GET",path="${route}",status_code="${status}"`;
  return [
    `http_requests_total{${labels}} ${n}`,
    `http_request_duration_seconds_bucket{le="0.1",${labels}} ${under01}`,
    `http_request_duration_seconds_bucket{le="0.5",${labels}} ${under05}`,
    `http_request_duration_seconds_bucket{le="+Inf",${labels}} ${n}`,
  ];
}

/**
 * A stand-in replica whose /metrics shows `requests` public requests so far (of which `errors` 500s), each
 * taking under 0.1 s ("fast") or between 0.1 and 0.5 s ("slow"). Beside them, 500s slower than 0.5 s on
 * every route that is not public, growing with the replica's traffic: counted, they would change every number.
 */
async function fakeReplica(
  counts: { requests: number; errors: number },
  latency: "fast" | "slow" = "fast",
): Promise<string> {
  return serveReplica((_req, res) => {
    const ok = counts.requests - counts.errors;
    const publicRoute = (status: number, n: number) =>
      routeSeries("/", status, n, latency === "fast" ? n : 0, n);
    res.writeHead(200, { "content-type": PROMETHEUS_TEXT });
    res.end(
      [
        "app_uptime_seconds 12.5",
        ...publicRoute(200, ok),
        ...publicRoute(500, counts.errors),
        ...NOT_PUBLIC.flatMap((route) => routeSeries(route, 500, counts.requests * 2 + 7, 0, 0)),
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

/** The URL of a replica that was there and is gone: connecting is refused. */
async function goneReplica(): Promise<string> {
  const url = await fakeReplica({ requests: 0, errors: 0 });
  const server = servers.pop()!;
  await new Promise((resolve) => server.close(resolve));
  return url;
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
  const rel = (version: string, hash: string): Release => ({
    version,
    image: `swiftdeploy/app:${version}-${hash}`,
  });
  const state = (s: Partial<ReleaseState>): ReleaseState => ({ ...EMPTY_RELEASE_STATE, ...s });
  const R = rel("0.9.0", "99999999");
  const V = rel("1.0.0", "aaaaaaaa");
  const W = rel("1.1.0", "bbbbbbbb");
  const X = rel("1.2.0", "eeeeeeee");

  /** A move as program/release.ts plans it: one set and no judgement unless told otherwise. */
  const releaseMove = (
    m: Pick<ReleaseMove, "action" | "from" | "to"> & Partial<ReleaseMove>,
  ): ReleaseMove => ({
    judgement: null,
    weight: null,
    runningMode: m.to.canary === null ? "stable" : "canary",
    reason: null,
    ...m,
  });

  const FIRST_CANARY = releaseMove({
    action: "canary_started",
    from: EMPTY_RELEASE_STATE,
    to: state({ canary: V, built: V.image }),
  });
  const FIRST_STABLE = releaseMove({
    action: "release_unjudged",
    from: EMPTY_RELEASE_STATE,
    to: state({ stable: V, built: V.image }),
    reason: "first deploy",
  });
  const CANARY_STARTED = releaseMove({
    action: "canary_started",
    from: state({ stable: V, retained: [R], built: V.image }),
    to: state({ stable: V, canary: W, retained: [R], built: W.image }),
    weight: 20,
  });
  const CANARY_CHANGED = releaseMove({
    action: "canary_changed",
    from: state({ stable: V, canary: W, retained: [R], built: W.image }),
    to: state({ stable: V, canary: X, retained: [R], built: X.image }),
    weight: 20,
  });
  const CANARY_ABORTED = releaseMove({
    action: "canary_aborted",
    from: state({ stable: V, canary: W, retained: [R], built: W.image }),
    to: state({ stable: V, retained: [R], built: "swiftdeploy/app:1.0.0-bbbbbbbb" }),
  });
  const PROMOTION = releaseMove({
    action: "canary_promoted",
    from: state({ stable: V, canary: W, retained: [R], built: W.image }),
    to: state({ stable: W, retained: [V, R], built: W.image }),
    judgement: "canary",
  });
  const PROMOTION_WITHOUT_BASELINE = releaseMove({
    action: "canary_promoted",
    from: state({ canary: W, built: W.image }),
    to: state({ stable: W, built: W.image }),
    judgement: "canary",
  });
  const UNJUDGED = releaseMove({
    action: "release_unjudged",
    from: state({ stable: V, retained: [R], built: V.image }),
    to: state({ stable: X, retained: [V, R], built: X.image }),
    judgement: "release",
    reason: "1.2.0 has not run as a canary",
  });
  const UNJUDGED_AFTER_CANARY_ONLY = releaseMove({
    action: "release_unjudged",
    from: state({ canary: W, built: W.image }),
    to: state({ stable: X, built: X.image }),
    judgement: "release",
    reason: "1.2.0 has not run as a canary",
  });
  const ROLLBACK = releaseMove({
    action: "rolled_back",
    from: state({ stable: V, retained: [R], built: V.image }),
    to: state({ stable: R, retained: [V], built: "swiftdeploy/app:0.9.0-aaaaaaaa" }),
    judgement: "release",
    reason: "rollback from 1.0.0",
  });

  const historyFile = () => path.join(dir, "history.jsonl");

  const inputs = (
    move: ReleaseMove,
    socketPath: string,
    observed: CanaryGateInputs["observed"] = { stable: [], canary: [] },
  ): CanaryGateInputs => ({
    move,
    observed,
    windowSeconds: 1,
    opaSocket: socketPath,
    timeoutMs: 2000,
    historyFile: historyFile(),
    stack: "unit",
  });

  /** What the gate recorded after its last update: the state it let through and its last verdict. */
  const recorded = (s: ReleaseState, verdict: CanaryVerdict | null = null): Partial<CanaryGateOutputs> => ({
    state: s,
    verdict,
  });

  /** The same state with every object's keys in another order, as Pulumi may hand it back. */
  const reordered = (s: ReleaseState) => {
    const flip = (r: Release | null) => (r === null ? null : { image: r.image, version: r.version });
    return {
      built: s.built,
      retained: s.retained.map(flip),
      canary: flip(s.canary),
      stable: flip(s.stable),
    } as unknown as ReleaseState;
  };

  /** An earlier promotion's verdict, kept by moves that judge nothing. */
  const EARLIER_VERDICT = { allow: true, decisionId: "d-earlier" } as CanaryVerdict;

  /** The release events of history.jsonl, without the fields the writer adds. */
  const releaseEvents = () =>
    readHistory(historyFile())
      .events.filter((e) => e.type === "release")
      .map(({ v: _v, ts: _ts, ...event }) => event);

  const eventTypes = () => readHistory(historyFile()).events.map((e) => e.type);

  /** The error a promise rejects with. */
  const rejection = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error("expected a rejection");
  };

  describe("diff", () => {
    it("sees nothing to do when its record is where the move goes, whatever the key order, replicas or window", async () => {
      const news = {
        ...inputs(PROMOTION, "s", { stable: ["http://127.0.0.1:2"], canary: ["http://127.0.0.1:3"] }),
        windowSeconds: 60,
      };
      expect(await canaryGateProvider.diff!("id", recorded(reordered(PROMOTION.to)), news)).toEqual({
        changes: false,
      });
    });

    it.each([
      ["the release moves", PROMOTION.from, PROMOTION],
      ["a canary starts", CANARY_STARTED.from, CANARY_STARTED],
      ["only service/'s build moves", { ...PROMOTION.to, built: V.image }, PROMOTION],
      ["its record predates the release state (a gate of the mode-based model)", undefined, FIRST_STABLE],
    ])("sees a change when %s", async (_what, s, move) => {
      const olds = s === undefined ? { mode: "canary", adminUrls: [] } : recorded(s);
      expect(await canaryGateProvider.diff!("id", olds, inputs(move, "s"))).toEqual({ changes: true });
    });
  });

  describe("a move that needs no decision", () => {
    it("starts the first canary on create, records it and asks no OPA", async () => {
      const opa = await fakeOpa(ALLOW);
      const { id, outs } = await canaryGateProvider.create(inputs(FIRST_CANARY, opa.socketPath));
      expect(id).toBe("canary-gate");
      expect(outs).toMatchObject({ state: FIRST_CANARY.to, mode: "canary", verdict: null });
      expect(opa.inputs).toEqual([]);
      expect(releaseEvents()).toEqual([
        {
          stack: "unit",
          type: "release",
          action: "canary_started",
          allowed: true,
          version: "1.0.0",
          stable_version: null,
          canary_version: null,
          to_stable: null,
          to_canary: "1.0.0",
          weight: null,
          judgement: null,
        },
      ]);
    });

    it("names the weight the canary ran with (its last move's) when an abort ends it", async () => {
      const opa = await fakeOpa(ALLOW);
      const olds = { ...recorded(CANARY_ABORTED.from), move: CANARY_STARTED };
      await canaryGateProvider.update!("id", olds, inputs(CANARY_ABORTED, opa.socketPath));
      expect(releaseEvents()).toEqual([expect.objectContaining({ action: "canary_aborted", weight: 20 })]);
    });

    it("lets the first deploy in mode stable through unjudged, recording why", async () => {
      const opa = await fakeOpa(ALLOW);
      const { outs } = await canaryGateProvider.create(inputs(FIRST_STABLE, opa.socketPath));
      expect(outs).toMatchObject({ state: FIRST_STABLE.to, mode: "stable", verdict: null });
      expect(opa.inputs).toEqual([]);
      expect(releaseEvents()).toEqual([
        expect.objectContaining({
          action: "release_unjudged",
          allowed: true,
          version: "1.0.0",
          to_stable: "1.0.0",
          judgement: null,
          reason: "first deploy",
        }),
      ]);
    });

    it.each([
      [
        "starts a canary beside stable",
        CANARY_STARTED,
        { version: "1.1.0", stable_version: "1.0.0", canary_version: null, to_canary: "1.1.0", weight: 20 },
      ],
      [
        "changes the canary",
        CANARY_CHANGED,
        {
          version: "1.2.0",
          stable_version: "1.0.0",
          canary_version: "1.1.0",
          to_canary: "1.2.0",
          weight: 20,
        },
      ],
      [
        "aborts the canary, recording the aborted canary's version",
        CANARY_ABORTED,
        { version: "1.1.0", stable_version: "1.0.0", canary_version: "1.1.0", to_canary: null, weight: null },
      ],
    ])("%s without asking OPA, keeping the last verdict", async (_what, move, versions) => {
      const opa = await fakeOpa(ALLOW);
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(move.from, EARLIER_VERDICT),
        inputs(move, opa.socketPath),
      );
      expect(outs).toMatchObject({ state: move.to, mode: move.runningMode, verdict: EARLIER_VERDICT });
      expect(opa.inputs).toEqual([]);
      expect(releaseEvents()).toEqual([
        {
          stack: "unit",
          type: "release",
          action: move.action,
          allowed: true,
          to_stable: "1.0.0",
          judgement: null,
          ...versions,
        },
      ]);
    });

    it("takes a new build of the same release without deciding or recording", async () => {
      const opa = await fakeOpa(ALLOW);
      const same = state({ stable: R, retained: [V] });
      const move = releaseMove({
        action: "none",
        from: { ...same, built: "swiftdeploy/app:0.9.0-aaaaaaaa" },
        to: { ...same, built: "swiftdeploy/app:0.9.0-cccccccc" },
      });
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(move.from),
        inputs(move, opa.socketPath),
      );
      expect(outs.state.built).toBe("swiftdeploy/app:0.9.0-cccccccc");
      expect(opa.inputs).toEqual([]);
      expect(eventTypes()).toEqual([]);
    });
  });

  describe("a promotion", () => {
    it("asks OPA about the window's public traffic of the canary against stable's, each summed over its replicas", async () => {
      const opa = await fakeOpa(ALLOW);
      const canaryCounts = { requests: 10, errors: 0 };
      const stableCounts = [
        { requests: 20, errors: 0 },
        { requests: 20, errors: 1 },
      ];
      const observed = {
        canary: [await fakeReplica(canaryCounts)],
        stable: [await fakeReplica(stableCounts[0], "slow"), await fakeReplica(stableCounts[1], "slow")],
      };
      // Traffic during the window: 30 canary requests (3 errors); 50 (1 error) and 25 on the stable replicas.
      setTimeout(() => {
        Object.assign(canaryCounts, { requests: 40, errors: 3 });
        Object.assign(stableCounts[0], { requests: 70, errors: 1 });
        Object.assign(stableCounts[1], { requests: 45, errors: 1 });
      }, 300);
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(PROMOTION.from, EARLIER_VERDICT),
        inputs(PROMOTION, opa.socketPath, observed),
      );

      const facts = {
        window_seconds: 1,
        canary: { version: "1.1.0", requests: 30, errors: 3, error_rate_percent: 10, p99_latency_ms: 99 },
        stable: { version: "1.0.0", requests: 75, errors: 1, error_rate_percent: 1.33, p99_latency_ms: 496 },
      };
      expect(opa.paths).toEqual(["/v1/data/swiftdeploy/canary/decision"]);
      expect(opa.inputs).toEqual([facts]);
      expect(outs).toMatchObject({
        state: PROMOTION.to,
        mode: "stable",
        verdict: { allow: true, violations: [], checks: [], notes: [], decisionId: "d-123", facts },
      });
      expect(outs.verdict.overheadMs).toBeLessThan(1000);
      const [gate, release] = readHistory(historyFile()).events;
      expect(gate).toMatchObject({ type: "gate", gate: "canary", input: facts, decision_id: "d-123" });
      expect(gate.overhead_ms).toEqual(expect.any(Number));
      const { v: _v, ts: _ts, ...event } = release;
      expect(event).toEqual({
        stack: "unit",
        type: "release",
        action: "canary_promoted",
        allowed: true,
        version: "1.1.0",
        stable_version: "1.0.0",
        canary_version: "1.1.0",
        to_stable: "1.1.0",
        to_canary: null,
        weight: null,
        judgement: "canary",
        decision_id: "d-123",
      });
    });

    it("judges the canary alone when no version has been stable yet, scraping no stable replica", async () => {
      const notes = ["No stable baseline: judged on the absolute rules only"];
      const opa = await fakeOpa({ ...ALLOW, notes });
      const counts = { requests: 5, errors: 0 };
      // A stable replica would fail the scrape: only the canary is observed.
      const observed = { canary: [await fakeReplica(counts)], stable: [await goneReplica()] };
      setTimeout(() => Object.assign(counts, { requests: 25, errors: 0 }), 300);
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(PROMOTION_WITHOUT_BASELINE.from),
        inputs(PROMOTION_WITHOUT_BASELINE, opa.socketPath, observed),
      );
      expect(opa.inputs).toEqual([
        {
          window_seconds: 1,
          canary: { version: "1.1.0", requests: 20, errors: 0, error_rate_percent: 0, p99_latency_ms: 99 },
        },
      ]);
      expect(outs).toMatchObject({
        state: PROMOTION_WITHOUT_BASELINE.to,
        mode: "stable",
        verdict: { notes },
      });
      expect(releaseEvents()).toEqual([
        expect.objectContaining({ action: "canary_promoted", allowed: true, stable_version: null }),
      ]);
    });

    it("refuses with OPA's violations and how to go on, records the refusal and leaves its record", async () => {
      const violation =
        "Canary error rate (10.00%) exceeds stable (1.33%) by 8.67 points; at most 1.00 allowed";
      const opa = await fakeOpa({ ...DENY, violations: [violation] });
      const observed = {
        canary: [await fakeReplica({ requests: 0, errors: 0 })],
        stable: [await fakeReplica({ requests: 0, errors: 0 })],
      };
      const olds = recorded(PROMOTION.from, EARLIER_VERDICT);
      const news = inputs(PROMOTION, opa.socketPath, observed);
      const err = await rejection(canaryGateProvider.update!("id", olds, news));
      const message = [
        "[OPA/CANARY] Policy FAILED (decision d-123)",
        `  - ${violation}`,
        "Nothing changed: 1.1.0 keeps running as the canary. To retry, run `pulumi up` again (a new window is " +
          "observed); to abort, set service.version back to 1.0.0 (mode canary) and run `pulumi up`.",
      ].join("\n");
      expect(err.message).toBe(message);
      expect(eventTypes()).toEqual(["gate", "release"]);
      expect(releaseEvents()).toEqual([
        expect.objectContaining({
          action: "canary_promoted",
          allowed: false,
          version: "1.1.0",
          decision_id: "d-123",
          reason: message,
        }),
      ]);
      // Pulumi keeps the olds of a failed update: the record is unchanged, and the retry decides again.
      expect(olds).toEqual(recorded(PROMOTION.from, EARLIER_VERDICT));
      expect(await canaryGateProvider.diff!("id", olds, news)).toEqual({ changes: true });
    });

    it("offers no abort when the canary is the only set", async () => {
      const opa = await fakeOpa({ ...DENY, violations: ["Only 0 requests in the last 1s"] });
      const observed = { canary: [await fakeReplica({ requests: 0, errors: 0 })], stable: [] };
      const err = await rejection(
        canaryGateProvider.update!(
          "id",
          recorded(PROMOTION_WITHOUT_BASELINE.from),
          inputs(PROMOTION_WITHOUT_BASELINE, opa.socketPath, observed),
        ),
      );
      expect(err.message.split("\n").at(-1)).toBe(
        "Nothing changed: 1.1.0 keeps running as the canary. To retry, run `pulumi up` again (a new window is observed).",
      );
    });

    it("refuses when no canary container runs to be observed, and asks no OPA", async () => {
      const opa = await fakeOpa(ALLOW);
      const observed = { canary: [], stable: [await fakeReplica({ requests: 0, errors: 0 })] };
      const update = canaryGateProvider.update!(
        "id",
        recorded(PROMOTION.from),
        inputs(PROMOTION, opa.socketPath, observed),
      );
      const message =
        "[CANARY] no running canary container to observe (expected 1.1.0); run `pulumi up` in mode canary first";
      expect((await rejection(update)).message).toBe(message);
      expect(opa.inputs).toEqual([]);
      expect(releaseEvents()).toEqual([
        expect.objectContaining({ action: "canary_promoted", allowed: false, reason: message }),
      ]);
    });

    it("refuses when no stable container runs to be observed, rather than judge the canary alone", async () => {
      const opa = await fakeOpa(ALLOW);
      const observed = { canary: [await fakeReplica({ requests: 100, errors: 0 })], stable: [] };
      const update = canaryGateProvider.update!(
        "id",
        recorded(PROMOTION.from),
        inputs(PROMOTION, opa.socketPath, observed),
      );
      const message =
        "[CANARY] no running stable container to observe (expected 1.0.0); is the stable set running?";
      expect((await rejection(update)).message).toBe(message);
      expect(opa.inputs).toEqual([]);
      expect(releaseEvents()).toEqual([
        expect.objectContaining({ action: "canary_promoted", allowed: false, reason: message }),
      ]);
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
          const observed = { canary: [await fakeReplica({ requests: 30, errors: 0 })], stable: [] };
          const update = canaryGateProvider.update!("id", recorded(PROMOTION_WITHOUT_BASELINE.from), {
            ...inputs(PROMOTION_WITHOUT_BASELINE, socketPath, observed),
            timeoutMs: 300,
          });
          expect((await rejection(update)).message).toMatch(message);
          const events = readHistory(historyFile()).events;
          expect(events.map((e) => e.type)).toEqual(["gate", "release"]);
          expect(events[0]).toMatchObject({
            gate: "canary",
            result: null,
            decision_id: null,
            error_kind: kind,
            input: { window_seconds: 1, canary: { version: "1.1.0", requests: 0 } },
          });
          expect(`[OPA/CANARY] no decision: ${String(events[0].error)}`).toMatch(message);
          expect(events[1]).toMatchObject({ action: "canary_promoted", allowed: false });
          expect(events[1]).not.toHaveProperty("decision_id");
          expect(String(events[1].reason)).toMatch(message);
        },
      );
    });

    describe("when a replica's /metrics cannot be used", () => {
      const failures = [
        [
          "refused",
          goneReplica,
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
        async (_what, start, kind, message) => {
          const opa = await fakeOpa(ALLOW);
          const url = await start();
          const observed = { canary: [url], stable: [await fakeReplica({ requests: 0, errors: 0 })] };
          const update = canaryGateProvider.update!(
            "id",
            recorded(PROMOTION.from),
            inputs(PROMOTION, opa.socketPath, observed),
          );
          expect((await rejection(update)).message).toBe(message(url));
          expect(opa.inputs).toEqual([]);
          const events = readHistory(historyFile()).events;
          expect(events.map((e) => e.type)).toEqual(["scrape_failed", "release"]);
          expect(events[0]).toMatchObject({
            gate: "canary",
            url: `${url}/metrics`,
            at: "window_start",
            ...kind,
          });
          expect(events[1]).toMatchObject({
            action: "canary_promoted",
            allowed: false,
            reason: message(url),
          });
        },
      );

      it("names the stable replica that failed at the end of the window", async () => {
        const opa = await fakeOpa(ALLOW);
        const canary = await fakeReplica({ requests: 5, errors: 0 });
        const stable = await fakeReplica({ requests: 5, errors: 0 });
        const server = servers.at(-1)!;
        setTimeout(() => {
          server.closeAllConnections();
          server.close();
        }, 300);
        const update = canaryGateProvider.update!(
          "id",
          recorded(PROMOTION.from),
          inputs(PROMOTION, opa.socketPath, { canary: [canary], stable: [stable] }),
        );
        expect((await rejection(update)).message).toBe(
          `[CANARY] cannot scrape ${stable}/metrics (ECONNREFUSED): is the app running?`,
        );
        const events = readHistory(historyFile()).events;
        expect(events.map((e) => e.type)).toEqual(["scrape_failed", "release"]);
        expect(events[0]).toMatchObject({ url: `${stable}/metrics`, at: "window_end", kind: "unreachable" });
        expect(opa.inputs).toEqual([]);
      });
    });
  });

  describe("a release without the canary judgement", () => {
    it.each([
      [
        "a version that never ran as a canary",
        UNJUDGED,
        { action: "unjudged", version: "1.2.0", stable_version: "1.0.0", retained_versions: ["0.9.0"] },
      ],
      [
        "a version over a canary-only set",
        UNJUDGED_AFTER_CANARY_ONLY,
        { action: "unjudged", version: "1.2.0", stable_version: null, retained_versions: [] },
      ],
      [
        "a rollback",
        ROLLBACK,
        { action: "rollback", version: "0.9.0", stable_version: "1.0.0", retained_versions: ["0.9.0"] },
      ],
    ])("asks the release policy about %s and records its decision", async (_what, move, facts) => {
      const opa = await fakeOpa(ALLOW);
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(move.from, EARLIER_VERDICT),
        inputs(move, opa.socketPath),
      );
      expect(opa.paths).toEqual(["/v1/data/swiftdeploy/release/decision"]);
      expect(opa.inputs).toEqual([facts]);
      expect(outs).toMatchObject({ state: move.to, mode: "stable", verdict: EARLIER_VERDICT });
      expect(eventTypes()).toEqual(["gate", "release"]);
      expect(readHistory(historyFile()).events[0]).toMatchObject({ gate: "release", input: facts });
      expect(releaseEvents()).toEqual([
        {
          stack: "unit",
          type: "release",
          action: move.action,
          allowed: true,
          version: facts.version,
          stable_version: facts.stable_version,
          canary_version: move.from.canary?.version ?? null,
          to_stable: facts.version,
          to_canary: null,
          weight: null,
          judgement: "release",
          reason: move.reason,
          decision_id: "d-123",
        },
      ]);
    });

    it("refuses with the release policy's violations and records the refusal", async () => {
      const violation = "1.2.0 has not run as a canary: set mode canary, pulumi up, then promote";
      const opa = await fakeOpa({ ...DENY, violations: [violation] });
      const update = canaryGateProvider.update!(
        "id",
        recorded(UNJUDGED.from),
        inputs(UNJUDGED, opa.socketPath),
      );
      const message = `[OPA/RELEASE] Policy FAILED (decision d-123)\n  - ${violation}\nNothing changed.`;
      expect((await rejection(update)).message).toBe(message);
      expect(releaseEvents()).toEqual([
        expect.objectContaining({
          action: "release_unjudged",
          allowed: false,
          judgement: "release",
          decision_id: "d-123",
          reason: message,
        }),
      ]);
    });
  });

  describe("its record", () => {
    it("lets a move it already let through carry on without deciding again", async () => {
      const opa = await fakeOpa(ALLOW);
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(reordered(PROMOTION.to), EARLIER_VERDICT),
        inputs(PROMOTION, opa.socketPath),
      );
      expect(outs).toMatchObject({ state: PROMOTION.to, mode: "stable", verdict: EARLIER_VERDICT });
      expect(opa.inputs).toEqual([]);
      expect(eventTypes()).toEqual([]);
    });

    it("keeps the state each move started from beside the state it let through", async () => {
      const { outs } = await canaryGateProvider.update!(
        "id",
        recorded(CANARY_STARTED.from),
        inputs(CANARY_STARTED, path.join(dir, "none.sock")),
      );
      expect(outs).toMatchObject({ state: CANARY_STARTED.to, previous: CANARY_STARTED.from });
    });

    it("carries on from the stack's outputs when an update stopped after the gate left them behind", async () => {
      // The gate let the canary 1.1.0 start; that update failed later, so the stack's outputs still say
      // stable 1.0.0 alone. The next update starts from there, asking for 1.2.0.
      const move = releaseMove({
        action: "canary_started",
        from: CANARY_STARTED.from,
        to: state({ stable: V, canary: X, retained: [R], built: X.image }),
        weight: 20,
      });
      const olds = { ...recorded(CANARY_STARTED.to), previous: CANARY_STARTED.from };
      const { outs } = await canaryGateProvider.update!(
        "id",
        olds,
        inputs(move, path.join(dir, "none.sock")),
      );
      expect(outs).toMatchObject({ state: move.to, previous: move.from });
      expect(releaseEvents()).toEqual([
        expect.objectContaining({ action: "canary_started", version: "1.2.0" }),
      ]);
    });

    it("refuses a move from a state it never recorded, naming both, and decides nothing", async () => {
      const opa = await fakeOpa(ALLOW);
      const olds = recorded(state({ stable: V, canary: X, retained: [R], built: X.image }));
      const update = canaryGateProvider.update!("id", olds, inputs(PROMOTION, opa.socketPath));
      expect((await rejection(update)).message).toBe(
        "[RELEASE] the stack's last outputs (stable 1.0.0, canary 1.1.0) and the canary gate's record " +
          "(stable 1.0.0, canary 1.2.0) disagree, and no interrupted update explains it (was the state edited or " +
          "imported?). Export the stack (`pulumi stack export`) to see both; to start over, `pulumi destroy` " +
          "and `pulumi up` again.",
      );
      expect(opa.inputs).toEqual([]);
      expect(eventTypes()).toEqual([]);
    });

    it("refuses a first move that does not start from nothing", async () => {
      const err = await rejection(canaryGateProvider.create(inputs(PROMOTION, path.join(dir, "none.sock"))));
      expect(err.message).toMatch(
        /^\[RELEASE\] the stack's last outputs \(stable 1\.0\.0, canary 1\.1\.0\) and the canary gate's record \(stable none, canary none\) disagree/,
      );
    });
  });
});
