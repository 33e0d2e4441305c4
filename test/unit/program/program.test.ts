// index.ts under Pulumi mocks: which resources a manifest and a stack config declare, with which inputs.
// The program runs for real (planStack, prepareHostFiles with opa, esbuild and `docker info`) in a temp
// copy of the project; only the engine, the providers and the gates' dynamic providers are replaced.
import * as fs from "node:fs";
import * as path from "node:path";
import { RunError } from "@pulumi/pulumi/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFiles, listFiles } from "../../../program/build-context";
import { loadManifest } from "../../../program/manifest";
import { HEALTHCHECK } from "../../../components/supervised";
import { CONTAINER_STOP_GRACE_S, PROXY_READ_TIMEOUT_S } from "../../../lib/drain";
import { appGeneration, BIG_FILE_BYTES, nginxConfig, planStack } from "../../../program/plan";
import { copyProject, toolsBinDir } from "../../support/project-copy";
import { fakeHostPort, PROJECT, runProgram, valueOf, type ProgramRun, type Registered } from "./run-program";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const NETWORK = "docker:index/network:Network";
const COMMAND = "command:local:Command";
const INFRASTRUCTURE_GATE = "pulumi-nodejs:dynamic/swiftdeploy:InfrastructureGate";
const CANARY_GATE = "pulumi-nodejs:dynamic/swiftdeploy:CanaryGate";
const READINESS = "pulumi-nodejs:dynamic/swiftdeploy:Readiness";
const INGRESS_CONFIG = "pulumi-nodejs:dynamic/swiftdeploy:IngressConfig";

const ORIGINAL_PATH = process.env.PATH;
let projectDir: string;

beforeAll(() => {
  // prepareHostFiles finds opa on PATH, where `source scripts/env` puts the tools setup built.
  process.env.PATH = `${toolsBinDir()}${path.delimiter}${ORIGINAL_PATH}`;
  projectDir = copyProject();
  fs.mkdirSync(path.join(projectDir, "test-manifests"));
});

afterAll(() => {
  process.env.PATH = ORIGINAL_PATH;
  if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
});

function resource(run: ProgramRun, name: string): Registered {
  const found = run.resources.find((r) => r.name === name);
  if (!found)
    throw new Error(`no resource ${name}; registered: ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
}

function ofType(run: ProgramRun, type: string): Registered[] {
  return run.resources.filter((r) => r.type === type);
}

/** The app's containers, replica 0 first: resources app-<generation>-<replica> of the App component. */
function appContainers(run: ProgramRun): Registered[] {
  return ofType(run, CONTAINER)
    .filter((c) => c.parent === "app")
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The app's image resource: app-image-<version>-<build>. */
function appImage(run: ProgramRun): Registered {
  const [image] = ofType(run, IMAGE).filter((i) => i.parent === "app");
  return image;
}

/** The hash of what the app image is built from (the bundle esbuild wrote and the Dockerfile). */
function serviceHash(): string {
  const service = path.join(projectDir, "service");
  return hashFiles([path.join(service, "dist", "server.js"), path.join(service, "Dockerfile")], service);
}

/** A manifest next to the copy's own, with `from` replaced by `to`; returns its path relative to the project. */
function writeManifest(file: string, edits: [from: string, to: string][]): string {
  let text = fs.readFileSync(path.join(projectDir, "manifest.yaml"), "utf8");
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`manifest.yaml has no ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  const relative = path.join("test-manifests", file);
  fs.writeFileSync(path.join(projectDir, relative), text);
  return relative;
}

function succeeded(run: ProgramRun): ProgramRun {
  if (run.error) throw run.error;
  return run;
}

/** The Docker names (containers, networks, images without tag) a run declares. */
function dockerNames(run: ProgramRun): string[] {
  return run.resources
    .filter((r) => r.type.startsWith("docker:"))
    .map((r) => String(r.inputs.name).replace(/:[^/]*$/, ""));
}

describe("the program with the shipped manifest on stack unittest", () => {
  const STACK = "unittest";
  let run: ProgramRun;
  let state: string;
  const opaBinary = () => fs.realpathSync(path.join(toolsBinDir(), "opa"));

  beforeAll(async () => {
    run = succeeded(await runProgram({ projectDir, stack: STACK }));
    state = path.join(projectDir, ".swiftdeploy", STACK);
  });

  it("registers exactly the networks, OPA, both gates, one app replica, nginx, readiness probes, the rollout step, the audit record and its providers", () => {
    expect(appContainers(run).map((c) => c.name)).toEqual([expect.stringMatching(/^app-[0-9a-f]{8}-0$/)]);
    const registered = run.resources.map((r) => `${r.type} ${r.name} < ${r.parent ?? "-"}`).sort();
    expect(registered).toEqual(
      [
        "swiftdeploy:index:NetworkPair networks < -",
        `${NETWORK} networks-public < networks`,
        `${NETWORK} networks-internal < networks`,
        "swiftdeploy:index:OpaServer opa < -",
        `${COMMAND} opa-policy-tests < opa`,
        `${IMAGE} opa-image < opa`,
        `${CONTAINER} opa-server < opa`,
        `${READINESS} opa-ready < opa`,
        `${INFRASTRUCTURE_GATE} infrastructure-gate < -`,
        `${CANARY_GATE} canary-gate < -`,
        "swiftdeploy:index:App app < -",
        `${IMAGE} app-image-1.0.0-${serviceHash().slice(0, 8)} < app`,
        `${CONTAINER} ${appContainers(run)[0].name} < app`,
        `${READINESS} app-ready < app`,
        "swiftdeploy:index:Nginx nginx < -",
        `${IMAGE} nginx-image < nginx`,
        `${CONTAINER} nginx-server < nginx`,
        `${READINESS} nginx-ready < nginx`,
        `${INGRESS_CONFIG} ingress-config < -`,
        "swiftdeploy:index:AuditRecord audit < -",
        `${COMMAND} audit-events < audit`,
        "pulumi:providers:pulumi-nodejs dynamic-host < -",
        "pulumi:providers:docker docker < -",
        "pulumi:providers:command command < -",
      ].sort(),
    );
  });

  it.each([
    ["networks-public", { name: "swiftdeploy-unittest-net" }],
    ["networks-internal", { name: "swiftdeploy-unittest-opa-internal", internal: true }],
  ])("declares network %s with exactly these inputs", (name, inputs) => {
    expect(resource(run, name).inputs).toEqual(inputs);
  });

  it.each([
    ["opa-image", "swiftdeploy-unittest/opa", () => path.join(projectDir, ".swiftdeploy", "build", "opa")],
    [
      "nginx-image",
      "swiftdeploy-unittest/nginx",
      () => path.join(projectDir, "components", "images", "nginx"),
    ],
  ])("builds %s as %s from its context", (name, image, context) => {
    const { inputs } = resource(run, name);
    expect(inputs.name).toBe(image);
    expect(inputs.build).toEqual({ context: context() });
    expect(Object.values(inputs.triggers)).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/)]);
  });

  it("builds the OPA image from a context holding its Dockerfile and the opa binary on PATH, hashed", () => {
    const context = path.join(projectDir, ".swiftdeploy", "build", "opa");
    expect(fs.readdirSync(context).sort()).toEqual(["Dockerfile", "opa"]);
    expect(fs.readFileSync(path.join(context, "opa")).equals(fs.readFileSync(opaBinary()))).toBe(true);
    expect(resource(run, "opa-image").inputs.triggers).toEqual({
      context: hashFiles(listFiles(context), context, { statAbove: BIG_FILE_BYTES }),
    });
  });

  // One image resource per build: replacing one would remove it (and the containers on it) first.
  it("builds the app image from service/ as a resource and a tag of its own per build of the bundle and Dockerfile", () => {
    const build = serviceHash().slice(0, 8);
    const image = appImage(run);
    expect(image.name).toBe(`app-image-1.0.0-${build}`);
    expect(image.inputs).toEqual({
      name: `swiftdeploy-unittest/swiftdeploy-app:1.0.0-${build}`,
      build: { context: path.join(projectDir, "service") },
    });
  });

  it("runs the OPA server on the internal network only, with no published port", () => {
    const { inputs } = resource(run, "opa-server");
    expect(inputs.name).toBe("swiftdeploy-unittest-opa");
    expect(inputs.image).toBe("sha256:opa-image");
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-opa-internal" }]);
    expect(inputs.ports).toBeUndefined();
    expect(inputs.networkMode).toBeUndefined();
  });

  it("serves OPA's REST API on a Unix socket in the stack's state folder, as the user running Pulumi", () => {
    const { inputs } = resource(run, "opa-server");
    expect(inputs.volumes).toEqual([{ hostPath: path.join(state, "opa"), containerPath: "/run/opa" }]);
    expect(inputs.command).toEqual([
      "/bin/sh",
      "-c",
      expect.stringContaining("exec opa run --server --addr unix:///run/opa/opa.sock "),
    ]);
    expect(inputs.command[2]).toMatch(/--set decision_logs\.console=true \/policies$/);
    expect(inputs.user).toBe(`${process.getuid!()}:${process.getgid!()}`);
    expect(fs.statSync(path.join(state, "opa")).isDirectory()).toBe(true);
  });

  it("uploads every policy and data.json into the OPA container, but no policy test", () => {
    const policies = path.join(projectDir, "policies");
    const served = fs.readdirSync(policies).filter((f) => !f.endsWith("_test.rego"));
    expect(served).toContain("data.json");
    const uploads = resource(run, "opa-server").inputs.uploads as { file: string; content: string }[];
    expect(uploads.map((u) => u.file).sort()).toEqual(served.map((f) => `/policies/${f}`).sort());
    for (const upload of uploads) {
      expect(upload.content).toBe(fs.readFileSync(path.join(policies, path.basename(upload.file)), "utf8"));
    }
  });

  it("checks and tests the policies with the opa on PATH before the OPA server starts, again when they change", () => {
    const tests = resource(run, "opa-policy-tests");
    const opa = opaBinary();
    expect(tests.inputs.create).toBe(`"${opa}" check --strict . && "${opa}" test .`);
    expect(tests.inputs.dir).toBe(path.join(projectDir, "policies"));
    expect(tests.inputs.triggers).toEqual([
      hashFiles(listFiles(path.join(projectDir, "policies")), path.join(projectDir, "policies")),
    ]);
  });

  it.each(["opa-server", "app replica 0", "nginx-server"])(
    "gives %s a healthcheck, a restart policy and a stop grace longer than the app's drain; Docker's status is not what pulumi up waits on",
    (name) => {
      const { inputs } = name === "app replica 0" ? appContainers(run)[0] : resource(run, name);
      expect(inputs.healthcheck.tests[0]).toBe("CMD");
      expect(inputs.healthcheck.retries).toBeGreaterThan(0);
      expect(inputs.restart).toBe("unless-stopped");
      expect(inputs.wait ?? false).toBe(false);
      expect(inputs.destroyGraceSeconds).toBe(CONTAINER_STOP_GRACE_S);
      expect(inputs.stopTimeout).toBe(CONTAINER_STOP_GRACE_S);
    },
  );

  it.each<[string, string, { name: string; url: string; socketPath?: string }[]]>([
    [
      "opa-ready",
      "opa-server",
      [{ name: "opa", url: "http://opa/health", socketPath: "<state>/opa/opa.sock" }],
    ],
    ["app-ready", "<app-0>", [{ name: "app-0", url: "http://127.0.0.1:<port of app-0>/healthz" }]],
    ["nginx-ready", "nginx-server", [{ name: "nginx", url: "http://127.0.0.1:8081/nginx-health" }]],
  ])(
    "makes pulumi up wait until %s sees %s answer its health route from the host",
    async (name, containerName, probes) => {
      const ready = resource(run, name);
      const container = containerName === "<app-0>" ? appContainers(run)[0].name : containerName;
      // The app's admin port on the host is the one Docker picked for the container (the mocks pick too).
      const expected = probes.map((p) => ({
        ...p,
        url: p.url.replace("<port of app-0>", String(fakeHostPort(container))),
        ...(p.socketPath ? { socketPath: p.socketPath.replace("<state>", state) } : {}),
      }));
      expect(await valueOf(ready.inputs.probes)).toEqual(expected);
      expect(ready.dependsOn).toContain(container);
      expect(await valueOf(ready.inputs.containerIds)).toEqual([`${container}-id`]);
      expect(ready.inputs.timeoutSeconds).toBe(60); // README: "60 s at most"
    },
  );

  it("registers its providers before any other resource, the SDK packages' at their own versions", () => {
    expect(run.resources.slice(0, 3).map((r) => r.name)).toEqual(["dynamic-host", "docker", "command"]);
    expect(resource(run, "docker").version).toBe(require("@pulumi/docker/package.json").version);
    expect(resource(run, "command").version).toBe(require("@pulumi/command/package.json").version);
  });

  it.each([
    ...["infrastructure-gate", "canary-gate", "opa-ready", "app-ready", "nginx-ready"].map((n) => [
      n,
      "dynamic-host",
    ]),
    ["ingress-config", "dynamic-host"],
    ...["networks-public", "networks-internal", "opa-image", "opa-server", "<app image>", "<app-0>"].map(
      (n) => [n, "docker"],
    ),
    ...["nginx-image", "nginx-server"].map((n) => [n, "docker"]),
    ...["opa-policy-tests", "audit-events"].map((n) => [n, "command"]),
  ])("runs %s with the %s provider the program registered", (name, provider) => {
    const registered =
      name === "<app image>"
        ? appImage(run)
        : name === "<app-0>"
          ? appContainers(run)[0]
          : resource(run, name);
    expect(registered.provider).toBe(provider);
  });

  it("runs one app container of its generation on the public network, its admin port on a 127.0.0.1 port Docker picks", () => {
    const app = appContainers(run);
    const generation = app[0].name.split("-")[1];
    expect(app.map((c) => c.inputs.name)).toEqual([`swiftdeploy-unittest-app-${generation}-0`]);
    const { inputs } = app[0];
    expect(inputs.image).toBe(`sha256:${appImage(run).name}`);
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-net" }]);
    expect(inputs.ports).toEqual([{ internal: 9100, ip: "127.0.0.1" }]);
    expect(inputs.labels).toEqual(
      expect.arrayContaining([
        { label: "swiftdeploy.stack", value: STACK },
        { label: "swiftdeploy.role", value: "app" },
        { label: "swiftdeploy.generation", value: generation },
        { label: "swiftdeploy.replica", value: "0" },
      ]),
    );
    expect(inputs.healthcheck.tests.join(" ")).toContain(
      "curl -fsS -o /dev/null http://127.0.0.1:3000/healthz",
    );
  });

  it("names the generation after everything the containers are made of: image, mode, ports, healthcheck", () => {
    const plan = planStack({
      project: PROJECT,
      stack: STACK,
      mode: "canary",
      manifest: loadManifest(path.join(projectDir, "manifest.yaml")),
      projectDir,
    });
    const generation = appGeneration(plan, serviceHash(), HEALTHCHECK);
    expect(appContainers(run)[0].name).toBe(`app-${generation}-0`);
    const differs = [
      appGeneration(plan, "0".repeat(16), HEALTHCHECK),
      appGeneration({ ...plan, mode: "stable" }, serviceHash(), HEALTHCHECK),
      appGeneration(plan, serviceHash(), { ...HEALTHCHECK, interval: "9s" }),
      appGeneration(
        { ...plan, manifest: { ...plan.manifest, app: { ...plan.manifest.app, port: 3001 } } },
        serviceHash(),
        HEALTHCHECK,
      ),
    ];
    expect(new Set([generation, ...differs]).size).toBe(5);
    // Scaling keeps the generation: replicas are added or removed beside the running ones.
    const scaled = { ...plan, manifest: { ...plan.manifest, app: { ...plan.manifest.app, replicas: 3 } } };
    expect(appGeneration(scaled, serviceHash(), HEALTHCHECK)).toBe(generation);
  });

  it("gives the app its name, version, mode canary, ports and chaos switch from the manifest", () => {
    expect(appContainers(run)[0].inputs.envs).toEqual([
      "SERVICE_NAME=swiftdeploy",
      "APP_VERSION=1.0.0",
      "APP_MODE=canary",
      "APP_PORT=3000",
      "ADMIN_PORT=9100",
      "CHAOS_ENABLED=true",
    ]);
  });

  // The gate's output, not the config: the app is replaced in stable mode only once the gate allowed it.
  it.each(["<app-0>", "audit-events"])("takes the mode for %s from the canary gate's output", (name) => {
    const registered = name === "<app-0>" ? appContainers(run)[0] : resource(run, name);
    expect(registered.dependsOn).toContain("canary-gate");
  });

  it("publishes nginx on the manifest's ingress bind and port, on the public network, its config in a mounted folder", () => {
    const { inputs } = resource(run, "nginx-server");
    expect(inputs.name).toBe("swiftdeploy-unittest-nginx");
    expect(inputs.image).toBe("sha256:nginx-image");
    expect(inputs.ports).toEqual([{ internal: 8080, external: 8081, ip: "0.0.0.0" }]);
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-net" }]);
    // A folder, not a file: the rollout step's rename shows inside the container.
    expect(inputs.volumes).toEqual([
      { hostPath: path.join(state, "nginx"), containerPath: "/etc/nginx/swiftdeploy" },
    ]);
    expect(inputs.uploads).toBeUndefined();
  });

  it("applies the rendered config, naming the app's containers, through the rollout step once they are ready", async () => {
    const step = resource(run, "ingress-config");
    const plan = planStack({
      project: PROJECT,
      stack: STACK,
      mode: "canary",
      manifest: loadManifest(path.join(projectDir, "manifest.yaml")),
      projectDir,
    });
    const names = appContainers(run).map((c) => c.inputs.name);
    const config = nginxConfig(plan, names);
    expect(step.inputs).toMatchObject({
      container: "swiftdeploy-unittest-nginx",
      containerId: "nginx-server-id",
      configDir: path.join(state, "nginx"),
      config: config.text,
      configId: config.id,
      upstreams: names,
      healthUrl: "http://127.0.0.1:8081/nginx-health",
      targetsFile: path.join(state, "prometheus", "app-targets.json"),
      drainSeconds: PROXY_READ_TIMEOUT_S,
      __provider: expect.stringContaining("handler = () => ingressConfigProvider"),
    });
    expect(step.dependsOn).toEqual(
      expect.arrayContaining(["app-ready", "nginx-ready", "infrastructure-gate"]),
    );
    const port = fakeHostPort(appContainers(run)[0].name);
    expect(await valueOf(step.inputs.targets)).toEqual([
      {
        targets: [`127.0.0.1:${port}`],
        labels: expect.objectContaining({ stack: STACK, role: "app", replica: "0" }),
      },
    ]);
  });

  it("never writes nginx's config itself: the folder stays empty until the rollout step runs", () => {
    expect(fs.readdirSync(path.join(state, "nginx"))).toEqual([]);
  });

  it("hands the infrastructure gate OPA's socket, the manifest's timeout, the history file and Docker's data root", () => {
    const gate = resource(run, "infrastructure-gate");
    expect(gate.inputs).toEqual({
      opaSocket: path.join(state, "opa", "opa.sock"),
      timeoutMs: 2000,
      historyFile: path.join(state, "history.jsonl"),
      stack: STACK,
      dockerRoot: expect.stringMatching(/^\//),
      // The provider, bundled for the dynamic-provider host (components/providers.ts).
      __provider: expect.stringContaining("handler = () => infrastructureGateProvider"),
    });
  });

  it("hands the canary gate the mode, the admin URLs and the manifest's observation window", () => {
    const gate = resource(run, "canary-gate");
    expect(gate.inputs).toEqual({
      opaSocket: path.join(state, "opa", "opa.sock"),
      timeoutMs: 2000,
      mode: "canary",
      // What runs now, from Docker by the stack's labels: nothing of stack unittest.
      adminUrls: [],
      windowSeconds: 30,
      historyFile: path.join(state, "history.jsonl"),
      stack: STACK,
      __provider: expect.stringContaining("handler = () => canaryGateProvider"),
    });
  });

  // A dependsOn on a component stands for its children. Children register only after their parent, so a
  // component waiting for a gate holds back every resource in it.
  it.each([
    ["opa-server", ["opa-policy-tests"]],
    ["infrastructure-gate", ["opa-server"]],
    ["canary-gate", ["infrastructure-gate"]],
    ["app", ["canary-gate", "infrastructure-gate"]],
    ["nginx", ["infrastructure-gate"]],
    ["audit", ["app-ready", "nginx-server", "nginx-ready", "ingress-config"]],
  ])("registers %s only after %j", (name, after) => {
    expect(resource(run, name).dependsOn).toEqual(expect.arrayContaining(after));
  });

  it.each(["opa-server", "nginx-server"])(
    "replaces %s when its healthcheck changes, removing it first: only one container can hold its socket or port",
    (name) => {
      expect(resource(run, name).replaceOnChanges).toEqual(["healthcheck"]);
      expect(resource(run, name).deleteBeforeReplace).toBe(true);
    },
  );

  it("never asks the engine to remove an app container before its successor runs", () => {
    const [app0] = appContainers(run);
    expect(app0.replaceOnChanges).toEqual(["healthcheck"]);
    expect(app0.deleteBeforeReplace).toBe(false);
  });

  it("starts nginx beside the app, not after it: it serves what it served until the rollout step reloads it", () => {
    expect(resource(run, "nginx").dependsOn).not.toContain("app");
  });

  it("records deploys and the teardown through components/audit-append.ts, run with sucrase from the project", () => {
    const { inputs } = resource(run, "audit-events");
    const append = `node --require sucrase/register/ts components/audit-append.ts "$HISTORY_FILE" "$STACK"`;
    expect(inputs.create).toBe(`${append} deploy "$DEPLOYED"`);
    expect(inputs.update).toBe(`${append} deploy "$DEPLOYED"`);
    expect(inputs.delete).toBe(`${append} teardown '{}'`);
    expect(inputs.dir).toBe(projectDir);
    expect(fs.existsSync(path.join(projectDir, "components", "audit-append.ts"))).toBe(true);
  });

  it("records in each deploy event the mode, the version and the ids of the containers that run", () => {
    const { environment } = resource(run, "audit-events").inputs;
    expect(environment.HISTORY_FILE).toBe(path.join(state, "history.jsonl"));
    expect(environment.STACK).toBe(STACK);
    expect(JSON.parse(environment.DEPLOYED)).toEqual({
      mode: "canary",
      version: "1.0.0",
      app: `${appContainers(run)[0].name}-id`,
      nginx: "nginx-server-id",
    });
  });

  it("exports the public URL, admin URLs, OPA socket, mode and history file", async () => {
    const outputs = run.exports!;
    expect(outputs.publicUrl).toBe("http://127.0.0.1:8081");
    expect(await valueOf(outputs.adminUrls as string[])).toEqual([
      `http://127.0.0.1:${fakeHostPort(appContainers(run)[0].name)}`,
    ]);
    expect(outputs.opaSocket).toBe(path.join(state, "opa", "opa.sock"));
    expect(outputs.historyFile).toBe(path.join(state, "history.jsonl"));
    expect(await valueOf(outputs.mode as string)).toBe("canary");
    expect(Object.keys(outputs)).toContain("infrastructureVerdict");
  });

  describe("and beside it stack Feature.X in mode stable, 3 replicas and overridden host ports", () => {
    let other: ProgramRun;

    beforeAll(async () => {
      const manifest = writeManifest("three-replicas.yaml", [
        ["replicas: 1 ", "replicas: 3 "],
        ["observation_window_s: 30 ", "observation_window_s: 45 "],
        ["opa_timeout_ms: 2000 ", "opa_timeout_ms: 1500 "],
      ]);
      other = succeeded(
        await runProgram({
          projectDir,
          stack: "Feature.X",
          config: { mode: "stable", manifest, ingressPort: "18081", adminPort: "19100" },
        }),
      );
    });

    // The override replaces app.admin_port: the listener's port inside the container; Docker picks the host's.
    it.each([0, 1, 2])("runs app replica %i with its admin listener on the overridden port", (i) => {
      const { inputs } = appContainers(other)[i];
      expect(inputs.name).toMatch(new RegExp(`^swiftdeploy-feature-x-3b7a83-app-[0-9a-f]{8}-${i}$`));
      expect(inputs.ports).toEqual([{ internal: 19100, ip: "127.0.0.1" }]);
      expect(inputs.envs).toContain("APP_MODE=stable");
      expect(inputs.envs).toContain("ADMIN_PORT=19100");
      expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-feature-x-3b7a83-net" }]);
    });

    it("runs exactly 3 app containers", () => {
      expect(appContainers(other)).toHaveLength(3);
    });

    it("publishes nginx on the overridden ingress port, retrying across the 3 replicas", () => {
      const { inputs } = resource(other, "nginx-server");
      expect(inputs.ports).toEqual([{ internal: 8080, external: 18081, ip: "0.0.0.0" }]);
      expect(resource(other, "ingress-config").inputs.config).toContain("proxy_next_upstream_tries 4;");
    });

    it("asks the canary gate to judge stable over what runs, and exports the 3 admin URLs Docker picked", async () => {
      const urls = appContainers(other).map((c) => `http://127.0.0.1:${fakeHostPort(c.name)}`);
      expect(resource(other, "canary-gate").inputs).toMatchObject({ mode: "stable", adminUrls: [] });
      expect(await valueOf(other.exports!.adminUrls as string[])).toEqual(urls);
      expect(other.exports!.publicUrl).toBe("http://127.0.0.1:18081");
      expect(await valueOf(other.exports!.mode as string)).toBe("stable");
    });

    it.each(["infrastructure-gate", "canary-gate"])("hands %s the manifest's OPA timeout", (name) => {
      expect(resource(other, name).inputs.timeoutMs).toBe(1500);
    });

    it("hands the canary gate the manifest's observation window", () => {
      expect(resource(other, "canary-gate").inputs.windowSeconds).toBe(45);
    });

    it("records the 3 app containers' ids in the deploy event", () => {
      const deployed = JSON.parse(resource(other, "audit-events").inputs.environment.DEPLOYED);
      const ids = appContainers(other).map((c) => `${c.name}-id`);
      expect(deployed).toMatchObject({ mode: "stable", app: ids.join(",") });
    });

    it("derives lowercase Docker names from the stack, and keeps its state under its own name", () => {
      expect(dockerNames(other).sort()).toEqual(
        [
          "swiftdeploy-feature-x-3b7a83-net",
          "swiftdeploy-feature-x-3b7a83-opa-internal",
          "swiftdeploy-feature-x-3b7a83/opa",
          "swiftdeploy-feature-x-3b7a83-opa",
          "swiftdeploy-feature-x-3b7a83/swiftdeploy-app",
          ...appContainers(other).map((c) => c.inputs.name),
          "swiftdeploy-feature-x-3b7a83/nginx",
          "swiftdeploy-feature-x-3b7a83-nginx",
        ].sort(),
      );
      const socket = path.join(projectDir, ".swiftdeploy", "Feature.X", "opa", "opa.sock");
      expect(other.exports!.opaSocket).toBe(socket);
    });

    it("shares no Docker name, state file or host port with stack unittest", () => {
      const mine = new Set(dockerNames(run));
      expect(dockerNames(other).filter((name) => mine.has(name))).toEqual([]);
      expect(other.exports!.historyFile).not.toBe(run.exports!.historyFile);
      const ports = (r: ProgramRun) =>
        ofType(r, CONTAINER).flatMap((c) =>
          (c.inputs.ports ?? []).map((p: { external?: number }) => p.external).filter((p: unknown) => p),
        );
      const taken = new Set(ports(run));
      expect(ports(other).filter((port) => taken.has(port))).toEqual([]);
    });
  });
});

describe("the program with bad stack config or manifest", () => {
  it.each<[string, () => Record<string, string>, () => string[]]>([
    [
      "mode blue fails naming swiftdeploy:mode, the allowed values and the bad value",
      () => ({ mode: "blue" }),
      () => ['config swiftdeploy:mode must be one of canary, stable; got "blue"'],
    ],
    [
      "a manifest with 0 replicas and a text port fails with the manifest's problems",
      () => ({
        manifest: writeManifest("bad.yaml", [
          ["replicas: 1 ", "replicas: 0 "],
          ["port: 3000 ", "port: http "],
        ]),
      }),
      () => expectedManifestError(path.join(projectDir, "test-manifests", "bad.yaml")),
    ],
    [
      "a missing manifest fails naming the file",
      () => ({ manifest: "test-manifests/none.yaml" }),
      () => [
        `the manifest cannot be read (1 problem):\n  - ${path.join(projectDir, "test-manifests", "none.yaml")} does not exist`,
      ],
    ],
    [
      "an ingress port override inside the admin ports fails naming the override",
      () => ({ ingressPort: "9100" }),
      () => [
        "swiftdeploy:ingressPort=9100",
        "manifest.ingress.port 9100 clashes with the admin host ports 9100",
      ],
    ],
  ])("%s as a RunError, and registers no resource", async (_, config, expected) => {
    const run = await runProgram({ projectDir, stack: "broken", config: config() });
    // Pulumi prints a RunError's message alone: no "unhandled exception", no stack trace.
    expect(RunError.isInstance(run.error)).toBe(true);
    for (const text of expected()) expect(run.error!.message).toContain(text);
    expect(run.resources).toEqual([]);
  });
});

/** The message loadManifest gives for a file, as the program must pass it on. */
function expectedManifestError(file: string): string[] {
  try {
    loadManifest(file);
  } catch (err) {
    const message = (err as Error).message;
    expect(message).toMatch(/manifest\.app\.replicas.*0/);
    expect(message).toMatch(/manifest\.app\.port.*"http"/);
    return [message];
  }
  throw new Error(`${file} is valid; the test needs an invalid manifest`);
}
