// The process: read the environment, listen on the public and admin ports, and shut down gracefully on
// SIGTERM/SIGINT. The container runs it as PID 1 without an init, so the signal handlers here are the
// only thing standing between `docker stop` and a SIGKILL ten seconds later.
import { createServer, type Server } from "node:http";
import type Koa from "koa";
import { Registry } from "prom-client";
import { createApp } from "./app";
import { ConfigError, readConfig, type ServiceConfig } from "./config";
import { shutdownGracefully } from "./shutdown";

/** Below Docker's default 10 s stop timeout, so the process exits on its own terms. */
const SHUTDOWN_TIMEOUT_MS = 8_000;

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

function main(): void {
  const config = loadConfig();
  const { publicApp, adminApp, state } = createApp({ ...config, registry: new Registry() });
  const servers = [
    listen(publicApp, config.appPort, config.listenHost, "public"),
    listen(adminApp, config.adminPort, config.listenHost, "admin"),
  ];
  log(
    `${config.serviceName} ${config.version} (${config.mode}), chaos ${config.chaosEnabled ? "on" : "off"}`,
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
