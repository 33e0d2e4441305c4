// The nginx.conf the program renders from templates/nginx.conf.liquid (liquidjs, strict mode).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifest, type Manifest } from "../../../program/manifest";
import { renderNginxConfig, type NginxConfigVars } from "../../../program/nginx-config";
import { ADMIN_ROUTES, nginxConfig, planStack } from "../../../program/plan";
import { REPO_ROOT } from "../../support/project-copy";

const SHIPPED = loadManifest(path.join(REPO_ROOT, "manifest.yaml"));

function configFor(replicas: number): string {
  const manifest: Manifest = { ...SHIPPED, app: { ...SHIPPED.app, replicas } };
  // planStack is pure: the project folder is only joined into paths, never read.
  return nginxConfig(
    planStack({ project: "swiftdeploy", stack: "snapshot", mode: "canary", manifest, projectDir: "/p" }),
  );
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

  it("proxies through a variable so the app's address is resolved by Docker's DNS at request time", () => {
    const config = configFor(1);
    expect(config).toMatch(/^\s*resolver 127\.0\.0\.11 valid=1s ipv6=off;$/m);
    const proxy = locationBlock(config, "/")!;
    expect(proxy).toMatch(/^set \$app_upstream http:\/\/app:3000;$/m);
    expect(proxy).toMatch(/^\s*proxy_pass \$app_upstream;$/m);
    expect(config.match(/^\s*proxy_pass\s/gm)).toHaveLength(1);
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
    app_host: "app",
    app_port: 3000,
    replicas: 1,
    dns_valid_s: 1,
    admin_routes: ["/metrics"],
  };

  it.each(Object.keys(VARS) as (keyof NginxConfigVars)[])("refuses to render without %s", (key) => {
    const vars: Partial<NginxConfigVars> = { ...VARS };
    delete vars[key];
    expect(() => renderNginxConfig(vars as NginxConfigVars)).toThrow(`undefined variable: ${key}`);
  });

  it("renders with every variable present", () => {
    expect(renderNginxConfig(VARS)).toContain("# nginx.conf of stack s,");
  });
});
