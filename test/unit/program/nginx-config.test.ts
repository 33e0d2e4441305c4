// The nginx.conf the program renders from templates/nginx.conf.liquid (liquidjs, strict mode).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifest, type Manifest } from "../../../program/manifest";
import { renderNginxConfig, type NginxConfigVars } from "../../../program/nginx-config";
import { ADMIN_ROUTES, nginxConfig, planStack } from "../../../program/plan";
import { APP_SHUTDOWN_TIMEOUT_S, CONTAINER_STOP_GRACE_S, PROXY_READ_TIMEOUT_S } from "../../../lib/drain";
import { REPO_ROOT } from "../../support/project-copy";

const SHIPPED = loadManifest(path.join(REPO_ROOT, "manifest.yaml"));

/** The containers of a generation, as the program names them. */
function servers(replicas: number, generation = "3f2a1c9b"): string[] {
  return Array.from({ length: replicas }, (_, i) => `swiftdeploy-snapshot-app-${generation}-${i}`);
}

function planFor(replicas: number) {
  const manifest: Manifest = { ...SHIPPED, app: { ...SHIPPED.app, replicas } };
  // planStack is pure: the project folder is only joined into paths, never read.
  return planStack({ project: "swiftdeploy", stack: "snapshot", mode: "canary", manifest, projectDir: "/p" });
}

/** One set (stable) of `replicas` containers. */
function configFor(replicas: number): string {
  return nginxConfig(planFor(replicas), [{ set: "stable", servers: servers(replicas) }], null).text;
}

/** Stable with `replicas` containers beside a canary of `canaryReplicas`, `weight` % to the canary. */
function twoSetConfig(replicas: number, canaryReplicas: number, weight: number): string {
  return nginxConfig(
    planFor(replicas),
    [
      { set: "stable", servers: servers(replicas) },
      { set: "canary", servers: servers(canaryReplicas, "77aa00ee") },
    ],
    weight,
  ).text;
}

/** The text of the first block that starts with `head {`, up to its closing brace. */
function block(config: string, head: string): string {
  const start = config.indexOf(`${head} {`);
  expect(start, `no "${head} {" in the config`).toBeGreaterThanOrEqual(0);
  const open = start + head.length + 2;
  return config.slice(open, config.indexOf("}", open)).trim();
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

  it("with a canary beside stable matches its snapshot", async () => {
    await expect(twoSetConfig(3, 1, 10)).toMatchFileSnapshot(`__snapshots__/nginx-canary.conf`);
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
      expect(
        block(config, "upstream app_stable")
          .split("\n")
          .map((l) => l.trim()),
      ).toEqual(servers(replicas).map((name) => `server ${name}:3000;`));
      expect(config).not.toContain("upstream app_canary");
      // A worker shutting down after a reload never finishes a lookup: the names resolve at load time only.
      expect(config).not.toMatch(/^\s*resolver\s/m);
      // The variable names an upstream block, which nginx picks without DNS; with one set it is that set.
      expect(locationBlock(config, "/")).toMatch(/^\s*proxy_pass http:\/\/app_\$swiftdeploy_set;$/m);
      expect(block(config, "map $http_x_canary $swiftdeploy_set")).toBe("default stable;");
      expect(config).not.toContain("split_clients");
      expect(config.match(/^\s*proxy_pass\s/gm)).toHaveLength(1);
    },
  );

  it("with a canary, sends each set to its own upstream and the weight to the canary, per request", () => {
    const config = twoSetConfig(3, 2, 20);
    expect(
      block(config, "upstream app_stable")
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(servers(3).map((name) => `server ${name}:3000;`));
    expect(
      block(config, "upstream app_canary")
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(servers(2, "77aa00ee").map((name) => `server ${name}:3000;`));
    // Per request, never per client: every client here comes from one address.
    expect(
      block(config, 'split_clients "${request_id}" $swiftdeploy_split')
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(["20% canary;", "* stable;"]);
    expect(
      block(config, "map $http_x_canary $swiftdeploy_set")
        .split("\n")
        .map((l) => l.trim()),
    ).toEqual(["always canary;", "never stable;", "default $swiftdeploy_split;"]);
    expect(locationBlock(config, "/")).toMatch(/^\s*proxy_pass http:\/\/app_\$swiftdeploy_set;$/m);
    // The pin chose the set in nginx: the app never sees the header.
    expect(locationBlock(config, "/")).toMatch(/^\s*proxy_set_header X-Canary "";$/m);
    // Retries stay within the chosen set: as many as its largest set has containers, plus one.
    expect(config).toContain("proxy_next_upstream_tries 4;");
  });

  it.each([1, 10, 50])("writes a weight of %i %% as it is", (weight) => {
    expect(twoSetConfig(1, 1, weight)).toContain(`    ${weight}% canary;`);
  });

  it("logs nginx's own time and the set of every request", () => {
    expect(configFor(1)).toMatch(
      /log_format swiftdeploy [^;]*rt=\$request_time urt=\$upstream_response_time set=\$swiftdeploy_set';/,
    );
    expect(configFor(1)).toMatch(/^\s*access_log \/dev\/stdout swiftdeploy;$/m);
  });

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
    sets: [{ set: "stable", servers: ["a-0"] }],
    max_servers: 1,
    canary_weight: 0,
    pin_header: "X-Canary",
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
    expect(renderNginxConfig({ ...VARS, sets: [{ set: "stable", servers: ["b-0"] }] }).id).not.toBe(id);
    expect(renderNginxConfig({ ...VARS, sets: [{ set: "stable", servers: ["a-0", "a-1"] }] }).id).not.toBe(
      id,
    );
    expect(renderNginxConfig({ ...VARS, canary_weight: 10 }).id).not.toBe(id);
  });
});
