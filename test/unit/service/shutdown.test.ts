import { Agent } from "node:http";
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { shutdownGracefully } from "../../../service/shutdown";
import { makeApp } from "./fixtures";
import { call, listenLocal } from "./sockets";

const servers: Server[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) (server.closeAllConnections(), server.close());
});

async function start(overrides = {}) {
  const apps = makeApp(overrides);
  const pub = await listenLocal(apps.publicApp);
  const admin = await listenLocal(apps.adminApp);
  servers.push(pub.server, admin.server);
  return { ...apps, pub, admin, servers: [pub.server, admin.server] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("shutdownGracefully", () => {
  it("lets a request in flight finish, refuses new connections, and resolves 0", async () => {
    const { pub, state, servers } = await start();
    state.chaos = { mode: "slow", duration_ms: 400 };
    const inFlight = call(pub.port, "/");
    await sleep(100);
    const began = performance.now();
    const done = shutdownGracefully({ servers, state, timeoutMs: 5000 });
    expect(state.shuttingDown).toBe(true);
    await expect(call(pub.port, "/healthz")).rejects.toThrow(/ECONNREFUSED/);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    // The connection of the request in flight is released with its answer.
    expect(answer.headers.connection).toBe("close");
    expect(await done).toBe(0);
    expect(performance.now() - began).toBeLessThan(1500);
  });

  // On this host's Node 20 server.close() drops idle connections by itself; on the image's Node 18 it does
  // not, and test/integration/service-image.test.ts checks the same behaviour there.
  it("closes idle keep-alive connections at once instead of waiting for their timeout", async () => {
    const { pub, admin, state, servers } = await start();
    const agent = new Agent({ keepAlive: true });
    await call(pub.port, "/", { agent });
    await call(admin.port, "/metrics", { agent });
    const began = performance.now();
    expect(await shutdownGracefully({ servers, state, timeoutMs: 5000 })).toBe(0);
    expect(performance.now() - began).toBeLessThan(500);
    agent.destroy();
  });

  it("cuts connections and resolves 1 when requests outlast the timeout", async () => {
    const { pub, state, servers } = await start();
    state.chaos = { mode: "slow", duration_ms: 5000 };
    const inFlight = call(pub.port, "/");
    await sleep(50);
    const began = performance.now();
    expect(await shutdownGracefully({ servers, state, timeoutMs: 200 })).toBe(1);
    const waited = performance.now() - began;
    expect(waited).toBeGreaterThanOrEqual(195);
    expect(waited).toBeLessThan(1000);
    await expect(inFlight).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});
