// The ingress config step's provider, run in the dynamic-provider host (components/providers.ts bundles
// this module into the resource's __provider). It is the only writer of the config nginx serves: it stages
// the new config in nginx's mounted folder, has the running nginx test it (`nginx -t` with the very binary,
// DNS and files that will serve it), moves it into place, reloads nginx gracefully (SIGHUP: a new worker
// takes new connections, the old one finishes its requests and exits) and waits until a new worker answers
// /nginx-health with the new config's id and no old worker is left. Then it rewrites the Prometheus
// file_sd targets. A config nginx refuses fails the step and leaves the running one untouched.
import type * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { containerAddresses, publishedPort } from "../lib/docker-engine";

/** Where the host folder is mounted in the nginx container (components/images/nginx/nginx-start.sh). */
export const CONFIG_DIR_IN_CONTAINER = "/etc/nginx/swiftdeploy";
export const CONFIG_FILE = "nginx.conf";
const STAGED_FILE = "nginx.conf.next";

/** One Prometheus file_sd group: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config */
export interface ScrapeTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** An app container's admin listener: the container port Docker publishes on 127.0.0.1, and its labels. */
export interface AdminListener {
  container: string;
  port: number;
  /** Prometheus labels of its scrape target. */
  labels: Record<string, string>;
}

export interface IngressConfigInputs {
  /** The nginx container's name and id (a new id: the config is applied to the new container). */
  container: string;
  containerId: string;
  /** Host folder mounted at CONFIG_DIR_IN_CONTAINER. */
  configDir: string;
  config: string;
  /** The id the config's /nginx-health answers with. */
  configId: string;
  /** The containers the config names as upstream servers: nginx resolves their names when it reloads. */
  upstreams: string[];
  /** The public /nginx-health URL, as the host reaches it. */
  healthUrl: string;
  /** Prometheus file_sd file, and the admin listeners in rotation it lists. */
  targetsFile: string;
  admins: AdminListener[];
  /** How long the reload may take to show. */
  timeoutSeconds: number;
  /** The longest an old worker may hold a request (nginx's proxy_read_timeout). */
  drainSeconds: number;
}

interface IngressConfigOutputs extends IngressConfigInputs {
  /** The upstream containers' addresses the applied config names. */
  addresses: string[];
  /** The admin listeners' URLs on the host, as Docker published them when the step last ran. */
  adminUrls: string[];
  /** How long the reload took to show, in ms. */
  reloadMs: number;
}

function docker(args: string[]): Promise<{ ok: boolean; stdout: string; output: string }> {
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

function writeAtomically(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content);
  // Whatever the umask: nginx reads its config as an unprivileged user.
  fs.chmodSync(temp, 0o644);
  fs.renameSync(temp, file);
}

/** GET over a fresh connection (a new one reaches a new worker); status and body, or what went wrong. */
function fetchFresh(url: string, timeoutMs: number): Promise<string> {
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
function servedAnswer(configId: string): string {
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

async function workers(container: string): Promise<{ active: string[]; old: number } | string> {
  const ps = await docker(["exec", container, "sh", "-c", WORKERS_SCRIPT]);
  if (!ps.ok) return ps.output;
  const lines = ps.stdout.split("\n").filter(Boolean);
  return {
    active: lines.filter((l) => l.startsWith("active ")).map((l) => l.slice(7)),
    old: lines.filter((l) => l === "old").length,
  };
}

/** Each upstream container's address, as the engine reports it now ("" for one that is missing or stopped). */
async function addressesOf(names: string[]): Promise<string[]> {
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
 * After the HUP: waits until a worker that was not there before answers /nginx-health with the config's id,
 * and no worker of an older config is left. The containers the old config named must outlive every old
 * worker (it finishes the requests it holds, up to nginx's longest proxied request): the engine removes
 * them only after this step.
 */
async function waitForReload(inputs: IngressConfigInputs, before: string[]): Promise<number> {
  const started = Date.now();
  const showDeadline = started + inputs.timeoutSeconds * 1000;
  // An old worker holds a request for at most drainSeconds; nginx's worker_shutdown_timeout adds 5 s.
  const drainDeadline = started + (inputs.timeoutSeconds + inputs.drainSeconds + 5) * 1000;
  let answer = "not asked";
  let state: Awaited<ReturnType<typeof workers>> = "not asked";
  let shownAfterMs: number | null = null;
  for (;;) {
    [answer, state] = await Promise.all([fetchFresh(inputs.healthUrl, 1000), workers(inputs.container)]);
    const fresh =
      typeof state !== "string" && state.active.length > 0 && !state.active.some((p) => before.includes(p));
    if (shownAfterMs === null && fresh && answer === servedAnswer(inputs.configId)) {
      shownAfterMs = Date.now() - started;
    }
    if (shownAfterMs !== null && typeof state !== "string" && state.old === 0) return shownAfterMs;
    const now = Date.now();
    if (shownAfterMs === null && now > showDeadline) {
      throw new Error(
        `nginx did not serve config ${inputs.configId} within ${inputs.timeoutSeconds} s of its reload ` +
          `(GET ${inputs.healthUrl} -> ${answer}; workers: ${JSON.stringify(state)}); see \`docker logs ${inputs.container}\``,
      );
    }
    if (now > drainDeadline) {
      throw new Error(
        `nginx's workers of the previous config still hold requests ${inputs.timeoutSeconds + inputs.drainSeconds + 5} s ` +
          `after the reload; ` +
          `the containers they proxy to stay until the next \`pulumi up\``,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The admin listeners as Docker publishes them now: their URLs, and the file_sd text Prometheus reads. A
 * listener Docker does not publish (its container is restarting) is left out until the next `pulumi up`.
 */
async function liveTargets(admins: AdminListener[]): Promise<{ adminUrls: string[]; targetsText: string }> {
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
    targetsText: `${JSON.stringify(groups, null, 2)}\n`,
  };
}

/** Stages, tests, moves, reloads, confirms; returns the addresses nginx got and the reload's time. */
export async function applyIngressConfig(inputs: IngressConfigInputs): Promise<IngressConfigOutputs> {
  const staged = path.join(inputs.configDir, STAGED_FILE);
  const live = path.join(inputs.configDir, CONFIG_FILE);
  const addresses = await addressesOf(inputs.upstreams);
  writeAtomically(staged, withAddresses(inputs.config, inputs.upstreams, addresses));
  const test = await docker([
    "exec",
    inputs.container,
    "nginx",
    "-t",
    "-q",
    "-c",
    `${CONFIG_DIR_IN_CONTAINER}/${STAGED_FILE}`,
  ]);
  if (!test.ok) {
    fs.rmSync(staged, { force: true });
    throw new Error(
      `nginx -t refused the new config; nginx keeps serving the one it has:\n${test.output.replaceAll(STAGED_FILE, CONFIG_FILE)}`,
    );
  }
  const before = await workers(inputs.container);
  if (typeof before === "string") {
    fs.rmSync(staged, { force: true });
    throw new Error(`could not list nginx's workers: ${before}`);
  }
  const previous = fs.existsSync(live) ? fs.readFileSync(live, "utf8") : null;
  fs.renameSync(staged, live);
  let reloadMs: number;
  try {
    const reload = await docker(["kill", "--signal", "HUP", inputs.container]);
    if (!reload.ok) throw new Error(`could not reload nginx (${inputs.container}): ${reload.output}`);
    reloadMs = await waitForReload(inputs, before.active);
  } catch (err) {
    // The file must say what nginx serves: a restarted nginx would otherwise load a config nobody confirmed.
    if (previous !== null) writeAtomically(live, previous);
    throw err;
  }
  const { adminUrls, targetsText } = await liveTargets(inputs.admins);
  writeAtomically(inputs.targetsFile, targetsText);
  return { ...inputs, addresses, adminUrls, reloadMs };
}

const COMPARED = [
  "container",
  "containerId",
  "configId",
  "config",
  "upstreams",
  "admins",
  "targetsFile",
] as const;

export const ingressConfigProvider: pulumi.dynamic.ResourceProvider = {
  // Against the state, against what nginx serves and against the file it would load: a rollout that failed
  // after its reload, a restart on the bootstrap config, a hand edit, or a replica that Docker restarted on
  // another address all call for the config to be applied again.
  async diff(_id: string, olds: IngressConfigOutputs, news: IngressConfigInputs) {
    const changed = COMPARED.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    if (changed.length > 0) return { changes: true };
    const [served, addresses, targets] = await Promise.all([
      fetchFresh(news.healthUrl, 1000),
      addressesOf(news.upstreams),
      liveTargets(news.admins),
    ]);
    let expected: string | null;
    try {
      expected = withAddresses(news.config, news.upstreams, addresses);
    } catch {
      expected = null; // an upstream is down: applying again names what runs now, or says which is not
    }
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null);
    const moved =
      read(path.join(news.configDir, CONFIG_FILE)) !== expected ||
      read(news.targetsFile) !== targets.targetsText ||
      JSON.stringify(olds.adminUrls) !== JSON.stringify(targets.adminUrls);
    return { changes: served !== servedAnswer(news.configId) || expected === null || moved };
  },
  async create(inputs: IngressConfigInputs) {
    return { id: "ingress-config", outs: await applyIngressConfig(inputs) };
  },
  async update(_id: string, _olds: IngressConfigOutputs, news: IngressConfigInputs) {
    return { outs: await applyIngressConfig(news) };
  },
  // The stack is going away: a later stack must not start nginx on containers that are gone.
  async delete(_id: string, olds: IngressConfigOutputs) {
    fs.rmSync(path.join(olds.configDir, CONFIG_FILE), { force: true });
    fs.rmSync(olds.targetsFile, { force: true });
  },
};
