// Who reaches what, probed against one real stack (two app replicas) from where the traffic would come
// from: the host (127.0.0.1-published ports and OPA's socket only), nginx, an app replica, OPA, and
// throwaway containers attached to the stack's networks. Every probe that must fail is paired with one
// from the same place that must succeed (a positive control), so a broken probe cannot pass for isolation:
// - the app's admin listener is the thing nginx must not reach; its public port, same container, is
//   the control; the app's count of refused connections shows the app itself refused them;
// - OPA listens on no TCP port, so a listener is placed in OPA's network namespace: a throwaway container
//   on OPA's internal network reaches it (the control), nothing on the public network does.
// The table of every probe and its answer is printed at the end.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTrafficSample } from "../../lib/metrics";
import { POLICY_PACKAGES } from "../../lib/types";
import { curlFrom, startThrowaway, waitForAnswer, type Throwaway } from "./support/probes";
import { TestProject } from "./support/project";
import { claim, unclaim } from "../support/test-objects";

const run = promisify(execFile);
const LISTENER_PORT = 8181;
const LISTENER_ANSWER = "listener in OPA's network namespace";
/**
 * How curl sees a connection the app resets the moment it accepts it: reset, or, when the reset beats
 * curl's own connect check, a failed connection. Either way the app's count of refused connections must
 * rise by one (each test checks it), which a port with nothing behind it could not do.
 */
const REFUSED = ["reset", "no connection"];

let project: TestProject;
/** The stack's adminUrls output: replica i's admin listener as the host reaches it. */
let adminUrls: string[];
/** app-0's, the container most probes aim at (found by its published port, not by position). */
let app0AdminUrl: string;
/** The app replicas' containers, nginx's, OPA's. */
let apps: string[];
let nginx: string;
let opa: string;
/** The admin listener's port inside the app containers (Docker publishes it on 127.0.0.1). */
let adminPort: number;
let appImage: string;
let onPublicNetwork: Throwaway;
let onInternalNetwork: Throwaway;
const throwaways: Throwaway[] = [];
const promlintDir = fs.mkdtempSync(path.join(os.tmpdir(), "sdtest-promlint-"));
claim(path.basename(promlintDir), { dirs: [promlintDir] });
const promlint = path.join(promlintDir, "promlint");
/** Every probe and its answer, for the table printed at the end. */
const table: { from: string; to: string; answer: string }[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 60_000 });
  return stdout.trim();
}

/** curl inside `container`, recorded in the table as from → to. */
async function probe(from: string, container: string, to: string, url: string, opts = {}): Promise<string> {
  const answer = await curlFrom(container, url, opts);
  table.push({ from, to, answer });
  return answer;
}

/** One request to OPA over the stack's socket, from the host; the status. */
function opaRequest(method: string, route: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    const req = http.request(
      { socketPath: project.opaSocket, method, path: route, headers, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => {
          table.push({ from: "host", to: `OPA socket ${method} ${route}`, answer: `HTTP ${res.statusCode}` });
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The app's own count of refused admin connections (reason "peer"), read through the host's port. */
async function refusedPeers(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = /^app_admin_refusals_total\{reason="peer"\} (\d+)$/m.exec(text);
  if (!line) throw new Error(`no app_admin_refusals_total{reason="peer"} in ${adminUrl}/metrics`);
  return Number(line[1]);
}

/**
 * One request to an admin URL that names `host` in its Host header (fetch() may not set Host; node:http
 * sends it as given). A POST carries a chaos body that would fail every request. The status.
 */
function withHost(adminUrl: string, host: string, method: string, route: string): Promise<number> {
  const { hostname, port } = new URL(adminUrl);
  const headers = { host, "content-type": "application/json" };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: route, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(method === "POST" ? JSON.stringify({ mode: "error", rate: 1 }) : undefined);
  });
}

/** The chaos state a replica reports, read through the host's port. */
async function chaosOf(adminUrl: string): Promise<unknown> {
  return (await fetch(`${adminUrl}/chaos`, { signal: AbortSignal.timeout(5000) })).json();
}

/** Raw HTTP/1.1 to the ingress, so request targets reach nginx exactly as written. */
function rawIngress(requestLine: string, body = ""): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(project.publicUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      const length =
        body === "" ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
      socket.write(
        `${requestLine}\r\nHost: ${hostname}:${port}\r\n${length}Connection: close\r\n\r\n${body}`,
      );
    });
    let text = "";
    socket.on("data", (chunk) => (text += chunk));
    socket.on("end", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on("error", reject);
  });
}

/** Starts a throwaway container of the app's image for the probes; removed in afterAll. */
async function throwaway(role: string, runArgs: string[], command: string[]): Promise<Throwaway> {
  const started = await startThrowaway(project.dockerPrefix, role, appImage, runArgs, command);
  throwaways.push(started);
  return started;
}

beforeAll(async () => {
  // The Go build (a link from Go's cache after `npm run test:go`) runs while the stack deploys.
  const building = run("go", ["build", "-o", promlint, "."], {
    cwd: path.resolve(__dirname, "../../toolchain/promlint"),
    timeout: 600_000,
  });
  building.catch(() => undefined); // awaited below; a failed deploy must not leave it unhandled
  project = await TestProject.create({ name: "sec", replicas: 2 });
  await project.up();
  adminUrls = await project.adminUrls();
  [apps, [nginx], [opa]] = await Promise.all(
    (["app", "nginx", "opa"] as const).map((role) => project.containersOf(role)),
  );
  // "9100/tcp -> 127.0.0.1:49153": the listener's port inside the container, and the one the host uses.
  const [, inside, published] =
    /^(\d+)\/tcp -> 127\.0\.0\.1:(\d+)$/.exec(await docker("port", apps[0])) ?? [];
  adminPort = Number(inside);
  app0AdminUrl = `http://127.0.0.1:${published}`;
  appImage = await docker("inspect", "--format", "{{.Config.Image}}", apps[0]);
  const sleep = ["sleep", "600"];
  onPublicNetwork = await throwaway("public", ["--network", `${project.dockerPrefix}-net`], sleep);
  onInternalNetwork = await throwaway(
    "internal",
    ["--network", `${project.dockerPrefix}-opa-internal`],
    sleep,
  );
  const listen = `require("http").createServer((q, s) => s.end(${JSON.stringify(LISTENER_ANSWER)})).listen(${LISTENER_PORT})`;
  await throwaway("opa-listener", ["--network", `container:${opa}`], ["node", "-e", listen]);
  // The listener is up in OPA's namespace: from OPA itself it answers.
  await waitForAnswer(
    "the listener in OPA's namespace",
    () => curlFrom(opa, `http://127.0.0.1:${LISTENER_PORT}/`),
    "HTTP 200",
  );
  await building;
});

afterAll(async () => {
  // The probes' containers first: the stack's networks cannot go while they are attached.
  await Promise.all(throwaways.map((t) => t.remove()));
  await project?.dispose();
  fs.rmSync(promlintDir, { recursive: true, force: true });
  unclaim(path.basename(promlintDir));
  const width = Math.max(...table.map((r) => `${r.from} → ${r.to}`.length));
  console.log(
    [
      "who reaches what (probe → answer):",
      ...table.map((r) => `  ${`${r.from} → ${r.to}`.padEnd(width)}  ${r.answer}`),
    ].join("\n"),
  );
});

describe("the app's admin listener", () => {
  it("answers the host on every replica's 127.0.0.1-published port, and is published nowhere else", async () => {
    expect(adminUrls).toHaveLength(2);
    expect(adminUrls).toContain(app0AdminUrl);
    for (const [i, url] of adminUrls.entries()) {
      const answer = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      table.push({ from: "host", to: `app-${i} admin ${url}/metrics`, answer: `HTTP ${answer.status}` });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toMatch(/^app_mode 1$/m);
    }
    for (const app of apps) {
      expect(await docker("port", app)).toMatch(new RegExp(`^${adminPort}/tcp -> 127\\.0\\.0\\.1:\\d+$`));
    }
  });

  it("resets nginx's connections to an app's admin port, while nginx reaches the app's public port", async () => {
    const before = await refusedPeers(app0AdminUrl);
    expect(await probe("nginx", nginx, "app-0 public :3000 /", `http://${apps[0]}:3000/`)).toBe("HTTP 200");
    expect(
      await probe(
        "nginx",
        nginx,
        `app-0 admin :${adminPort} /metrics`,
        `http://${apps[0]}:${adminPort}/metrics`,
      ),
    ).toBeOneOf(REFUSED);
    const chaos = { method: "POST", json: { mode: "error", rate: 1 } };
    expect(
      await probe("nginx", nginx, `app-0 admin POST /chaos`, `http://${apps[0]}:${adminPort}/chaos`, chaos),
    ).toBeOneOf(REFUSED);
    // Refused by the app itself, once per connection, and the fault was never injected.
    expect(await refusedPeers(app0AdminUrl)).toBe(before + 2);
    expect(await chaosOf(app0AdminUrl)).toEqual({ mode: "none" });
  });

  it("resets a throwaway container on the public network, which reaches the public port", async () => {
    const before = await refusedPeers(app0AdminUrl);
    const from = "container on the public network";
    expect(await probe(from, onPublicNetwork.name, "app-0 public :3000 /", `http://${apps[0]}:3000/`)).toBe(
      "HTTP 200",
    );
    expect(
      await probe(
        from,
        onPublicNetwork.name,
        `app-0 admin :${adminPort} /metrics`,
        `http://${apps[0]}:${adminPort}/metrics`,
      ),
    ).toBeOneOf(REFUSED);
    const chaos = { method: "POST", json: { mode: "slow", duration_ms: 5000 } };
    expect(
      await probe(
        from,
        onPublicNetwork.name,
        "app-0 admin POST /chaos",
        `http://${apps[0]}:${adminPort}/chaos`,
        chaos,
      ),
    ).toBeOneOf(REFUSED);
    expect(await refusedPeers(app0AdminUrl)).toBe(before + 2);
    expect(await chaosOf(app0AdminUrl)).toEqual({ mode: "none" });
  });

  it("lets an app replica reach its own admin port on loopback, but not another replica's", async () => {
    const before = await refusedPeers(app0AdminUrl);
    expect(
      await probe("app-1", apps[1], "own admin 127.0.0.1 /metrics", `http://127.0.0.1:${adminPort}/metrics`),
    ).toBe("HTTP 200");
    expect(await probe("app-1", apps[1], "app-0 public :3000 /", `http://${apps[0]}:3000/`)).toBe("HTTP 200");
    expect(
      await probe(
        "app-1",
        apps[1],
        `app-0 admin :${adminPort} /metrics`,
        `http://${apps[0]}:${adminPort}/metrics`,
      ),
    ).toBeOneOf(REFUSED);
    expect(await refusedPeers(app0AdminUrl)).toBe(before + 1);
  });

  it("answers 421 to a Host that is not loopback (DNS rebinding), and leaves chaos alone", async () => {
    for (const [method, route] of [
      ["POST", "/chaos"],
      ["GET", "/chaos"],
      ["GET", "/metrics"],
    ]) {
      const status = await withHost(app0AdminUrl, "evil.example", method, route);
      table.push({
        from: "host, Host: evil.example",
        to: `app-0 admin ${method} ${route}`,
        answer: `HTTP ${status}`,
      });
      expect(status).toBe(421);
    }
    expect(await chaosOf(app0AdminUrl)).toEqual({ mode: "none" });
    // The control: the same port, named as a client on the host names it.
    const port = new URL(app0AdminUrl).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect(await withHost(app0AdminUrl, host, "GET", "/metrics")).toBe(200);
    }
  });

  it("sends no CORS header, not even to a preflight from a web page", async () => {
    const url = adminUrls[0];
    const answers = [
      await fetch(`${url}/chaos`, {
        method: "OPTIONS",
        headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
      }),
      await fetch(`${url}/metrics`, { headers: { origin: "http://evil.example" } }),
    ];
    for (const answer of answers) {
      expect([...answer.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
  });

  it("is scraped the way Prometheus scrapes (its Accept header, through the published port) and passes promlint", async () => {
    for (const [i, url] of adminUrls.entries()) {
      const { stdout, stderr } = await run(promlint, [`${url}/metrics`], { timeout: 30_000 }).catch(
        (err: { stdout?: string; stderr?: string; code?: number }) => {
          throw new Error(`promlint ${url}/metrics exited ${err.code}: ${err.stdout}${err.stderr}`);
        },
      );
      table.push({
        from: "host, promlint (Go, Prometheus' Accept)",
        to: `app-${i} admin /metrics`,
        answer: "scraped, no lint problem",
      });
      expect({ stdout, stderr }).toEqual({ stdout: "", stderr: "" });
    }
  });
});

describe("OPA", () => {
  it("answers health and every gate's decision on the socket, and nothing else", async () => {
    expect(await opaRequest("GET", "/health")).toBe(200);
    for (const pkg of Object.values(POLICY_PACKAGES)) {
      expect(await opaRequest("POST", `/v1/data/${pkg}`, { input: {} })).toBe(200);
    }
    const refused: [string, string, unknown][] = [
      ["PUT", "/v1/data/probe", { planted: true }],
      ["PUT", "/v1/policies/x", undefined],
      ["PATCH", "/v1/data", [{ op: "add", path: "/probe", value: 1 }]],
      ["DELETE", "/v1/data/swiftdeploy/thresholds", undefined],
      ["GET", "/v1/data", undefined],
      ["GET", "/v1/policies", undefined],
      ["POST", "/v1/data/system/authz/allow", { input: { method: "PUT", path: ["v1", "data"] } }],
      ["POST", `/v1/data/${POLICY_PACKAGES.canary}?explain=full`, { input: {} }],
    ];
    for (const [method, route, body] of refused) expect(await opaRequest(method, route, body)).toBe(401);
  });

  it("keeps deciding as its policies say after the refused writes", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: project.opaSocket,
          method: "POST",
          path: `/v1/data/${POLICY_PACKAGES.canary}`,
          agent: false,
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ input: { requests: 0 } }));
    });
    const thresholds = JSON.parse(answer).result.checks.map((c: { id: string; threshold: number }) => [
      c.id,
      c.threshold,
    ]);
    expect(thresholds).toEqual([
      ["error_rate", 1],
      ["p99_latency", 500],
      ["min_requests", 20],
    ]);
  });

  it("keeps its socket folder and socket to their owner (0700, 0600)", () => {
    const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);
    table.push({ from: "host", to: "OPA socket folder mode", answer: mode(path.dirname(project.opaSocket)) });
    expect(mode(path.dirname(project.opaSocket))).toBe("700");
    expect(mode(project.opaSocket)).toBe("600");
  });

  it("is reachable by name and address from its own network only", async () => {
    const opaIp = await docker(
      "inspect",
      "--format",
      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      opa,
    );
    expect(opaIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const listener = (host: string) => `http://${host}:${LISTENER_PORT}/`;
    // The control: from OPA's own network, the listener answers by name and by address.
    const inside = "container on OPA's network";
    expect(await probe(inside, onInternalNetwork.name, `OPA by name :${LISTENER_PORT}`, listener(opa))).toBe(
      "HTTP 200",
    );
    expect(await probe(inside, onInternalNetwork.name, `OPA by IP :${LISTENER_PORT}`, listener(opaIp))).toBe(
      "HTTP 200",
    );
    for (const [from, container] of [
      ["nginx", nginx],
      ["app-0", apps[0]],
      ["container on the public network", onPublicNetwork.name],
    ]) {
      expect(await probe(from, container, `OPA by name :${LISTENER_PORT}`, listener(opa))).toBe("unresolved");
      expect(["timeout", "no connection"]).toContain(
        await probe(from, container, `OPA by IP :${LISTENER_PORT}`, listener(opaIp), { maxSeconds: 2 }),
      );
    }
  });

  it("reaches no app container itself", async () => {
    const appIp = await docker(
      "inspect",
      "--format",
      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      apps[0],
    );
    // The control: curl in OPA's container works (its own health on the socket).
    expect(
      await probe("OPA", opa, "own socket /health", "http://opa/health", { unixSocket: "/run/opa/opa.sock" }),
    ).toBe("HTTP 200");
    expect(["timeout", "no connection"]).toContain(
      await probe("OPA", opa, "app-0 public :3000 by IP", `http://${appIp}:3000/`, { maxSeconds: 2 }),
    );
    // OPA's network has no DNS beyond itself: the lookup fails or, forwarded nowhere, times out.
    expect(["unresolved", "timeout"]).toContain(
      await probe("OPA", opa, "app-0 by name", `http://${apps[0]}:3000/`, { maxSeconds: 2 }),
    );
  });
});

describe("the ingress", () => {
  it.each([
    ["GET /metrics HTTP/1.1"],
    ["GET /chaos HTTP/1.1"],
    ["GET //chaos HTTP/1.1"],
    ["GET /%63haos HTTP/1.1"],
    ["GET /x/../chaos HTTP/1.1"],
    ["GET /metrics?x=1 HTTP/1.1"],
    ["GET /metrics/ HTTP/1.1"],
    ["GET /%6detrics HTTP/1.1"],
    ["GET http://app:9100/metrics HTTP/1.1"],
    ["GET http://127.0.0.1:9100/chaos HTTP/1.1"],
  ])("answers %s with 404 and no admin data", async (requestLine) => {
    const { status, text } = await rawIngress(requestLine);
    table.push({ from: "host", to: `ingress ${requestLine}`, answer: `HTTP ${status}` });
    expect(status).toBe(404);
    expect(text).not.toMatch(/app_mode|http_requests_total|"mode":/);
  });

  it.each(["POST /chaos HTTP/1.1", "POST //chaos HTTP/1.1", "POST /%63haos HTTP/1.1"])(
    "refuses %s and injects nothing",
    async (requestLine) => {
      const { status } = await rawIngress(requestLine, JSON.stringify({ mode: "error", rate: 1 }));
      table.push({ from: "host", to: `ingress ${requestLine}`, answer: `HTTP ${status}` });
      expect(status).toBe(404);
      for (const url of adminUrls) expect(await chaosOf(url)).toEqual({ mode: "none" });
    },
  );

  it("still serves a public route (the control), which the app counts as public traffic", async () => {
    const publicRequests = async () => {
      let requests = 0;
      for (const url of adminUrls) {
        const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        requests += parseTrafficSample(text, Date.now()).requests;
      }
      return requests;
    };
    const before = await publicRequests();
    const { status } = await rawIngress("GET / HTTP/1.1");
    table.push({ from: "host", to: "ingress GET / HTTP/1.1", answer: `HTTP ${status}` });
    expect(status).toBe(200);
    expect(await publicRequests()).toBe(before + 1);
  });
});
