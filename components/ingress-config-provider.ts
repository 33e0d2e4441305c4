// The ingress config step's provider, run in the dynamic-provider host (components/providers.ts bundles
// this module into the resource's __provider). It is the only writer of the config nginx serves: it stages
// the new config in nginx's mounted folder, has the running nginx test it (`nginx -t` with the very binary,
// DNS and files that will serve it), moves it into place, reloads nginx gracefully (SIGHUP: a new worker
// takes new connections, the old one finishes its requests and exits) and waits until a new worker answers
// /nginx-health with the new config's id and no old worker is left. Then it rewrites the Prometheus
// file_sd targets. A config nginx refuses fails the step and leaves the running one untouched.
import type * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  addressesOf,
  docker,
  fetchFresh,
  liveTargets,
  servedAnswer,
  withAddresses,
  workers,
  writeAtomically,
  type AdminListener,
  type AdminTarget,
} from "./nginx-control";

export type { AdminListener, AdminTarget, ScrapeTargetGroup } from "./nginx-control";

/** Where the host folder is mounted in the nginx container (components/images/nginx/nginx-start.sh). */
export const CONFIG_DIR_IN_CONTAINER = "/etc/nginx/swiftdeploy";
export const CONFIG_FILE = "nginx.conf";
const STAGED_FILE = "nginx.conf.next";

export interface IngressConfigInputs {
  /** The nginx container's name and id (a new id: the config is applied to the new container). */
  container: string;
  containerId: string;
  /** Host folder mounted at CONFIG_DIR_IN_CONTAINER. */
  configDir: string;
  config: string;
  /** The id the config's /nginx-health answers with. */
  configId: string;
  /** The containers the config names as upstream servers (it gets their addresses: nginx-control.ts). */
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
  /** The same with each listener's labels (set, version, replica): the dashboard tells the sets apart by them. */
  adminTargets: AdminTarget[];
  /** How long the reload took to show, in ms. */
  reloadMs: number;
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
  const { adminUrls, adminTargets, targetsText } = await liveTargets(inputs.admins);
  writeAtomically(inputs.targetsFile, targetsText);
  return { ...inputs, addresses, adminUrls, adminTargets, reloadMs };
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
