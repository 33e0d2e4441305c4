// What the rollout step reads from and does to the running nginx and the Docker engine: the docker CLI for
// what changes (exec, signals), the engine's socket for what it reads, the config as nginx gets it (upstreams
// by address), its workers by state, and the admin listeners as Docker publishes them now. Bundled with
// ingress-config-provider.ts into the dynamic-provider host.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { containerAddresses, publishedPort } from "../lib/docker-engine";
import type { AdminTarget } from "../lib/types";

/** One Prometheus file_sd group: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config */
export interface ScrapeTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export type { AdminTarget };

/** An app container's admin listener: the container port Docker publishes on 127.0.0.1, and its labels. */
export interface AdminListener {
  container: string;
  port: number;
  /** Prometheus labels of its scrape target. */
  labels: Record<string, string>;
}

export function docker(args: string[]): Promise<{ ok: boolean; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile("docker", args, { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({
        ok: !err,
        stdout: stdout.trim(),
        output: `${stderr}${stdout}`.trim() || (err?.message ?? ""),
      }),
    );
  });
}

export function writeAtomically(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content);
  // Whatever the umask: nginx reads its config as an unprivileged user.
  fs.chmodSync(temp, 0o644);
  fs.renameSync(temp, file);
}

/** GET over a fresh connection (a new one reaches a new worker); status and body, or what went wrong. */
export function fetchFresh(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(`HTTP ${res.statusCode} ${body.trim()}`));
      res.on("error", (err) => resolve(err.message));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
  });
}

/** What /nginx-health answers once nginx serves config `configId` (templates/nginx.conf.liquid). */
export function servedAnswer(configId: string): string {
  return `HTTP 200 ok ${configId}`;
}

/**
 * nginx's worker processes by state, from their process titles: `active` pids serve new connections,
 * `old` ones are shutting down after a reload and still finish the requests they hold.
 */
const WORKERS_SCRIPT =
  "for f in /proc/[0-9]*/cmdline; do t=$({ tr '\\0' ' ' < \"$f\"; } 2>/dev/null); " +
  'case "$t" in "nginx: worker process is shutting down"*) echo "old";; ' +
  '"nginx: worker process"*) p=${f#/proc/}; echo "active ${p%/cmdline}";; esac; done';

export async function workers(container: string): Promise<{ active: string[]; old: number } | string> {
  const ps = await docker(["exec", container, "sh", "-c", WORKERS_SCRIPT]);
  if (!ps.ok) return ps.output;
  const lines = ps.stdout.split("\n").filter(Boolean);
  return {
    active: lines.filter((l) => l.startsWith("active ")).map((l) => l.slice(7)),
    old: lines.filter((l) => l === "old").length,
  };
}

/** Each upstream container's address, as the engine reports it now ("" for one that is missing or stopped). */
export async function addressesOf(names: string[]): Promise<string[]> {
  return Promise.all(
    names.map(async (name) => Object.values((await containerAddresses(name)) ?? {}).find(Boolean) ?? ""),
  );
}

/**
 * The config as nginx gets it: each upstream container named by its address, the name kept in a comment.
 * nginx resolves upstream names only when it loads a config, and refuses to load one whose name does not
 * resolve: with addresses, a restarted nginx always loads what was applied, even while a replica is down.
 */
export function withAddresses(config: string, upstreams: string[], addresses: string[]): string {
  const addressOf = new Map(upstreams.map((name, i) => [name, addresses[i]]));
  return config.replace(
    /^(\s*)server ([^\s:]+):(\d+);$/gm,
    (line, indent: string, name: string, port: string) => {
      if (!addressOf.has(name)) return line;
      const address = addressOf.get(name);
      if (!address)
        throw new Error(`upstream container ${name} is not running (it has no address on its network)`);
      return `${indent}server ${address}:${port};  # ${name}`;
    },
  );
}

/**
 * The admin listeners as Docker publishes them now: their URLs, and the file_sd text Prometheus reads. A
 * listener Docker does not publish (its container is restarting) is left out until the next `pulumi up`.
 */
export async function liveTargets(
  admins: AdminListener[],
): Promise<{ adminUrls: string[]; adminTargets: AdminTarget[]; targetsText: string }> {
  const found = await Promise.all(admins.map((a) => publishedPort(a.container, a.port)));
  const live = admins.flatMap((a, i) =>
    found[i].hostPort === null ? [] : [{ ...a, hostPort: found[i].hostPort }],
  );
  const groups: ScrapeTargetGroup[] = live.map((a) => ({
    targets: [`127.0.0.1:${a.hostPort}`],
    labels: a.labels,
  }));
  return {
    adminUrls: live.map((a) => `http://127.0.0.1:${a.hostPort}`),
    adminTargets: live.map((a) => ({ url: `http://127.0.0.1:${a.hostPort}`, labels: a.labels })),
    targetsText: `${JSON.stringify(groups, null, 2)}\n`,
  };
}
