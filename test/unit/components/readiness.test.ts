// components/readiness-provider.ts and the readiness provider against real listeners on 127.0.0.1 and a Unix socket.
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  probeOnce,
  readinessProvider,
  waitUntilReady,
  type Probe,
} from "../../../components/readiness-provider";
import { reservePort } from "../../support/ports";

const servers: http.Server[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A server answering `status` on `route` (404 elsewhere), on a port or a socket path. */
async function serve(where: number | string, route: string, status: () => number): Promise<void> {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === route ? status() : 404;
    res.end("x");
  });
  servers.push(server);
  await new Promise<void>((resolve) =>
    typeof where === "number" ? server.listen(where, "127.0.0.1", resolve) : server.listen(where, resolve),
  );
}

const FAST = { timeoutMs: 3000, intervalMs: 20 };

describe("probeOnce", () => {
  it("is ready on 2xx and says what it got otherwise", async () => {
    const port = await reservePort();
    let status = 503;
    await serve(port, "/healthz", () => status);
    const probe = { name: "app-0", url: `http://127.0.0.1:${port}/healthz` };
    expect(await probeOnce(probe, 1000)).toEqual({ ok: false, detail: "HTTP 503" });
    status = 204;
    expect(await probeOnce(probe, 1000)).toEqual({ ok: true, detail: "HTTP 204" });
    expect(await probeOnce({ ...probe, url: `http://127.0.0.1:${port}/other` }, 1000)).toEqual({
      ok: false,
      detail: "HTTP 404",
    });
  });

  it("reports a refused connection by its code", async () => {
    const port = await reservePort();
    expect(await probeOnce({ name: "x", url: `http://127.0.0.1:${port}/` }, 1000)).toEqual({
      ok: false,
      detail: "ECONNREFUSED",
    });
  });

  it("gives up on a listener that never answers within its timeout", async () => {
    const port = await reservePort();
    const server = http.createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const started = Date.now();
    const result = await probeOnce({ name: "x", url: `http://127.0.0.1:${port}/` }, 150);
    expect(result).toEqual({ ok: false, detail: "no answer within 150 ms" });
    expect(Date.now() - started).toBeLessThan(1000);
    server.closeAllConnections();
  });

  it("goes through a Unix socket when the probe names one", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readiness-"));
    dirs.push(dir);
    const socketPath = path.join(dir, "opa.sock");
    await serve(socketPath, "/health", () => 200);
    expect(await probeOnce({ name: "opa", url: "http://opa/health", socketPath }, 1000)).toEqual({
      ok: true,
      detail: "HTTP 200",
    });
  });
});

describe("waitUntilReady", () => {
  it("waits for a listener that comes up later, and for every probe", async () => {
    const [late, early] = [await reservePort(), await reservePort()];
    await serve(early, "/healthz", () => 200);
    setTimeout(() => void serve(late, "/healthz", () => 200), 300);
    const probes: Probe[] = [late, early].map((port, i) => ({
      name: `app-${i}`,
      url: `http://127.0.0.1:${port}/healthz`,
    }));
    const took = await waitUntilReady(probes, FAST);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
  });

  it("fails after its timeout naming each probe not ready and its last answer", async () => {
    const [sick, down, fine] = [await reservePort(), await reservePort(), await reservePort()];
    await serve(sick, "/healthz", () => 503);
    await serve(fine, "/healthz", () => 200);
    const probe = (name: string, port: number) => ({ name, url: `http://127.0.0.1:${port}/healthz` });
    const failure = waitUntilReady([probe("app-0", sick), probe("app-1", down), probe("app-2", fine)], {
      timeoutMs: 400,
      intervalMs: 50,
    });
    await expect(failure).rejects.toThrow(
      [
        "not ready within 0.4 s (last answers below); see `docker logs`:",
        `  app-0: GET http://127.0.0.1:${sick}/healthz -> HTTP 503`,
        `  app-1: GET http://127.0.0.1:${down}/healthz -> ECONNREFUSED`,
      ].join("\n"),
    );
  });
});

describe("the readiness provider", () => {
  const inputs = {
    probes: [{ name: "a", url: "http://127.0.0.1:1/" }],
    containerIds: ["c1"],
    timeoutSeconds: 60,
  };

  it("probes again only when a container, a probe or the timeout changes", async () => {
    expect((await readinessProvider.diff!("ready", inputs, inputs)).changes).toBe(false);
    expect(
      (await readinessProvider.diff!("ready", inputs, { ...inputs, containerIds: ["c2"] })).changes,
    ).toBe(true);
    const moved = { ...inputs, probes: [{ name: "a", url: "http://127.0.0.1:2/" }] };
    expect((await readinessProvider.diff!("ready", inputs, moved)).changes).toBe(true);
  });

  it("creates once the probes answer, with the time it took", async () => {
    const port = await reservePort();
    await serve(port, "/healthz", () => 200);
    const probes = [{ name: "app-0", url: `http://127.0.0.1:${port}/healthz` }];
    const created = await readinessProvider.create!({ probes, containerIds: ["c1"], timeoutSeconds: 5 });
    expect(created.outs).toMatchObject({ probes, containerIds: ["c1"], timeoutSeconds: 5 });
    expect(created.outs.readyAfterMs).toBeGreaterThanOrEqual(0);
  });
});

describe("a probe of a port Docker publishes", () => {
  /** A stand-in Docker engine on a Unix socket (DOCKER_HOST) that reports `container` as `state`. */
  async function fakeEngine(state: () => { status: string; hostPort: number | null }): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-"));
    dirs.push(dir);
    const socket = path.join(dir, "docker.sock");
    const server = http.createServer((req, res) => {
      if (req.url !== "/containers/app-x-0/json") {
        res.statusCode = 404;
        return res.end("{}");
      }
      const { status, hostPort } = state();
      const ports =
        hostPort === null ? {} : { "9100/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] };
      res.end(JSON.stringify({ State: { Status: status, ExitCode: 3 }, NetworkSettings: { Ports: ports } }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    process.env.DOCKER_HOST = `unix://${socket}`;
  }

  afterEach(() => {
    delete process.env.DOCKER_HOST;
  });

  const probe: Probe = {
    name: "app-0",
    url: "http://127.0.0.1/healthz",
    published: { container: "app-x-0", port: 9100 },
  };

  it("asks the engine where the port is at each probe: a restart moves it", async () => {
    const [first, second] = [await reservePort(), await reservePort()];
    await serve(first, "/healthz", () => 503);
    await serve(second, "/healthz", () => 200);
    let hostPort = first;
    await fakeEngine(() => ({ status: "running", hostPort }));
    expect(await probeOnce(probe, 1000)).toEqual({ ok: false, detail: "HTTP 503" });
    hostPort = second;
    expect(await probeOnce(probe, 1000)).toEqual({ ok: true, detail: "HTTP 200" });
  });

  it("says the container publishes nothing, with its state, when its process has exited", async () => {
    await fakeEngine(() => ({ status: "restarting", hostPort: null }));
    expect(await probeOnce(probe, 1000)).toEqual({
      ok: false,
      detail: "app-x-0 publishes no 9100/tcp now: restarting (exit code 3), see `docker logs app-x-0`",
    });
    await expect(waitUntilReady([probe], { timeoutMs: 300, intervalMs: 20 })).rejects.toThrow(
      "app-0: GET http://127.0.0.1:<app-x-0's 9100/tcp>/healthz -> app-x-0 publishes no 9100/tcp now",
    );
  });

  it("says so when there is no such container", async () => {
    await fakeEngine(() => ({ status: "running", hostPort: 1 }));
    const gone = { ...probe, published: { container: "gone", port: 9100 } };
    expect(await probeOnce(gone, 1000)).toEqual({
      ok: false,
      detail: "gone publishes no 9100/tcp now: no such container, see `docker logs gone`",
    });
  });
});
