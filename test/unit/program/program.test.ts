// index.ts under Pulumi mocks: which resources a manifest, a stack config and the stack's last outputs (the
// release it runs) declare, with which inputs. The program runs for real (planStack, planRelease,
// prepareHostFiles with opa, esbuild and `docker info`) in a temp copy of the project; only the engine, the
// providers, the gates' dynamic providers and the Docker engine's listing of running containers are replaced.
import * as fs from "node:fs";
import * as path from "node:path";
import { RunError } from "@pulumi/pulumi/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFiles, listFiles } from "../../../program/build-context";
import { loadManifest } from "../../../program/manifest";
import {
  APP_LOCKDOWN,
  HEALTHCHECK,
  LOG_ROTATION,
  NGINX_LOCKDOWN,
  NGINX_USER,
} from "../../../components/supervised";
import { CONTAINER_STOP_GRACE_S, PROXY_READ_TIMEOUT_S } from "../../../lib/drain";
import { appGeneration, type AppArgs } from "../../../components/app";
import type { AppSet, Release, ReleaseState } from "../../../lib/release-state";
import { appArgs } from "../../../program/component-args";
import { dockerPrefix } from "../../../program/names";
import { BIG_FILE_BYTES, nginxConfig, OPA_LIMITS, planStack, type StackPlan } from "../../../program/plan";
import { copyProject, toolsBinDir } from "../../support/project-copy";
import {
  fakeHostPort,
  PROJECT,
  runProgram,
  valueOf,
  type ListedContainer,
  type ProgramRun,
  type Registered,
} from "./run-program";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const NETWORK = "docker:index/network:Network";
const COMMAND = "command:local:Command";
const INFRASTRUCTURE_GATE = "pulumi-nodejs:dynamic/swiftdeploy:InfrastructureGate";
const CANARY_GATE = "pulumi-nodejs:dynamic/swiftdeploy:CanaryGate";
const READINESS = "pulumi-nodejs:dynamic/swiftdeploy:Readiness";
const INGRESS_CONFIG = "pulumi-nodejs:dynamic/swiftdeploy:IngressConfig";
const APP = "swiftdeploy:index:App";
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

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

/** The Command that sets a container's pids limit: it bears the container's resource name. */
function pidsLimitOf(run: ProgramRun, container: string): Registered {
  const [found] = ofType(run, COMMAND).filter((c) => c.name === container);
  if (!found) throw new Error(`no pids limit Command named ${container}`);
  return found;
}

/** One set's containers, replica 0 first: resources app-<set>-<generation>-<replica> of its App component. */
function setContainers(run: ProgramRun, set: AppSet): Registered[] {
  return ofType(run, CONTAINER)
    .filter((c) => c.parent === `app-${set}`)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every app container, stable's first. */
function appContainers(run: ProgramRun): Registered[] {
  return [...setContainers(run, "stable"), ...setContainers(run, "canary")];
}

/** The App components (one per set) a run declares. */
function appSets(run: ProgramRun): string[] {
  return ofType(run, APP).map((a) => a.name);
}

/** The app's image resources, app-image-<version>-<content hash>, by name. */
function appImages(run: ProgramRun): Registered[] {
  return ofType(run, IMAGE)
    .filter((i) => i.name.startsWith("app-image-"))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The one app image of a run with one version. */
function appImage(run: ProgramRun): Registered {
  const images = appImages(run);
  expect(images).toHaveLength(1);
  return images[0];
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

/** The first 8 hex digits of the build's hash: the tag and the image resource carry it. */
function build8(): string {
  return serviceHash().slice(0, 8);
}

/** A version's image tag on `stack`: <prefix>/swiftdeploy-app:<version>-<content hash>. */
function tagOf(stack: string, version: string, hash = build8()): string {
  return `${dockerPrefix(PROJECT, stack)}/swiftdeploy-app:${version}-${hash}`;
}

/** A version and the image it ran with on `stack`, as the release state records it. */
function recorded(stack: string, version: string, hash: string): Release {
  return { version, image: tagOf(stack, version, hash) };
}

/** The stack's outputs after an update that left `release`, as its StackReference reads them. */
function outputsWith(release: ReleaseState): Record<string, unknown> {
  return { release };
}

/** The Docker labels a set's containers carry, as `docker ps --filter label=...` finds them. */
function labelsOf(stack: string, set: AppSet, version: string): Record<string, string> {
  return {
    "swiftdeploy.project": PROJECT,
    "swiftdeploy.stack": stack,
    "swiftdeploy.role": "app",
    "swiftdeploy.set": set,
    "swiftdeploy.version": version,
  };
}

/** The folder a kept image is built from: .swiftdeploy/<stack>/images/<version>-<content hash>/. */
function contextOf(stack: string, tag: string): string {
  return path.join(projectDir, ".swiftdeploy", stack, "images", tag.slice(tag.lastIndexOf(":") + 1));
}

/** The plan of `stack` for a manifest of the project copy, as the program derives it. */
function planOf(stack: string, mode: "canary" | "stable", manifest = "manifest.yaml"): StackPlan {
  return planStack({
    project: PROJECT,
    stack,
    mode,
    manifest: loadManifest(path.join(projectDir, manifest)),
    projectDir,
  });
}

/** The rollout step's config for the run's sets, each naming its containers' Docker names. */
function expectedConfig(plan: StackPlan, run: ProgramRun, weight: number | null) {
  const sets = (["stable", "canary"] as const)
    .map((set) => ({ set, servers: setContainers(run, set).map((c) => c.inputs.name as string) }))
    .filter((s) => s.servers.length > 0);
  return nginxConfig(plan, sets, weight);
}

/** Each container's input, replica by replica. */
function inputsOf(containers: Registered[], input: string): unknown[] {
  return containers.map((c) => c.inputs[input]);
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

describe("the program with the shipped manifest on stack unittest, first deployed (mode canary)", () => {
  const STACK = "unittest";
  let run: ProgramRun;
  let state: string;
  const opaBinary = () => fs.realpathSync(path.join(toolsBinDir(), "opa"));

  beforeAll(async () => {
    run = succeeded(await runProgram({ projectDir, stack: STACK, lastOutputs: {} }));
    state = path.join(projectDir, ".swiftdeploy", STACK);
  });

  it("registers exactly the networks, OPA, both gates, its reference to itself, one app image, the canary set of one replica, nginx, readiness probes, the rollout step, the audit record and its providers", () => {
    expect(appContainers(run).map((c) => c.name)).toEqual([
      expect.stringMatching(/^app-canary-[0-9a-f]{8}-0$/),
    ]);
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
        `${COMMAND} opa-server < opa`,
        `${READINESS} opa-ready < opa`,
        `${INFRASTRUCTURE_GATE} infrastructure-gate < -`,
        `${CANARY_GATE} canary-gate < -`,
        `${STACK_REFERENCE} organization/${PROJECT}/${STACK} < -`,
        `${IMAGE} app-image-1.0.0-${build8()} < -`,
        `${APP} app-canary < -`,
        `${CONTAINER} ${appContainers(run)[0].name} < app-canary`,
        `${COMMAND} ${appContainers(run)[0].name} < app-canary`,
        `${READINESS} app-canary-ready < app-canary`,
        "swiftdeploy:index:Nginx nginx < -",
        `${IMAGE} nginx-image < nginx`,
        `${CONTAINER} nginx-server < nginx`,
        `${COMMAND} nginx-server < nginx`,
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
  it("builds the app image as a resource and a tag of its own per version and build of the bundle and Dockerfile, outside any set", () => {
    const image = appImage(run);
    expect(image.name).toBe(`app-image-1.0.0-${build8()}`);
    expect(image.inputs).toEqual({
      name: `swiftdeploy-unittest/swiftdeploy-app:1.0.0-${build8()}`,
      build: { context: path.join(state, "images", `1.0.0-${build8()}`) },
    });
    // A set may leave while its version's image stays (retained for a rollback).
    expect(image.parent).toBeUndefined();
  });

  // service/ may hold newer code later: the version keeps building to the same image from this copy.
  it("builds it from a context of its own: a copy of service/'s bundle and Dockerfile, the content the tag's hash names", () => {
    const context = path.join(state, "images", `1.0.0-${build8()}`);
    expect(
      listFiles(context)
        .map((f) => path.relative(context, f))
        .sort(),
    ).toEqual(["Dockerfile", path.join("dist", "server.js")]);
    for (const file of ["Dockerfile", path.join("dist", "server.js")]) {
      expect(fs.readFileSync(path.join(context, file), "utf8")).toBe(
        fs.readFileSync(path.join(projectDir, "service", file), "utf8"),
      );
    }
    expect(hashFiles(listFiles(context), context)).toBe(serviceHash());
  });

  it("reads the release it runs from the stack's last outputs, through a reference to the stack itself", () => {
    const [reference] = ofType(run, STACK_REFERENCE);
    expect(reference.name).toBe(`organization/${PROJECT}/${STACK}`);
    expect(reference.inputs).toEqual({ name: `organization/${PROJECT}/${STACK}` });
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
    expect(inputs.command.slice(0, 3)).toEqual([
      "/bin/sh",
      "-c",
      expect.stringContaining("exec opa run --server --addr unix:///run/opa/opa.sock "),
    ]);
    expect(inputs.command[2]).toMatch(/--set decision_logs\.console=true \/policies$/);
    expect(inputs.user).toBe(`${process.getuid!()}:${process.getgid!()}`);
    expect(fs.statSync(path.join(state, "opa")).isDirectory()).toBe(true);
  });

  // Not as uploads: the provider copies them through "/", which Docker refuses on a read-only root.
  it("hands every policy and data.json, but no policy test, to the OPA container's command, which writes them to /policies", () => {
    const policies = path.join(projectDir, "policies");
    const served = fs.readdirSync(policies).filter((f) => !f.endsWith("_test.rego"));
    expect(served).toContain("data.json");
    const { inputs } = resource(run, "opa-server");
    expect(inputs.uploads).toBeUndefined();
    const [, , script, name, ...files] = inputs.command as string[];
    expect(script).toContain(
      `while [ $# -gt 0 ]; do printf '%s' "$2" >/policies/"$1" || exit 1; shift 2; done`,
    );
    expect(name).toBe("opa-start");
    const pairs = Array.from({ length: files.length / 2 }, (_, i) => [files[2 * i], files[2 * i + 1]]);
    expect(pairs.map(([file]) => file).sort()).toEqual(served.sort());
    for (const [file, content] of pairs) {
      expect(content).toBe(fs.readFileSync(path.join(policies, file), "utf8"));
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

  it.each<
    [
      string,
      string,
      { name: string; url: string; socketPath?: string; published?: { container: string; port: number } }[],
    ]
  >([
    [
      "opa-ready",
      "opa-server",
      [{ name: "opa", url: "http://opa/health", socketPath: "<state>/opa/opa.sock" }],
    ],
    // The host port is asked from Docker at each probe: it picks a new one at every restart.
    [
      "app-canary-ready",
      "<app-0>",
      [
        {
          name: "app-canary-0",
          url: "http://127.0.0.1/healthz",
          published: { container: "<name>", port: 9100 },
        },
      ],
    ],
    ["nginx-ready", "nginx-server", [{ name: "nginx", url: "http://127.0.0.1:8081/nginx-health" }]],
  ])(
    "makes pulumi up wait until %s sees %s answer its health route from the host",
    async (name, containerName, probes) => {
      const ready = resource(run, name);
      const container = containerName === "<app-0>" ? appContainers(run)[0].name : containerName;
      const dockerName = containerName === "<app-0>" ? appContainers(run)[0].inputs.name : undefined;
      const expected = probes.map((p) => ({
        ...p,
        ...(p.published ? { published: { ...p.published, container: dockerName } } : {}),
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
    ...["infrastructure-gate", "canary-gate", "opa-ready", "app-canary-ready", "nginx-ready"].map((n) => [
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
    const generation = app[0].name.split("-")[2];
    expect(app.map((c) => c.inputs.name)).toEqual([`swiftdeploy-unittest-app-${generation}-0`]);
    const { inputs } = app[0];
    expect(inputs.image).toBe(`sha256:${appImage(run).name}`);
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-net" }]);
    expect(inputs.ports).toEqual([{ internal: 9100, ip: "127.0.0.1" }]);
    // Its set and version too: the canary gate finds each set's running containers by them.
    const labels = [
      ...Object.entries(labelsOf(STACK, "canary", "1.0.0")),
      ["swiftdeploy.generation", generation],
      ["swiftdeploy.replica", "0"],
    ].map(([label, value]) => ({ label, value }));
    expect(inputs.labels).toEqual(expect.arrayContaining(labels));
    expect(inputs.labels).toHaveLength(labels.length);
    expect(inputs.healthcheck.tests.join(" ")).toContain(
      "curl -fsS -o /dev/null http://127.0.0.1:3000/healthz",
    );
  });

  /** The plan of stack unittest with the shipped manifest, as the program derives it. */
  function unittestPlan() {
    return planOf(STACK, "canary");
  }

  /** The canary set's arguments as the program builds them for stack unittest's first deploy. */
  function unittestAppArgs(): AppArgs {
    const set = { set: "canary", version: "1.0.0", image: tagOf(STACK, "1.0.0"), replicas: 1 } as const;
    return appArgs(unittestPlan(), "swiftdeploy-unittest-net", set, `sha256:app-image-1.0.0-${build8()}`);
  }

  it("names the containers after their set and generation, a hash of their whole spec", () => {
    expect(appContainers(run)[0].name).toBe(`app-canary-${appGeneration(unittestAppArgs())}-0`);
  });

  // Same inputs under the same name would be replaced in place, and an explicit name is removed first.
  it.each<[string, Partial<AppArgs>]>([
    ["the image's content", { image: tagOf(STACK, "1.0.0", "00000000") }],
    ["the version", { version: "1.0.1" }],
    ["the set", { set: "stable" }],
    ["the public port", { port: 3001 }],
    ["the admin port", { adminPort: 9200 }],
    ["the chaos switch", { chaosEnabled: false }],
    ["the service name", { serviceName: "other" }],
    ["the network", { publicNetworkName: "swiftdeploy-unittest-other" }],
    ["the memory limit", { memoryMb: 512 }],
    ["the pids limit", { pidsLimit: 64 }],
    ["the labels", { labels: { "swiftdeploy.stack": "other" } }],
  ])("starts a new generation when %s changes", (_, change) => {
    const args = unittestAppArgs();
    expect(appGeneration({ ...args, ...change })).not.toBe(appGeneration(args));
  });

  it("keeps the generation when only the replica count changes: scaling adds or removes replicas", () => {
    const args = unittestAppArgs();
    expect(appGeneration({ ...args, replicas: 3 })).toBe(appGeneration(args));
  });

  it.each<[string, () => () => void]>([
    [
      "the app's lockdown",
      () => {
        const kept = APP_LOCKDOWN.keep;
        APP_LOCKDOWN.keep = { NET_BIND_SERVICE: "a test's reason" };
        return () => (APP_LOCKDOWN.keep = kept);
      },
    ],
    [
      "the healthcheck's timings",
      () => {
        const interval = HEALTHCHECK.interval;
        (HEALTHCHECK as { interval: string }).interval = "9s";
        return () => ((HEALTHCHECK as { interval: string }).interval = interval);
      },
    ],
  ])("starts a new generation when %s changes in code, not only in the manifest", (_, change) => {
    const before = appGeneration(unittestAppArgs());
    const restore = change();
    try {
      expect(appGeneration(unittestAppArgs())).not.toBe(before);
    } finally {
      restore();
    }
    expect(appGeneration(unittestAppArgs())).toBe(before);
  });

  it("gives the app its name, version, ports and chaos switch from the manifest, and its set as its mode", () => {
    expect(appContainers(run)[0].inputs.envs).toEqual([
      "SERVICE_NAME=swiftdeploy",
      "APP_VERSION=1.0.0",
      "APP_MODE=canary",
      "APP_PORT=3000",
      "ADMIN_PORT=9100",
      "CHAOS_ENABLED=true",
    ]);
  });

  // A component's dependsOn holds back its children: they register only once it registered.
  it("declares the set's containers only once the canary gate let the move through: a refusal touches none", () => {
    const [container] = appContainers(run);
    expect(container.parent).toBe("app-canary");
    expect(resource(run, "app-canary").dependsOn).toEqual(
      expect.arrayContaining(["canary-gate", "infrastructure-gate"]),
    );
    expect(run.resources.indexOf(container)).toBeGreaterThan(
      run.resources.indexOf(resource(run, "canary-gate")),
    );
  });

  it("records the mode the canary gate let through, not the config's", () => {
    expect(resource(run, "audit-events").dependsOn).toContain("canary-gate");
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

  it("applies the rendered config, one upstream of the canary set's containers, through the rollout step once they are ready", async () => {
    const step = resource(run, "ingress-config");
    const names = appContainers(run).map((c) => c.inputs.name);
    const config = nginxConfig(unittestPlan(), [{ set: "canary", servers: names }], null);
    expect(config.text).toContain("upstream app_canary {");
    expect(config.text).not.toContain("upstream app_stable");
    expect(config.text).not.toContain("split_clients");
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
      expect.arrayContaining(["app-canary-ready", "nginx-ready", "infrastructure-gate"]),
    );
    // Where Docker publishes them is asked by the step itself (it changes at every restart).
    expect(step.inputs.admins).toEqual([
      {
        container: names[0],
        port: 9100,
        labels: expect.objectContaining({
          stack: STACK,
          role: "app",
          set: "canary",
          version: "1.0.0",
          replica: "0",
        }),
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

  it("hands the canary gate the planned move (a first canary: no judgement), nothing observed and the manifest's observation window", () => {
    const gate = resource(run, "canary-gate");
    const image = tagOf(STACK, "1.0.0");
    expect(gate.inputs).toEqual({
      opaSocket: path.join(state, "opa", "opa.sock"),
      timeoutMs: 2000,
      historyFile: path.join(state, "history.jsonl"),
      stack: STACK,
      move: {
        action: "canary_started",
        from: { stable: null, canary: null, retained: [], built: null },
        to: { stable: null, canary: { version: "1.0.0", image }, retained: [], built: image },
        judgement: null,
        weight: null,
        runningMode: "canary",
        reason: null,
      },
      // Nothing to judge: the program asks Docker for no running set.
      observed: { stable: [], canary: [] },
      windowSeconds: 30,
      __provider: expect.stringContaining("handler = () => canaryGateProvider"),
    });
    expect(run.dockerQueries).toEqual([]);
  });

  // A dependsOn on a component stands for its children. Children register only after their parent, so a
  // component waiting for a gate holds back every resource in it.
  it.each([
    ["opa-server", ["opa-policy-tests"]],
    ["infrastructure-gate", ["opa-server"]],
    ["canary-gate", ["infrastructure-gate"]],
    ["<app image>", ["infrastructure-gate"]],
    ["app-canary", ["canary-gate", "infrastructure-gate"]],
    ["nginx", ["infrastructure-gate"]],
    ["audit", ["app-canary-ready", "nginx-server", "nginx-ready", "ingress-config"]],
  ])("registers %s only after %j", (name, after) => {
    const registered = name === "<app image>" ? appImage(run) : resource(run, name);
    expect(registered.dependsOn).toEqual(expect.arrayContaining(after));
  });

  // Docker cannot change either on a running container; the provider would only note the change in state.
  it.each(["opa-server", "nginx-server"])(
    "replaces %s when its healthcheck or tmpfs mounts change, removing it first: only one container can hold its socket or port",
    (name) => {
      expect(resource(run, name).replaceOnChanges).toEqual(["healthcheck", "tmpfs"]);
      expect(resource(run, name).deleteBeforeReplace).toBe(true);
    },
  );

  it("never asks the engine to remove an app container before its successor runs", () => {
    const [app0] = appContainers(run);
    expect(app0.replaceOnChanges).toEqual(["healthcheck", "tmpfs"]);
    expect(app0.deleteBeforeReplace).toBe(false);
  });

  // What `docker inspect` shows of it is lockdown.test.ts, against a deployed stack.
  it.each<[string, () => Registered, Record<string, unknown>]>([
    [
      "the app replica as the image's uid 10001, no tmpfs: Node writes nothing",
      () => appContainers(run)[0],
      { user: "10001:10001", memory: 256, memorySwap: 256, tmpfs: undefined },
    ],
    [
      "nginx as uid 10002, master included, writing only its tmpfs /run and /var/lib/nginx",
      () => resource(run, "nginx-server"),
      {
        user: NGINX_USER,
        memory: 128,
        memorySwap: 128,
        tmpfs: {
          "/run": "rw,noexec,nosuid,nodev,uid=10002,gid=10002,size=1m,mode=0755",
          "/var/lib/nginx": "rw,noexec,nosuid,nodev,uid=10002,gid=10002,size=32m,mode=0700",
        },
      },
    ],
    [
      "OPA as the user running Pulumi, writing only the policies it starts with, to a tmpfs only that user reads",
      () => resource(run, "opa-server"),
      {
        user: `${process.getuid!()}:${process.getgid!()}`,
        memory: OPA_LIMITS.memoryMb,
        memorySwap: OPA_LIMITS.memoryMb,
        tmpfs: {
          "/policies": `rw,noexec,nosuid,nodev,uid=${process.getuid!()},gid=${process.getgid!()},size=4m,mode=0700`,
        },
      },
    ],
  ])(
    "locks down %s: every capability dropped, no new privileges, a read-only root, limits, rotated logs",
    (_, registered, own) => {
      const { inputs } = registered();
      expect(inputs.capabilities).toEqual({ drops: ["ALL"] });
      expect(inputs.securityOpts).toEqual(["no-new-privileges:true"]);
      expect(inputs.readOnly).toBe(true);
      expect(inputs.logDriver).toBe("json-file");
      expect(inputs.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
      expect({
        user: inputs.user,
        memory: inputs.memory,
        memorySwap: inputs.memorySwap,
        tmpfs: inputs.tmpfs,
      }).toEqual(own);
    },
  );

  it("keeps no capability in any container, each role saying why in components/supervised.ts", () => {
    expect(APP_LOCKDOWN.keep).toEqual({});
    expect(NGINX_LOCKDOWN.keep).toEqual({});
    expect(ofType(run, CONTAINER).map((c) => c.inputs.capabilities.adds)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  // The Docker provider has no pids limit: `docker update` sets it, and again for a new container (a new id)
  // or a new limit (on the running container). Named after its container, so previews list them together.
  it.each<[string, () => Registered, string]>([
    ["<app-0>", () => appContainers(run)[0], "128"],
    ["nginx-server", () => resource(run, "nginx-server"), "64"],
    ["opa-server", () => resource(run, "opa-server"), String(OPA_LIMITS.pidsLimit)],
  ])("limits %s's processes and threads with docker update once Docker created it", (_, container, limit) => {
    const { name, type } = container();
    expect(type).toBe(CONTAINER);
    const command = pidsLimitOf(run, name);
    expect(command.inputs.create).toBe(`docker update --pids-limit "$PIDS_LIMIT" "$CONTAINER" >/dev/null`);
    expect(command.inputs.environment).toEqual({ CONTAINER: `${name}-id`, PIDS_LIMIT: limit });
    expect(command.inputs.triggers).toBeUndefined();
    expect(command.dependsOn).toContain(name);
    expect(command.parent).toBe(container().parent);
    expect(command.provider).toBe("command");
  });

  it.each(["nginx", "opa"])(
    "labels the %s container with the stack and its role, so recovery and Docker's filters find it",
    (role) => {
      expect(resource(run, `${role}-server`).inputs.labels).toEqual([
        { label: "swiftdeploy.project", value: PROJECT },
        { label: "swiftdeploy.stack", value: STACK },
        { label: "swiftdeploy.role", value: role },
      ]);
    },
  );

  it("rotates every container's log: at most 3 files of 10 MB", () => {
    for (const container of ofType(run, CONTAINER)) {
      expect({ logDriver: container.inputs.logDriver, logOpts: container.inputs.logOpts }).toEqual(
        LOG_ROTATION,
      );
    }
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

  it("exports the public URL, admin URLs and targets, OPA socket, mode, release and history file", async () => {
    const outputs = run.exports!;
    const [app0] = appContainers(run);
    const url = `http://127.0.0.1:${fakeHostPort(app0.inputs.name)}`;
    expect(outputs.publicUrl).toBe("http://127.0.0.1:8081");
    expect(await valueOf(outputs.adminUrls as string[])).toEqual([url]);
    expect(await valueOf(outputs.adminTargets as unknown[])).toEqual([
      {
        url,
        labels: {
          project: PROJECT,
          stack: STACK,
          role: "app",
          set: "canary",
          version: "1.0.0",
          generation: app0.name.split("-")[2],
          replica: "0",
        },
      },
    ]);
    expect(outputs.opaSocket).toBe(path.join(state, "opa", "opa.sock"));
    expect(outputs.historyFile).toBe(path.join(state, "history.jsonl"));
    expect(await valueOf(outputs.mode as string)).toBe("canary");
    const image = tagOf(STACK, "1.0.0");
    expect(await valueOf(outputs.release as ReleaseState)).toEqual({
      stable: null,
      canary: { version: "1.0.0", image },
      retained: [],
      built: image,
    });
    expect(await valueOf(outputs.stableVersion as string | null)).toBeNull();
    expect(await valueOf(outputs.canaryVersion as string | null)).toBe("1.0.0");
    expect(await valueOf(outputs.canaryWeight as number | null)).toBeNull();
    expect(await valueOf(outputs.canaryVerdict as unknown)).toBeNull();
    expect(Object.keys(outputs)).toContain("infrastructureVerdict");
  });

  describe("and beside it stack Feature.X first deployed in mode stable, 3 replicas and overridden host ports", () => {
    let other: ProgramRun;

    beforeAll(async () => {
      const manifest = writeManifest("three-replicas.yaml", [
        ["replicas: 1 ", "replicas: 3 "],
        ["observation_window_s: 30 ", "observation_window_s: 45 "],
        ["opa_timeout_ms: 2000 ", "opa_timeout_ms: 1500 "],
        ["memory_mb: 256 ", "memory_mb: 512 "],
        ["pids_limit: 128 ", "pids_limit: 200 "],
        ["memory_mb: 128 ", "memory_mb: 96 "],
        ["pids_limit: 64 ", "pids_limit: 40 "],
      ]);
      other = succeeded(
        await runProgram({
          projectDir,
          stack: "Feature.X",
          config: { mode: "stable", manifest, ingressPort: "18081", adminPort: "19100" },
          lastOutputs: {},
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

    it("runs exactly 3 app containers, all of the stable set", () => {
      expect(appSets(other)).toEqual(["app-stable"]);
      expect(appContainers(other)).toHaveLength(3);
      expect(setContainers(other, "stable")).toHaveLength(3);
    });

    it.each<[string, () => Registered[], number, string]>([
      ["each app replica", () => appContainers(other), 512, "200"],
      ["nginx", () => [resource(other, "nginx-server")], 96, "40"],
    ])("gives %s the manifest's memory and pids limits", (_, containers, memory, pids) => {
      for (const { name, inputs } of containers()) {
        expect([inputs.memory, inputs.memorySwap]).toEqual([memory, memory]);
        expect(pidsLimitOf(other, name).inputs.environment.PIDS_LIMIT).toBe(pids);
      }
    });

    it("publishes nginx on the overridden ingress port, retrying across the 3 replicas", () => {
      const { inputs } = resource(other, "nginx-server");
      expect(inputs.ports).toEqual([{ internal: 8080, external: 18081, ip: "0.0.0.0" }]);
      expect(resource(other, "ingress-config").inputs.config).toContain("proxy_next_upstream_tries 4;");
    });

    it("asks the canary gate to release the first version as stable with no judgement, and exports the 3 admin URLs Docker picked", async () => {
      const urls = appContainers(other).map((c) => `http://127.0.0.1:${fakeHostPort(c.inputs.name)}`);
      const image = tagOf("Feature.X", "1.0.0");
      expect(resource(other, "canary-gate").inputs).toMatchObject({
        move: {
          action: "release_unjudged",
          to: { stable: { version: "1.0.0", image }, canary: null, retained: [], built: image },
          judgement: null,
          weight: null,
          runningMode: "stable",
          reason: "first deploy",
        },
        observed: { stable: [], canary: [] },
      });
      expect(other.dockerQueries).toEqual([]);
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

// What runs follows the stack's release state (its last outputs) and the move program/release.ts plans
// from it; each case runs on a stack of its own. release.test.ts has every row of the plan itself.
describe("the program's release model", () => {
  const TWO_REPLICAS: [string, string] = ["replicas: 1 # app", "replicas: 2 # app"];
  const NEXT_VERSION: [string, string] = ['version: "1.0.0"', 'version: "1.0.1"'];
  /** The code 1.0.0 ran with, another than service/'s now. */
  const OLD_CODE = "0123abcd";
  /** The code the canary 1.0.1 ran with. */
  const CANARY_CODE = "cafe0001";

  describe("on a first deploy in mode canary (no outputs yet), app.replicas 2", () => {
    const STACK = "first-canary";
    let run: ProgramRun;
    let manifest: string;

    beforeAll(async () => {
      manifest = writeManifest("first-canary.yaml", [TWO_REPLICAS]);
      run = succeeded(
        await runProgram({ projectDir, stack: STACK, config: { mode: "canary", manifest }, lastOutputs: {} }),
      );
    });

    it("runs one set, app-canary, of app.replicas containers on service/'s build", () => {
      expect(appSets(run)).toEqual(["app-canary"]);
      const canary = setContainers(run, "canary");
      expect(canary).toHaveLength(2);
      expect(inputsOf(canary, "image")).toEqual([
        `sha256:app-image-1.0.0-${build8()}`,
        `sha256:app-image-1.0.0-${build8()}`,
      ]);
      for (const { inputs } of canary) expect(inputs.envs).toContain("APP_MODE=canary");
      expect(appImages(run).map((i) => i.inputs.name)).toEqual([tagOf(STACK, "1.0.0")]);
    });

    it("asks the canary gate to start the canary with no judgement", () => {
      expect(resource(run, "canary-gate").inputs.move).toEqual({
        action: "canary_started",
        from: { stable: null, canary: null, retained: [], built: null },
        to: {
          stable: null,
          canary: { version: "1.0.0", image: tagOf(STACK, "1.0.0") },
          retained: [],
          built: tagOf(STACK, "1.0.0"),
        },
        judgement: null,
        weight: null,
        runningMode: "canary",
        reason: null,
      });
      expect(run.dockerQueries).toEqual([]);
    });

    it("sends every request to the canary set: one upstream, no split", () => {
      const config = expectedConfig(planOf(STACK, "canary", manifest), run, null);
      expect(resource(run, "ingress-config").inputs.config).toBe(config.text);
      expect(config.text).toContain("upstream app_canary {");
      expect(config.text).not.toContain("split_clients");
    });
  });

  describe("with 1.0.0 stable and service.version 1.0.1 in mode canary", () => {
    const STACK = "canary-beside";
    const stable = recorded(STACK, "1.0.0", OLD_CODE);
    const last: ReleaseState = { stable, canary: null, retained: [], built: stable.image };
    let run: ProgramRun;
    let manifest: string;

    beforeAll(async () => {
      manifest = writeManifest("canary-beside.yaml", [NEXT_VERSION, TWO_REPLICAS]);
      // What the update that deployed 1.0.0 left: its context, and one of an image no release keeps.
      fs.mkdirSync(contextOf(STACK, stable.image), { recursive: true });
      fs.writeFileSync(path.join(contextOf(STACK, stable.image), "Dockerfile"), "# 1.0.0's own\n");
      fs.mkdirSync(contextOf(STACK, tagOf(STACK, "0.9.0", "deadbeef")), { recursive: true });
      run = succeeded(
        await runProgram({
          projectDir,
          stack: STACK,
          config: { mode: "canary", manifest },
          lastOutputs: outputsWith(last),
        }),
      );
    });

    it("runs app-stable on the image 1.0.0 ran with beside app-canary on service/'s new build", () => {
      expect(appSets(run)).toEqual(["app-stable", "app-canary"]);
      const [stableSet, canarySet] = [setContainers(run, "stable"), setContainers(run, "canary")];
      expect(stableSet).toHaveLength(2); // app.replicas
      expect(canarySet).toHaveLength(1); // canary.replicas
      expect(new Set(inputsOf(stableSet, "image"))).toEqual(new Set([`sha256:app-image-1.0.0-${OLD_CODE}`]));
      expect(inputsOf(canarySet, "image")).toEqual([`sha256:app-image-1.0.1-${build8()}`]);
      for (const { inputs } of stableSet) {
        expect(inputs.envs).toEqual(expect.arrayContaining(["APP_VERSION=1.0.0", "APP_MODE=stable"]));
      }
      expect(canarySet[0].inputs.envs).toEqual(
        expect.arrayContaining(["APP_VERSION=1.0.1", "APP_MODE=canary"]),
      );
    });

    it.each<[AppSet, string]>([
      ["stable", "1.0.0"],
      ["canary", "1.0.1"],
    ])("labels the %s set's containers with their set and version %s", (set, version) => {
      for (const { inputs } of setContainers(run, set)) {
        expect(inputs.labels).toEqual(
          expect.arrayContaining(
            Object.entries(labelsOf(STACK, set, version)).map(([label, value]) => ({ label, value })),
          ),
        );
      }
    });

    it.each(["app-stable", "app-canary"])("declares %s only after both gates", (name) => {
      expect(resource(run, name).dependsOn).toEqual(
        expect.arrayContaining(["canary-gate", "infrastructure-gate"]),
      );
    });

    it("declares one image per version, each from its own context: 1.0.0's as its update left it, 1.0.1's from service/", () => {
      const newTag = tagOf(STACK, "1.0.1");
      expect(appImages(run).map((i) => [i.name, i.inputs])).toEqual([
        [
          `app-image-1.0.0-${OLD_CODE}`,
          { name: stable.image, build: { context: contextOf(STACK, stable.image) } },
        ],
        [`app-image-1.0.1-${build8()}`, { name: newTag, build: { context: contextOf(STACK, newTag) } }],
      ]);
      expect(fs.readdirSync(contextOf(STACK, stable.image))).toEqual(["Dockerfile"]);
      expect(fs.readFileSync(path.join(contextOf(STACK, stable.image), "Dockerfile"), "utf8")).toBe(
        "# 1.0.0's own\n",
      );
      expect(hashFiles(listFiles(contextOf(STACK, newTag)), contextOf(STACK, newTag))).toBe(serviceHash());
    });

    it("removes the context of an image the release no longer keeps", () => {
      const images = path.join(projectDir, ".swiftdeploy", STACK, "images");
      expect(fs.readdirSync(images).sort()).toEqual([`1.0.0-${OLD_CODE}`, `1.0.1-${build8()}`]);
    });

    it("splits the requests: an upstream per set, 10 % to the canary, the X-Canary pin", () => {
      const step = resource(run, "ingress-config");
      const config = expectedConfig(planOf(STACK, "canary", manifest), run, 10);
      expect(step.inputs.config).toBe(config.text);
      expect(step.inputs.configId).toBe(config.id);
      for (const text of [
        "upstream app_stable {",
        "upstream app_canary {",
        "10% canary;",
        "map $http_x_canary",
      ]) {
        expect(config.text).toContain(text);
      }
      expect(step.inputs.upstreams).toEqual(appContainers(run).map((c) => c.inputs.name));
      expect(step.inputs.admins.map((a: { container: string }) => a.container)).toEqual(
        appContainers(run).map((c) => c.inputs.name),
      );
      expect(step.dependsOn).toEqual(expect.arrayContaining(["app-stable-ready", "app-canary-ready"]));
    });

    it("asks the canary gate to start 1.0.1 as the canary at weight 10, with no judgement", () => {
      const built = tagOf(STACK, "1.0.1");
      expect(resource(run, "canary-gate").inputs.move).toEqual({
        action: "canary_started",
        from: last,
        to: { stable, canary: { version: "1.0.1", image: built }, retained: [], built },
        judgement: null,
        weight: 10,
        runningMode: "canary",
        reason: null,
      });
      expect(resource(run, "canary-gate").inputs.observed).toEqual({ stable: [], canary: [] });
      expect(run.dockerQueries).toEqual([]);
    });

    it("exports both versions, the weight and mode canary, and records both sets' containers", async () => {
      const outputs = run.exports!;
      expect(await valueOf(outputs.stableVersion as string | null)).toBe("1.0.0");
      expect(await valueOf(outputs.canaryVersion as string | null)).toBe("1.0.1");
      expect(await valueOf(outputs.canaryWeight as number | null)).toBe(10);
      expect(await valueOf(outputs.mode as string)).toBe("canary");
      const deployed = JSON.parse(resource(run, "audit-events").inputs.environment.DEPLOYED);
      expect(deployed.app).toBe(
        appContainers(run)
          .map((c) => `${c.name}-id`)
          .join(","),
      );
    });
  });

  describe("with 1.0.0 stable and 1.0.1 the canary, service.version 1.0.1 in mode stable", () => {
    const STACK = "promote";
    const stable = recorded(STACK, "1.0.0", OLD_CODE);
    const canary = recorded(STACK, "1.0.1", CANARY_CODE);
    let last: ReleaseState;
    /**
     * Where Docker published each running set's admin listener, and the container's generation: 40009 is a
     * stable container an update that stopped before its reload left running, never in rotation.
     */
    const PORTS: Record<string, [number, string][]> = {
      "stable 1.0.0": [
        [40001, "5ab1e000"],
        [40003, "5ab1e000"],
        [40009, "0ld0ld00"],
      ],
      "canary 1.0.1": [[40002, "ca9a2000"]],
    };
    /** The last update's rotation, as its adminTargets output names it. */
    const IN_ROTATION = [
      { url: "http://127.0.0.1:40001", labels: { set: "stable", version: "1.0.0", generation: "5ab1e000" } },
      { url: "http://127.0.0.1:40003", labels: { set: "stable", version: "1.0.0", generation: "5ab1e000" } },
      { url: "http://127.0.0.1:40002", labels: { set: "canary", version: "1.0.1", generation: "ca9a2000" } },
    ];
    let run: ProgramRun;
    let manifest: string;

    beforeAll(async () => {
      manifest = writeManifest("promote.yaml", [NEXT_VERSION, TWO_REPLICAS]);
      // service/ unchanged since that update (whatever its build was tagged): the canary's image is kept.
      last = { stable, canary, retained: [], built: tagOf(STACK, "1.0.1") };
      const running = (labels: Record<string, string>): ListedContainer[] =>
        (PORTS[`${labels["swiftdeploy.set"]} ${labels["swiftdeploy.version"]}`] ?? []).map(
          ([port, generation]) => ({
            Names: [`/app-${port}`],
            State: "running",
            Ports: [{ IP: "127.0.0.1", PrivatePort: 9100, PublicPort: port, Type: "tcp" }],
            Labels: { ...labels, "swiftdeploy.generation": generation },
          }),
        );
      run = succeeded(
        await runProgram({
          projectDir,
          stack: STACK,
          config: { mode: "stable", manifest },
          lastOutputs: { ...outputsWith(last), adminTargets: IN_ROTATION },
          running,
        }),
      );
    });

    it("runs one set, app-stable, of app.replicas containers on the image 1.0.1 ran with as the canary", () => {
      expect(appSets(run)).toEqual(["app-stable"]);
      const stableSet = setContainers(run, "stable");
      expect(inputsOf(stableSet, "image")).toEqual([
        `sha256:app-image-1.0.1-${CANARY_CODE}`,
        `sha256:app-image-1.0.1-${CANARY_CODE}`,
      ]);
      for (const { inputs } of stableSet) {
        expect(inputs.envs).toEqual(expect.arrayContaining(["APP_VERSION=1.0.1", "APP_MODE=stable"]));
        expect(inputs.labels).toEqual(
          expect.arrayContaining([
            { label: "swiftdeploy.set", value: "stable" },
            { label: "swiftdeploy.version", value: "1.0.1" },
          ]),
        );
      }
    });

    it("keeps 1.0.0's image for a rollback and builds no other", () => {
      expect(appImages(run).map((i) => i.inputs.name)).toEqual([stable.image, canary.image]);
    });

    it("asks the canary gate to judge the promotion, observing the running sets it found by their labels, of the generations in rotation", () => {
      expect(resource(run, "canary-gate").inputs).toMatchObject({
        move: {
          action: "canary_promoted",
          from: last,
          to: { stable: canary, canary: null, retained: [stable], built: tagOf(STACK, "1.0.1") },
          judgement: "canary",
          weight: null,
          runningMode: "stable",
          reason: null,
        },
        observed: {
          stable: ["http://127.0.0.1:40001", "http://127.0.0.1:40003"],
          canary: ["http://127.0.0.1:40002"],
        },
      });
      expect(run.dockerQueries).toHaveLength(2);
      expect(run.dockerQueries).toEqual(
        expect.arrayContaining([labelsOf(STACK, "stable", "1.0.0"), labelsOf(STACK, "canary", "1.0.1")]),
      );
    });

    it("sends every request to the stable set once the gate allowed it", () => {
      const config = expectedConfig(planOf(STACK, "stable", manifest), run, null);
      expect(resource(run, "ingress-config").inputs.config).toBe(config.text);
      expect(config.text).toContain("upstream app_stable {");
      expect(config.text).not.toContain("app_canary");
    });
  });

  it("refuses service/'s changed code under the running version 1.0.0 as a RunError asking for a new version, and declares no set", async () => {
    const STACK = "changed-code";
    const stable = recorded(STACK, "1.0.0", OLD_CODE);
    const run = await runProgram({
      projectDir,
      stack: STACK,
      lastOutputs: outputsWith({ stable, canary: null, retained: [], built: stable.image }),
    });
    expect(RunError.isInstance(run.error)).toBe(true);
    const message = run.error!.message;
    expect(message).toContain(`service.version "1.0.0" is the stable version and runs image ${stable.image}`);
    expect(message).toContain(`now builds ${tagOf(STACK, "1.0.0")}`);
    expect(message).toContain("Set a new service.version in manifest.yaml");
    // OPA starts before the release is planned; nothing of the app, the gate's move or nginx is declared.
    expect(ofType(run, CONTAINER).map((c) => c.name)).toEqual(["opa-server"]);
    expect(appSets(run)).toEqual([]);
    expect(appImages(run)).toEqual([]);
    expect(ofType(run, CANARY_GATE)).toEqual([]);
  });

  it("exports the release, stable and canary versions, mode and verdict the canary gate answers, not the plan's", async () => {
    const STACK = "gate-answer";
    const state: ReleaseState = {
      stable: recorded(STACK, "0.9.0", OLD_CODE),
      canary: null,
      retained: [],
      built: tagOf(STACK, "1.0.0"),
    };
    const verdict = { allow: true, violations: [], decisionId: "d-1" };
    // The plan is a first canary of 1.0.0 (mode canary, no stable): every exported value below differs.
    const run = succeeded(
      await runProgram({
        projectDir,
        stack: STACK,
        lastOutputs: {},
        canaryGate: () => ({ state, previous: state, mode: "stable", verdict }),
      }),
    );
    const outputs = run.exports!;
    expect(await valueOf(outputs.release as ReleaseState)).toEqual(state);
    expect(await valueOf(outputs.stableVersion as string | null)).toBe("0.9.0");
    expect(await valueOf(outputs.canaryVersion as string | null)).toBeNull();
    expect(await valueOf(outputs.mode as string)).toBe("stable");
    expect(await valueOf(outputs.canaryVerdict as unknown)).toEqual(verdict);
    expect(JSON.parse(resource(run, "audit-events").inputs.environment.DEPLOYED).mode).toBe("stable");
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
      "an admin port override on the app's public port fails naming the override",
      () => ({ adminPort: "3000" }),
      () => [
        "swiftdeploy:adminPort=3000",
        "manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), got 3000 for both",
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
