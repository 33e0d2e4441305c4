// Readiness probes run from the host: `pulumi up` waits until every container it (re)created answers its
// health route, through the 127.0.0.1-published port or OPA's Unix socket, polling every 100 ms. Docker's
// own healthcheck stays the steady-state supervisor with a relaxed interval; Docker 20.10 runs its first
// probe only one interval after start, so waiting on its status would cost a full interval per container.
// It is also the readiness provider, run in the dynamic-provider host (components/providers.ts bundles this
// module with esbuild into each Readiness resource's __provider).
import type * as pulumi from "@pulumi/pulumi";
import * as http from "node:http";
import { publishedPort } from "../lib/docker-engine";

export interface Probe {
  /** What answers, for messages: "app-0", "nginx", "opa". */
  name: string;
  /** http://127.0.0.1:<port>/<route>, or http://localhost/<route> with `socketPath`. */
  url: string;
  /** Unix socket to send the request through (OPA), instead of the URL's host and port. */
  socketPath?: string;
  /**
   * A container port Docker publishes on 127.0.0.1 at a port it picks, again at every restart: the URL's port
   * is looked up from the engine for each probe (the URL is then http://127.0.0.1/<route>).
   */
  published?: { container: string; port: number };
}

export interface ProbeResult {
  ok: boolean;
  /** "200", "503", "ECONNREFUSED", "timeout after 1000 ms", ... */
  detail: string;
}

/** One GET; 2xx is ready. Never throws. */
export async function probeOnce(probe: Probe, timeoutMs: number): Promise<ProbeResult> {
  if (!probe.published) return probeUrl(probe, timeoutMs);
  const { container, port } = probe.published;
  let found: Awaited<ReturnType<typeof publishedPort>>;
  try {
    found = await publishedPort(container, port);
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
  if (found.hostPort === null) {
    return {
      ok: false,
      detail: `${container} publishes no ${port}/tcp now: ${found.state}, see \`docker logs ${container}\``,
    };
  }
  const url = new URL(probe.url);
  url.port = String(found.hostPort);
  return probeUrl({ ...probe, url: url.toString() }, timeoutMs);
}

function probeUrl(probe: Probe, timeoutMs: number): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const url = new URL(probe.url);
    const target = probe.socketPath
      ? { socketPath: probe.socketPath }
      : { host: url.hostname, port: Number(url.port || 80) };
    const req = http.request({ ...target, method: "GET", path: url.pathname, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      res.on("end", () => settle({ ok: status >= 200 && status < 300, detail: `HTTP ${status}` }));
      res.on("error", (err) =>
        settle({ ok: false, detail: (err as NodeJS.ErrnoException).code ?? err.message }),
      );
    });
    timer = setTimeout(() => {
      settle({ ok: false, detail: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("error", (err) =>
      settle({ ok: false, detail: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end();
  });
}

/** Where a probe is sent, for messages. */
function probeTarget(probe: Probe): string {
  if (probe.socketPath) return `${probe.url} via unix socket ${probe.socketPath}`;
  if (probe.published) {
    const url = new URL(probe.url);
    return `${url.origin}:<${probe.published.container}'s ${probe.published.port}/tcp>${url.pathname}`;
  }
  return probe.url;
}

export interface ReadinessOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between two rounds of probes, in ms. */
  intervalMs: number;
}

/**
 * Probes until every probe has answered 2xx once; resolves with the ms it took, or rejects naming each
 * probe still not ready and what it last answered.
 */
export async function waitUntilReady(probes: Probe[], opts: ReadinessOptions): Promise<number> {
  const started = Date.now();
  let pending = probes;
  let last = new Map<Probe, ProbeResult>();
  for (;;) {
    const results = await Promise.all(
      pending.map((p) => probeOnce(p, Math.min(1000, Math.max(1, opts.timeoutMs)))),
    );
    last = new Map(pending.map((p, i) => [p, results[i]]));
    pending = pending.filter((_, i) => !results[i].ok);
    if (pending.length === 0) return Date.now() - started;
    if (Date.now() - started + opts.intervalMs >= opts.timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs));
  }
  const seconds = Math.round(opts.timeoutMs / 100) / 10;
  const lines = pending.map(
    (p) => `  ${p.name}: GET ${probeTarget(p)} -> ${last.get(p)?.detail ?? "not probed"}`,
  );
  throw new Error(
    `not ready within ${seconds} s (last answers below); see \`docker logs\`:\n${lines.join("\n")}`,
  );
}

interface ReadinessInputs {
  probes: Probe[];
  containerIds: string[];
  timeoutSeconds: number;
}

async function ready(inputs: ReadinessInputs) {
  const readyAfterMs = await waitUntilReady(inputs.probes, {
    timeoutMs: inputs.timeoutSeconds * 1000,
    intervalMs: 100,
  });
  return { ...inputs, readyAfterMs };
}

export const readinessProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: ReadinessInputs, news: ReadinessInputs) {
    const changed = (["probes", "containerIds", "timeoutSeconds"] as const).filter(
      (k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]),
    );
    return { changes: changed.length > 0 };
  },
  async create(inputs: ReadinessInputs) {
    return { id: "ready", outs: await ready(inputs) };
  },
  async update(_id: string, _olds: ReadinessInputs, news: ReadinessInputs) {
    return { outs: await ready(news) };
  },
};
