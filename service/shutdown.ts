// Graceful shutdown of the listeners, kept apart from server.ts so tests can drive it on real sockets
// without sending signals to the test runner.
import type { Server } from "node:http";
import type { AppState } from "./app";

export interface ShutdownOptions {
  servers: Server[];
  state: AppState;
  /** After this long, remaining connections are cut and the answer is exit code 1. */
  timeoutMs: number;
  log?: (line: string) => void;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  });
}

/**
 * Turns health to 503, stops accepting connections and waits for requests in flight to finish.
 * Resolves with the exit code: 0 when everything closed in time, 1 when the timeout cut connections.
 */
export function shutdownGracefully({
  servers,
  state,
  timeoutMs,
  log = () => {},
}: ShutdownOptions): Promise<number> {
  state.shuttingDown = true;
  return new Promise((resolve) => {
    // unref: the timer alone must not keep the process alive once every connection is gone.
    const hardStop = setTimeout(() => {
      log(`shutdown: requests still in flight after ${timeoutMs} ms, closing their connections`);
      for (const server of servers) server.closeAllConnections();
      resolve(1);
    }, timeoutMs).unref();
    void Promise.all(servers.map(closeServer)).then(() => {
      clearTimeout(hardStop);
      log("shutdown: all connections closed");
      resolve(0);
    });
  });
}
