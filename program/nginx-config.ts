// nginx.conf for the ingress, rendered from templates/nginx.conf.liquid by liquidjs in strict mode: a
// variable the template uses but the program does not pass is an error, not an empty string.
import { Liquid } from "liquidjs";
import * as path from "node:path";

export interface NginxConfigVars {
  stack: string;
  /** Port nginx listens on inside its container. */
  listen_port: number;
  /** Network alias every app replica answers to on the public network. */
  app_host: string;
  /** The app's public port inside its containers. */
  app_port: number;
  replicas: number;
  /** Seconds nginx caches the app's DNS answer. */
  dns_valid_s: number;
  /** Path prefixes that are never proxied (the app serves them on its admin listener only). */
  admin_routes: string[];
}

export const TEMPLATES_DIR = path.resolve(__dirname, "..", "templates");

export function renderNginxConfig(vars: NginxConfigVars, templatesDir: string = TEMPLATES_DIR): string {
  const engine = new Liquid({
    root: templatesDir,
    extname: ".liquid",
    strictVariables: true,
    strictFilters: true,
  });
  return engine.renderFileSync("nginx.conf.liquid", vars);
}
