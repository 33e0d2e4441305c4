// The process: read the environment, listen on the public and admin ports, and shut down gracefully on
// SIGTERM/SIGINT. The container runs it as PID 1 without an init, so the signal handlers here are the
// only thing standing between `docker stop` and a SIGKILL ten seconds later.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { endianness } from "node:os";
import type Koa from "koa";
import { Registry } from "prom-client";
import { admitsPeer, defaultGateways, refuseConnections } from "./admin-access";
import { APP_SHUTDOWN_TIMEOUT_S } from "../lib/drain";
import { createApp } from "./app";
import { ConfigError, readConfig, type ServiceConfig } from "./config";
import { shutdownGracefully } from "./shutdown";

/** Longer than nginx waits for a proxied request, shorter than Docker's stop grace (lib/drain.ts). */
const SHUTDOWN_TIMEOUT_MS = APP_SHUTDOWN_TIMEOUT_S * 1000;

function log(line: string): void {
  console.log(`[${new Date().toISOString()}] ${line}`);
}

function loadConfig(): ServiceConfig {
  try {
    return readConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`invalid configuration: ${err.message}`);
    process.exit(2);
  }
}

function listen(app: Koa, port: number, host: string, role: string): Server {
  const server = createServer(app.callback());
  server.on("error", (err) => {
    console.error(`${role} listener on ${host}:${port} failed: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => log(`${role} listener on ${host}:${port}`));
  return server;
}

/**
 * The container's default gateways, read once at start: the host's published admin port reaches the app
 * from there (see admin-access.ts). None where /proc/net/route cannot be read; loopback still works.
 */
function readDefaultGateways(): string[] {
  try {
    return defaultGateways(readFileSync("/proc/net/route", "utf8"), endianness());
  } catch {
    return [];
  }
}

function main(): void {
  const config = loadConfig();
  const { publicApp, adminApp, state, countAdminRefusal } = createApp({
    ...config,
    registry: new Registry(),
  });
  const gateways = readDefaultGateways();
  const admin = listen(adminApp, config.adminPort, config.listenHost, "admin");
  refuseConnections(
    admin,
    (address) => admitsPeer(address, gateways),
    () => countAdminRefusal("peer"),
  );
  const servers = [listen(publicApp, config.appPort, config.listenHost, "public"), admin];
  log(
    `${config.serviceName} ${config.version} (${config.mode}), chaos ${config.chaosEnabled ? "on" : "off"}; ` +
      `admin routes answer loopback${gateways.map((g) => ` and gateway ${g}`).join("")} only`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return log(`${signal} again: already shutting down`);
    stopping = true;
    log(`${signal}: shutting down (at most ${SHUTDOWN_TIMEOUT_MS} ms)`);
    void shutdownGracefully({ servers, state, timeoutMs: SHUTDOWN_TIMEOUT_MS, log }).then((code) =>
      process.exit(code),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
