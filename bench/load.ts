// A bounded HTTP load through the ingress, for the "changes under load" bench and the rollout tests: some
// clients keep their connection alive, others open a new one per request, and every answer that is not a
// 2xx (or no answer at all) counts as a failed request. Bounded by a deadline (and optionally a count).
//
// One retry is part of HTTP itself: a request sent on a kept-alive connection that the server closed at
// that moment (nginx closes idle connections when it reloads) never reached it, and RFC 9112 §9.3.1 lets a
// client resend it; Node's documentation asks callers to do so (`request.reusedSocket`). Such resends are
// counted apart (`resent`), never as successes of a request that failed.
import * as http from "node:http";

export interface LoadOptions {
  /** e.g. http://127.0.0.1:8081/ */
  url: string;
  /** Clients reusing one kept-alive connection each. */
  keepAliveClients: number;
  /** Clients opening a new connection for every request. */
  freshClients: number;
  /** Hard bound: the load stops after this long even if nobody stops it. */
  maxSeconds: number;
  /** Pause between a client's requests, in ms (0: as fast as answers come). */
  pauseMs?: number;
}

export interface LoadResult {
  requests: number;
  failures: number;
  /** Requests resent once because a kept-alive connection closed under them before any answer. */
  resent: number;
  /** What failed, by kind ("HTTP 502", "ECONNREFUSED", ...), with counts. */
  failuresByKind: Record<string, number>;
  /** Time from the first to the last request, in ms. */
  durationMs: number;
  /** When each failure happened, ms after the start (the first 20). */
  failureTimesMs: number[];
}

export interface RunningLoad {
  /** Stops the clients after their current request and resolves with the counts. */
  stop(): Promise<LoadResult>;
}

type Outcome = { ok: true } | { ok: false; kind: string; stale: boolean };

function get(url: string, agent: http.Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 20_000 }, (res) => {
      res.resume();
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300 ? { ok: true } : { ok: false, kind: `HTTP ${status}`, stale: false },
        );
      });
      res.on("error", (err) => resolve({ ok: false, kind: err.message, stale: false }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const kind = err.code ?? err.message;
      resolve({ ok: false, kind, stale: req.reusedSocket && (kind === "ECONNRESET" || kind === "EPIPE") });
    });
  });
}

export function startLoad(opts: LoadOptions): RunningLoad {
  const started = Date.now();
  const deadline = started + opts.maxSeconds * 1000;
  const result: LoadResult = {
    requests: 0,
    failures: 0,
    resent: 0,
    failuresByKind: {},
    durationMs: 0,
    failureTimesMs: [],
  };
  let stopping = false;

  async function client(keepAlive: boolean): Promise<void> {
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    try {
      while (!stopping && Date.now() < deadline) {
        let outcome = await get(opts.url, agent);
        if (!outcome.ok && outcome.stale) {
          result.resent++;
          outcome = await get(opts.url, agent);
        }
        result.requests++;
        if (!outcome.ok) {
          result.failures++;
          result.failuresByKind[outcome.kind] = (result.failuresByKind[outcome.kind] ?? 0) + 1;
          if (result.failureTimesMs.length < 20) result.failureTimesMs.push(Date.now() - started);
        }
        if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
      }
    } finally {
      if (agent) agent.destroy();
    }
  }

  const clients = [
    ...Array.from({ length: opts.keepAliveClients }, () => client(true)),
    ...Array.from({ length: opts.freshClients }, () => client(false)),
  ];
  return {
    async stop() {
      stopping = true;
      await Promise.all(clients);
      result.durationMs = Date.now() - started;
      return result;
    },
  };
}
