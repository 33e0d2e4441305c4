// The two Koa apps of the service. The public one serves traffic (and is the only one measured in http_*
// metrics); the admin one serves /metrics and /chaos on its own port so the ingress can expose the public
// port only, and answers only requests that name a loopback Host (admin-access.ts; server.ts refuses other
// peers' connections). createApp never listens: server.ts does, and tests call app.callback() directly.
import { hostname as osHostname } from "node:os";
import { performance } from "node:perf_hooks";
import Koa, { type Context, type Middleware } from "koa";
import Router from "@koa/router";
import type { Registry } from "prom-client";
import type { Mode } from "../lib/types";
import { ChaosInputError, injectChaos, parseChaos, type ChaosState } from "./chaos";
import { readJsonBody } from "./json-body";
import type { HttpSeriesTable } from "./http-series";
import { UNMATCHED_PATH } from "../lib/metric-codes";
import { recordHttpMetrics, registerMetrics, type AdminRefusal } from "./metrics";
import { requireLoopbackHost } from "./admin-access";

export const HEALTH_PATH = "/healthz";

export interface AppOptions {
  serviceName: string;
  version: string;
  mode: Mode;
  /** Fresh per app in tests; the process-wide one in server.ts. */
  registry: Registry;
  /** When false, /chaos answers 403 with the reason and chaos stays "none". Default true. */
  chaosEnabled?: boolean;
  /** Reported by GET /; defaults to the OS hostname (the container id in Docker). */
  hostname?: string;
  /** Record public requests in http_* metrics. Default true; false only to measure the middleware's cost. */
  httpMetrics?: boolean;
  /** prom-client's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Uniform in [0, 1), used by chaos mode "error". */
  random?: () => number;
}

/** Mutable state shared by both apps and server.ts. */
export interface AppState {
  /** Set by server.ts on SIGTERM/SIGINT: /healthz answers 503 and connections close after their response. */
  shuttingDown: boolean;
  chaos: ChaosState;
}

export interface ServiceApps {
  publicApp: Koa;
  adminApp: Koa;
  state: AppState;
  /** Counts one refusal of the admin listener (server.ts refuses connections; the admin app, Hosts). */
  countAdminRefusal: (reason: AdminRefusal) => void;
}

/** Turns thrown errors into JSON answers; 4xx messages are shown, 5xx are logged and hidden. */
function errorBoundary(): Middleware {
  return async function errors(ctx, next) {
    try {
      await next();
    } catch (err) {
      const error = err as { status?: number; expose?: boolean; message?: string };
      ctx.status = typeof error.status === "number" && error.status >= 400 ? error.status : 500;
      ctx.body = { error: error.expose ? error.message : "internal error" };
      if (ctx.status >= 500) ctx.app.emit("error", err, ctx);
    }
  };
}

/**
 * While shutting down, close each connection after its response, so server.close() can complete even on
 * Node 18, whose close() leaves keep-alive connections open. Checked after the handler too: a request in
 * flight when shutdown began must also release its connection.
 */
function closeConnectionsWhenDraining(state: AppState): Middleware {
  return async function drain(ctx, next) {
    try {
      await next();
    } finally {
      if (state.shuttingDown) ctx.set("Connection", "close");
    }
  };
}

function notFound(): Middleware {
  return async function notFound(ctx) {
    ctx.status = 404;
    ctx.body = { error: `no route for ${ctx.method} ${ctx.path}` };
  };
}

function health(state: AppState) {
  return function healthz(ctx: Context) {
    ctx.status = state.shuttingDown ? 503 : 200;
    ctx.body = { status: state.shuttingDown ? "shutting_down" : "ok" };
  };
}

/** The route template a request matched, or UNMATCHED_PATH; never the raw URL. */
function routeResolver(router: Router) {
  return function routeOf(ctx: Context): string {
    // Set by the router when it dispatched; absent when chaos answered first or no route matched.
    if (typeof ctx._matchedRoute === "string") return ctx._matchedRoute;
    const layers = router.match(ctx.path, ctx.method).pathAndMethod;
    const last = layers[layers.length - 1];
    return last !== undefined && typeof last.path === "string" ? last.path : UNMATCHED_PATH;
  };
}

function publicRoutes(options: AppOptions, state: AppState): Router {
  // The set a container belongs to is its mode: stable, or the canary beside it.
  const info = {
    service: options.serviceName,
    set: options.mode,
    mode: options.mode,
    version: options.version,
    hostname: options.hostname ?? osHostname(),
  };
  const router = new Router();
  router.get("/", (ctx) => {
    ctx.body = info;
  });
  router.get(HEALTH_PATH, health(state));
  return router;
}

function adminRoutes(options: AppOptions, state: AppState): Router {
  const router = new Router();
  router.get(HEALTH_PATH, health(state));
  router.get("/metrics", async (ctx) => {
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });
  const chaosAllowed: Middleware = async (ctx, next) => {
    if (options.chaosEnabled === false) {
      ctx.throw(403, "chaos injection is disabled on this instance (CHAOS_ENABLED=false)");
    }
    await next();
  };
  router.get("/chaos", chaosAllowed, (ctx) => {
    ctx.body = state.chaos;
  });
  router.post("/chaos", chaosAllowed, async (ctx) => {
    const body = await readJsonBody(ctx);
    try {
      state.chaos = parseChaos(body);
    } catch (err) {
      if (err instanceof ChaosInputError) ctx.throw(400, err.message);
      throw err;
    }
    ctx.body = state.chaos;
  });
  return router;
}

function buildPublicApp(options: AppOptions, state: AppState, metrics: HttpSeriesTable): Koa {
  const app = new Koa();
  const router = publicRoutes(options, state);
  const routeOf = routeResolver(router);
  // Metrics wrap everything, the error boundary included, so a thrown error is counted with the status the
  // boundary answered; neither they nor the drain wrapper can throw themselves.
  if (options.httpMetrics ?? true) app.use(recordHttpMetrics(metrics, routeOf));
  app.use(closeConnectionsWhenDraining(state));
  app.use(errorBoundary());
  app.use(
    injectChaos({
      current: () => state.chaos,
      isExempt: (ctx) => routeOf(ctx) === HEALTH_PATH,
      random: options.random,
    }),
  );
  app.use(router.routes());
  app.use(notFound());
  return app;
}

function buildAdminApp(options: AppOptions, state: AppState, refusedHost: () => void): Koa {
  const app = new Koa();
  const router = adminRoutes(options, state);
  app.use(closeConnectionsWhenDraining(state));
  app.use(errorBoundary());
  // Before any route, /healthz included: see admin-access.ts.
  app.use(requireLoopbackHost(refusedHost));
  app.use(router.routes());
  app.use(notFound());
  return app;
}

/** Builds the public and admin apps around one shared state, and registers the metrics on options.registry. */
export function createApp(options: AppOptions): ServiceApps {
  const state: AppState = { shuttingDown: false, chaos: { mode: "none" } };
  const metrics = registerMetrics({ ...options, chaos: () => state.chaos, startedAt: performance.now() });
  const countAdminRefusal = (reason: AdminRefusal) => metrics.adminRefusals.inc({ reason });
  return {
    publicApp: buildPublicApp(options, state, metrics.http),
    adminApp: buildAdminApp(options, state, () => countAdminRefusal("host")),
    state,
    countAdminRefusal,
  };
}
