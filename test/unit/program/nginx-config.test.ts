// The nginx.conf the program renders from templates/nginx.conf.liquid (liquidjs, strict mode).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifest, type Manifest } from "../../../program/manifest";
import { renderNginxConfig, type NginxConfigVars } from "../../../program/nginx-config";
import { ADMIN_ROUTES, nginxConfig, planStack } from "../../../program/plan";
import { APP_SHUTDOWN_TIMEOUT_S, CONTAINER_STOP_GRACE_S, PROXY_READ_TIMEOUT_S } from "../../../lib/drain";
import { REPO_ROOT } from "../../support/project-copy";

const SHIPPED = loadManifest(path.join(REPO_ROOT, "manifest.yaml"));

/** The containers of generation 3f2a1c9b, as the program names them. */
function servers(replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `swiftdeploy-snapshot-app-3f2a1c9b-${i}`);
}

function renderedFor(replicas: number) {
  const manifest: Manifest = { ...SHIPPED, app: { ...SHIPPED.app, replicas } };
  // planStack is pure: the project folder is only joined into paths, never read.
  const plan = planStack({
    project: "swiftdeploy",
    stack: "snapshot",
    mode: "canary",
    manifest,
    projectDir: "/p",
  });
  return nginxConfig(plan, servers(replicas));
}

function configFor(replicas: number): string {
  return renderedFor(replicas).text;
}

/** The body of the first `location <match> {` block, or undefined. */
function locationBlock(config: string, match: string): string | undefined {
  const start = config.indexOf(`location ${match} {`);
  if (start < 0) return undefined;
  return config.slice(config.indexOf("{", start) + 1, config.indexOf("}", start)).trim();
}

describe("the rendered nginx.conf", () => {
  it.each([1, 3])("for %i replica(s) matches its snapshot", async (replicas) => {
    await expect(configFor(replicas)).toMatchFileSnapshot(`__snapshots__/nginx-${replicas}-replica.conf`);
  });

  it.each(ADMIN_ROUTES)("answers %s and everything under it with 404, before the proxy location", (route) => {
    const config = configFor(1);
    expect(locationBlock(config, `^~ ${route}`)).toBe("return 404;");
    // ^~ wins over the plain prefix "location /" whatever the order, but keep them first for readers.
    expect(config.indexOf(`location ^~ ${route}`)).toBeLessThan(config.indexOf("location / {"));
  });

  it("lists /metrics and /chaos as the admin routes", () => {
    expect(ADMIN_ROUTES).toEqual(["/metrics", "/chaos"]);
  });

  it.each([1, 3])(
    "proxies to exactly the %i container(s) it is given, by name, with no DNS lookup per request",
    (replicas) => {
      const config = configFor(replicas);
      const upstream = config.slice(
        config.indexOf("upstream app {"),
        config.indexOf("}", config.indexOf("upstream app {")),
      );
      expect(upstream.match(/^\s*server .*$/gm)!.map((l) => l.trim())).toEqual(
        servers(replicas).map((name) => `server ${name}:3000;`),
      );
      // A worker shutting down after a reload never finishes a lookup: the names resolve at load time only.
      expect(config).not.toMatch(/^\s*resolver\s/m);
      expect(locationBlock(config, "/")).toMatch(/^proxy_pass http:\/\/app;$/m);
      expect(config.match(/^\s*proxy_pass\s/gm)).toHaveLength(1);
    },
  );

  it("waits for a proxied request as long as lib/drain.ts says, less than the app's drain", () => {
    expect(locationBlock(configFor(1), "/")).toContain(`proxy_read_timeout ${PROXY_READ_TIMEOUT_S}s;`);
    expect(APP_SHUTDOWN_TIMEOUT_S).toBeGreaterThan(PROXY_READ_TIMEOUT_S);
    expect(CONTAINER_STOP_GRACE_S).toBeGreaterThan(APP_SHUTDOWN_TIMEOUT_S);
  });

  it.each([
    [1, 2],
    [3, 4],
    [8, 9],
  ])("with %i replica(s) tries a request on up to %i upstream attempts", (replicas, tries) => {
    expect(configFor(replicas)).toContain(`proxy_next_upstream_tries ${tries};`);
  });

  it("listens on the container port the program publishes and leaves no template syntax behind", () => {
    const config = configFor(1);
    expect(config).toMatch(/^\s*listen 8080;$/m);
    expect(config).not.toMatch(/\{\{|\{%/);
  });
});

describe("renderNginxConfig in strict mode", () => {
  const VARS: NginxConfigVars = {
    stack: "s",
    listen_port: 8080,
    app_servers: ["a-0"],
    app_port: 3000,
    proxy_read_timeout_s: 15,
    admin_routes: ["/metrics"],
  };

  it.each(Object.keys(VARS) as (keyof NginxConfigVars)[])("refuses to render without %s", (key) => {
    const vars: Partial<NginxConfigVars> = { ...VARS };
    delete vars[key];
    expect(() => renderNginxConfig(vars as NginxConfigVars)).toThrow(`undefined variable: ${key}`);
  });

  it("renders with every variable present", () => {
    expect(renderNginxConfig(VARS).text).toContain("# nginx.conf of stack s,");
  });

  it("answers /nginx-health with the config's id, which changes with any variable", () => {
    const { text, id } = renderNginxConfig(VARS);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(locationBlock(text, "= /nginx-health")).toContain(`return 200 "ok ${id}\\n";`);
    expect(renderNginxConfig(VARS).id).toBe(id);
    expect(renderNginxConfig({ ...VARS, app_servers: ["b-0"] }).id).not.toBe(id);
    expect(renderNginxConfig({ ...VARS, app_servers: ["a-0", "a-1"] }).id).not.toBe(id);
  });
});
