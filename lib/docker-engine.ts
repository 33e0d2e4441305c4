// Reads from the Docker Engine API over its Unix socket: a few milliseconds where a `docker` CLI process
// costs ~40 ms of CPU, which counts on every `pulumi up` (the program and the rollout step's diff ask on
// each run). Reads only; everything that changes Docker goes through the provider or the CLI.
import * as http from "node:http";

/** The engine's socket: DOCKER_HOST when it names a Unix socket, else Docker's default. */
export function dockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === "") return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length);
  throw new Error(`DOCKER_HOST=${host}: SwiftDeploy reads the engine over a Unix socket (unix:///path) only`);
}

/** GET <path> from the engine; the parsed JSON, or null for 404 (no such container). */
export function dockerGet<T>(path: string, timeoutMs = 5000, socketPath = dockerSocket()): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        if (res.statusCode === 404) return resolve(null);
        if (res.statusCode !== 200) {
          return reject(
            new Error(`Docker engine: GET ${path} answered HTTP ${res.statusCode}: ${body.trim()}`),
          );
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new Error(`Docker engine: GET ${path} answered no JSON: ${body.slice(0, 200)}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) =>
      reject(new Error(`Docker engine at ${socketPath}: ${err.message}: is the engine running?`)),
    );
  });
}

/** What the engine lists for a container (the fields SwiftDeploy reads). */
export interface ListedContainer {
  Names: string[];
  State: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  /** Absent in the engine's answer only for a container without labels (never one of the stack's). */
  Labels?: Record<string, string>;
}

/** Containers carrying every one of `labels`, running ones only unless `all`. */
export function containersByLabels(labels: Record<string, string>, all = false): Promise<ListedContainer[]> {
  const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const path = `/containers/json?all=${all ? 1 : 0}&filters=${encodeURIComponent(filters)}`;
  return dockerGet<ListedContainer[]>(path).then((list) => list ?? []);
}

/** A container's address on each of its networks, by network name; null when there is no such container. */
export async function containerAddresses(name: string): Promise<Record<string, string> | null> {
  const info = await dockerGet<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>(
    `/containers/${encodeURIComponent(name)}/json`,
  );
  if (info === null) return null;
  return Object.fromEntries(Object.entries(info.NetworkSettings.Networks).map(([n, v]) => [n, v.IPAddress]));
}

/**
 * Where Docker published a container's `port`/tcp on 127.0.0.1 now, and the container's state. Docker picks a
 * new host port each time it restarts a container, so this is asked, never remembered.
 */
export async function publishedPort(
  container: string,
  port: number,
): Promise<{ hostPort: number | null; state: string }> {
  const info = await dockerGet<{
    State: { Status: string; ExitCode: number };
    NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  }>(`/containers/${encodeURIComponent(container)}/json`);
  if (info === null) return { hostPort: null, state: "no such container" };
  const bindings = info.NetworkSettings.Ports?.[`${port}/tcp`] ?? [];
  const binding = bindings.find((b) => b.HostIp === "127.0.0.1");
  const state =
    info.State.Status === "running" ? "running" : `${info.State.Status} (exit code ${info.State.ExitCode})`;
  return { hostPort: binding ? Number(binding.HostPort) : null, state };
}
