// index.ts under Pulumi mocks: which resources a manifest and a stack config declare, with which inputs.
// The program runs for real (planStack, prepareHostFiles with opa, esbuild and `docker info`) in a temp
// copy of the project; only the engine, the providers and the gates' dynamic providers are replaced.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFiles, listFiles } from "../../../program/build-context";
import { loadManifest } from "../../../program/manifest";
import { BIG_FILE_BYTES, nginxConfig, planStack } from "../../../program/plan";
import { copyProject, toolsBinDir } from "../../support/project-copy";
import { PROJECT, runProgram, valueOf, type ProgramRun, type Registered } from "./run-program";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const NETWORK = "docker:index/network:Network";
const COMMAND = "command:local:Command";
const INFRASTRUCTURE_GATE = "pulumi-nodejs:dynamic/swiftdeploy:InfrastructureGate";
const CANARY_GATE = "pulumi-nodejs:dynamic/swiftdeploy:CanaryGate";
const READINESS = "pulumi-nodejs:dynamic/swiftdeploy:Readiness";

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

  it("registers exactly the networks, OPA, both gates, one app replica, nginx, readiness probes, the audit record and its providers", () => {
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
        `${IMAGE} app-image < app`,
        `${CONTAINER} app-0 < app`,
        `${READINESS} app-ready < app`,
        "swiftdeploy:index:Nginx nginx < -",
        `${IMAGE} nginx-image < nginx`,
        `${COMMAND} nginx-config-test < nginx`,
        `${CONTAINER} nginx-server < nginx`,
        `${READINESS} nginx-ready < nginx`,
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
    ["app-image", "swiftdeploy-unittest/swiftdeploy-app:1.0.0", () => path.join(projectDir, "service")],
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

  it("rebuilds the app image when the bundle esbuild wrote or the Dockerfile changes", () => {
    const service = path.join(projectDir, "service");
    const hash = hashFiles(
      [path.join(service, "dist", "server.js"), path.join(service, "Dockerfile")],
      service,
    );
    expect(resource(run, "app-image").inputs.triggers).toEqual({ build: hash });
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

  it.each(["opa-server", "app-0", "nginx-server"])(
    "gives %s a healthcheck and a restart policy; Docker's status is not what pulumi up waits on",
    (name) => {
      const { inputs } = resource(run, name);
      expect(inputs.healthcheck.tests[0]).toBe("CMD");
      expect(inputs.healthcheck.retries).toBeGreaterThan(0);
      expect(inputs.restart).toBe("unless-stopped");
      expect(inputs.wait ?? false).toBe(false);
    },
  );

  it.each<[string, string, { name: string; url: string; socketPath?: string }[]]>([
    [
      "opa-ready",
      "opa-server",
      [{ name: "opa", url: "http://opa/health", socketPath: "<state>/opa/opa.sock" }],
    ],
    ["app-ready", "app-0", [{ name: "app-0", url: "http://127.0.0.1:9100/healthz" }]],
    ["nginx-ready", "nginx-server", [{ name: "nginx", url: "http://127.0.0.1:8081/nginx-health" }]],
  ])(
    "makes pulumi up wait until %s sees %s answer its health route from the host",
    async (name, container, probes) => {
      const ready = resource(run, name);
      const expected = probes.map((p) => ({
        ...p,
        ...(p.socketPath ? { socketPath: p.socketPath.replace("<state>", state) } : {}),
      }));
      expect(ready.inputs.probes).toEqual(expected);
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
    ...["networks-public", "networks-internal", "opa-image", "opa-server", "app-image", "app-0"].map((n) => [
      n,
      "docker",
    ]),
    ...["nginx-image", "nginx-server"].map((n) => [n, "docker"]),
    ...["opa-policy-tests", "nginx-config-test", "audit-events"].map((n) => [n, "command"]),
  ])("runs %s with the %s provider the program registered", (name, provider) => {
    expect(resource(run, name).provider).toBe(provider);
  });

  it("runs one app container on the public network under the alias app, admin port on 127.0.0.1:9100", () => {
    const app = ofType(run, CONTAINER).filter((c) => c.name.startsWith("app-"));
    expect(app.map((c) => c.inputs.name)).toEqual(["swiftdeploy-unittest-app-0"]);
    const { inputs } = app[0];
    expect(inputs.image).toBe("sha256:app-image");
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-net", aliases: ["app"] }]);
    expect(inputs.ports).toEqual([{ internal: 9100, external: 9100, ip: "127.0.0.1" }]);
    expect(inputs.healthcheck.tests.join(" ")).toContain(
      "curl -fsS -o /dev/null http://127.0.0.1:3000/healthz",
    );
  });

  it("gives the app its name, version, mode canary, ports and chaos switch from the manifest", () => {
    expect(resource(run, "app-0").inputs.envs).toEqual([
      "SERVICE_NAME=swiftdeploy",
      "APP_VERSION=1.0.0",
      "APP_MODE=canary",
      "APP_PORT=3000",
      "ADMIN_PORT=9100",
      "CHAOS_ENABLED=true",
    ]);
  });

  // The gate's output, not the config: the app is replaced in stable mode only once the gate allowed it.
  it.each(["app-0", "audit-events"])("takes the mode for %s from the canary gate's output", (name) => {
    expect(resource(run, name).dependsOn).toContain("canary-gate");
  });

  it("publishes nginx on the manifest's ingress bind and port, on the public network, with the rendered config", () => {
    const { inputs } = resource(run, "nginx-server");
    expect(inputs.name).toBe("swiftdeploy-unittest-nginx");
    expect(inputs.image).toBe("sha256:nginx-image");
    expect(inputs.ports).toEqual([{ internal: 8080, external: 8081, ip: "0.0.0.0" }]);
    expect(inputs.networksAdvanced).toEqual([{ name: "swiftdeploy-unittest-net" }]);
    const plan = planStack({
      project: PROJECT,
      stack: STACK,
      mode: "canary",
      manifest: loadManifest(path.join(projectDir, "manifest.yaml")),
      projectDir,
    });
    expect(inputs.uploads).toEqual([{ file: "/etc/nginx/nginx.conf", content: nginxConfig(plan) }]);
  });

  it("tests the rendered nginx.conf with nginx -t in the nginx image before the nginx container starts", () => {
    const configFile = path.join(state, "nginx.conf");
    const test = resource(run, "nginx-config-test");
    expect(test.inputs.create).toBe(
      `docker run --rm --network none -v "${configFile}:/etc/nginx/nginx.conf:ro" sha256:nginx-image nginx -t -q`,
    );
    const config = resource(run, "nginx-server").inputs.uploads[0].content;
    expect(fs.readFileSync(configFile, "utf8")).toBe(config);
    expect(test.inputs.triggers).toEqual([config, "sha256:nginx-image"]);
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
      adminUrls: ["http://127.0.0.1:9100"],
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
    ["nginx-server", ["nginx-config-test"]],
    ["audit", ["app-0", "app-ready", "nginx-server", "nginx-ready"]],
  ])("registers %s only after %j", (name, after) => {
    expect(resource(run, name).dependsOn).toEqual(expect.arrayContaining(after));
  });

  it.each(["opa-server", "app-0", "nginx-server"])(
    "replaces %s when its healthcheck changes (Docker cannot change it in place)",
    (name) => {
      expect(resource(run, name).replaceOnChanges).toEqual(["healthcheck"]);
      // Its name is fixed: the old container must go before the new one is created.
      expect(resource(run, name).deleteBeforeReplace).toBe(true);
    },
  );

  it("starts nginx beside the app, not after it: nginx finds the app by name at request time", () => {
    expect(resource(run, "nginx").dependsOn).not.toContain("app-0");
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
      app: "app-0-id",
      nginx: "nginx-server-id",
    });
  });

  it("exports the public URL, admin URLs, OPA socket, mode and history file", async () => {
    const outputs = run.exports!;
    expect(outputs.publicUrl).toBe("http://127.0.0.1:8081");
    expect(outputs.adminUrls).toEqual(["http://127.0.0.1:9100"]);
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

    // The override replaces app.admin_port, which is also the listener's port inside the container.
    it.each([0, 1, 2])(
      "runs app replica %i with its admin port on 127.0.0.1 from the overridden port",
      (i) => {
        const { inputs } = resource(other, `app-${i}`);
        expect(inputs.name).toBe(`swiftdeploy-feature-x-3b7a83-app-${i}`);
        expect(inputs.ports).toEqual([{ internal: 19100, external: 19100 + i, ip: "127.0.0.1" }]);
        expect(inputs.envs).toContain("APP_MODE=stable");
        expect(inputs.envs).toContain("ADMIN_PORT=19100");
        expect(inputs.networksAdvanced).toEqual([
          { name: "swiftdeploy-feature-x-3b7a83-net", aliases: ["app"] },
        ]);
      },
    );

    it("runs exactly 3 app containers", () => {
      expect(ofType(other, CONTAINER).filter((c) => c.name.startsWith("app-"))).toHaveLength(3);
    });

    it("publishes nginx on the overridden ingress port, retrying across the 3 replicas", () => {
      const { inputs } = resource(other, "nginx-server");
      expect(inputs.ports).toEqual([{ internal: 8080, external: 18081, ip: "0.0.0.0" }]);
      expect(inputs.uploads[0].content).toContain("proxy_next_upstream_tries 4;");
    });

    it("asks the canary gate to observe all 3 admin URLs for stable, and exports them", async () => {
      const urls = [19100, 19101, 19102].map((port) => `http://127.0.0.1:${port}`);
      expect(resource(other, "canary-gate").inputs).toMatchObject({ mode: "stable", adminUrls: urls });
      expect(other.exports!.adminUrls).toEqual(urls);
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
      expect(deployed).toMatchObject({ mode: "stable", app: "app-0-id,app-1-id,app-2-id" });
    });

    it("derives lowercase Docker names from the stack, and keeps its state under its own name", () => {
      expect(dockerNames(other).sort()).toEqual(
        [
          "swiftdeploy-feature-x-3b7a83-net",
          "swiftdeploy-feature-x-3b7a83-opa-internal",
          "swiftdeploy-feature-x-3b7a83/opa",
          "swiftdeploy-feature-x-3b7a83-opa",
          "swiftdeploy-feature-x-3b7a83/swiftdeploy-app",
          "swiftdeploy-feature-x-3b7a83-app-0",
          "swiftdeploy-feature-x-3b7a83-app-1",
          "swiftdeploy-feature-x-3b7a83-app-2",
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
          (c.inputs.ports ?? []).map((p: { external: number }) => p.external),
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
      () => [`${path.join(projectDir, "test-manifests", "none.yaml")} does not exist`],
    ],
    [
      "an ingress port override inside the admin ports fails naming the override",
      () => ({ ingressPort: "9100" }),
      () => [
        "swiftdeploy:ingressPort=9100",
        "manifest.ingress.port 9100 clashes with the admin host ports 9100",
      ],
    ],
  ])("%s, and registers no resource", async (_, config, expected) => {
    const run = await runProgram({ projectDir, stack: "broken", config: config() });
    expect(run.error).toBeInstanceOf(Error);
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
