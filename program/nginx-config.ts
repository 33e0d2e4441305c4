// nginx.conf for the ingress, rendered from templates/nginx.conf.liquid by liquidjs in strict mode: a
// variable the template uses but the program does not pass is an error, not an empty string.
import { Liquid } from "liquidjs";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface NginxConfigVars {
  stack: string;
  /** Port nginx listens on inside its container. */
  listen_port: number;
  /** The sets in rotation, stable first, each with its containers by Docker name (the rollout step writes their addresses). */
  sets: { set: string; servers: string[] }[];
  /** The most containers of one set: how many a request may try. */
  max_servers: number;
  /** Percent of requests to the canary while two sets run; 0 (falsy) with one set. */
  canary_weight: number;
  /** The request header that pins a request to a set (`always` | `never`). */
  pin_header: string;
  /** The app's public port inside its containers. */
  app_port: number;
  /** The longest a proxied request may take (lib/drain.ts). */
  proxy_read_timeout_s: number;
  /** Path prefixes that are never proxied (the app serves them on its admin listener only). */
  admin_routes: string[];
}

export const TEMPLATES_DIR = path.resolve(__dirname, "..", "templates");

/** The rendered config and its id: a hash of what it was rendered from, which /nginx-health answers. */
export interface RenderedNginxConfig {
  text: string;
  id: string;
}

export function renderNginxConfig(
  vars: NginxConfigVars,
  templatesDir: string = TEMPLATES_DIR,
): RenderedNginxConfig {
  const engine = new Liquid({
    strictVariables: true,
    strictFilters: true,
  });
  const template = fs.readFileSync(path.join(templatesDir, "nginx.conf.liquid"), "utf8");
  const id = createHash("sha256")
    .update(template)
    .update("\0")
    .update(JSON.stringify(vars))
    .digest("hex")
    .slice(0, 12);
  return { text: engine.parseAndRenderSync(template, { ...vars, config_id: id }) as string, id };
}
