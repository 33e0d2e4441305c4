// The dynamic resources' providers as the dynamic-provider host gets them: bundled by esbuild
// (components/providers.ts), loaded from the text in a fresh Node the way the host loads `__provider`.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerModuleText, type ProviderSource } from "../../../components/providers";
import { INGRESS_CONFIG_PROVIDER } from "../../../components/ingress-config";
import { READINESS_PROVIDER } from "../../../components/readiness";
import { CANARY_GATE_PROVIDER } from "../../../gates/canary";
import { INFRASTRUCTURE_GATE_PROVIDER } from "../../../gates/infrastructure";
import { readHistory } from "../../../lib/history";
import { copyProject } from "../../support/project-copy";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
const RUNNER = path.join(__dirname, "fixtures", "run-bundled-provider.cjs");
// The very sources the resources name: a provider module moved or renamed fails here, not at `pulumi up`.
const PROVIDERS: Record<string, ProviderSource> = {
  infrastructure: INFRASTRUCTURE_GATE_PROVIDER,
  canary: CANARY_GATE_PROVIDER,
  readiness: READINESS_PROVIDER,
  "ingress config": INGRESS_CONFIG_PROVIDER,
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamic-host-"));
const texts: Record<string, string> = {};
let opa: http.Server;

beforeAll(async () => {
  for (const [name, source] of Object.entries(PROVIDERS))
    texts[name] = await providerModuleText(source, ROOT);
  opa = http.createServer((req, res) => {
    req.resume();
    const result = {
      allow: false,
      violations: ["Disk free (3.2 GB) is below minimum threshold (10.0 GB)"],
      checks: [],
    };
    req.on("end", () => res.end(JSON.stringify({ decision_id: "bundle-1", result })));
  });
  await new Promise<void>((resolve) => opa.listen(path.join(dir, "opa.sock"), resolve));
});

afterAll(async () => {
  await new Promise((resolve) => opa.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `method` of a bundled provider in a fresh Node, from the project folder as the host runs. */
async function callBundled(name: string, method: string, args: unknown[]) {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, texts[name]);
  const { stdout } = await run(process.execPath, [RUNNER, file, method, JSON.stringify(args)], { cwd: ROOT });
  return JSON.parse(stdout);
}

describe("a provider bundle", () => {
  it.each(Object.keys(PROVIDERS))(
    "of the %s provider needs no @pulumi/pulumi and no path of this checkout",
    (name) => {
      expect(texts[name]).not.toMatch(/require\("@pulumi\/pulumi/);
      expect(texts[name]).not.toContain(ROOT);
      expect(texts[name]).toMatch(/handler/);
    },
  );

  it("is the same text for the same sources, wherever the project lies", async () => {
    const copy = copyProject("swiftdeploy-bundle-");
    try {
      for (const [name, source] of Object.entries(PROVIDERS)) {
        const moved = { ...source, file: path.join(copy, path.relative(ROOT, source.file)) };
        expect(await providerModuleText(moved, copy)).toBe(texts[name]);
      }
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it("runs the infrastructure gate: OPA's denial reaches the engine as the error's message", async () => {
    const historyFile = path.join(dir, "history.jsonl");
    const inputs = {
      opaSocket: path.join(dir, "opa.sock"),
      timeoutMs: 2000,
      historyFile,
      stack: "bundle",
      dockerRoot: os.tmpdir(),
    };
    expect(await callBundled("infrastructure", "update", ["id", {}, inputs])).toEqual({
      ok: false,
      name: "PolicyDeniedError",
      message:
        "[OPA/INFRASTRUCTURE] Policy FAILED (decision bundle-1)\n  - Disk free (3.2 GB) is below minimum threshold (10.0 GB)",
    });
    expect(readHistory(historyFile).events.map((e) => e.type)).toEqual(["gate", "deploy_failed"]);
  });

  it("runs the infrastructure gate: an unreachable OPA is named by its socket", async () => {
    const missing = path.join(dir, "none.sock");
    const inputs = {
      opaSocket: missing,
      timeoutMs: 500,
      historyFile: path.join(dir, "h2.jsonl"),
      stack: "b",
    };
    const result = await callBundled("infrastructure", "create", [{ ...inputs, dockerRoot: os.tmpdir() }]);
    expect(result).toMatchObject({ ok: false });
    expect(result.message).toContain(`OPA unreachable at unix socket ${missing} (ENOENT)`);
  });

  it("runs the canary gate's diff and the readiness provider's create", async () => {
    const image = "swiftdeploy-s/swiftdeploy-app:1.0.1-cafe0001";
    const to = { stable: null, canary: { version: "1.0.1", image }, retained: [], built: image };
    const inputs = (state: typeof to) => ({
      opaSocket: "x",
      timeoutMs: 1,
      historyFile: "h",
      stack: "s",
      move: {
        action: "canary_started",
        from: { stable: null, canary: null, retained: [], built: null },
        to: state,
        judgement: null,
        weight: null,
        runningMode: "canary",
        reason: null,
      },
      observed: { stable: [], canary: [] },
      windowSeconds: 1,
    });
    // The gate's record as the engine hands it back: its keys in another order.
    const recorded = { built: image, retained: [], canary: { image, version: "1.0.1" }, stable: null };
    const olds = { ...inputs(to), observed: { stable: [], canary: ["http://127.0.0.1:1"] }, state: recorded };
    const diff = (news: ReturnType<typeof inputs>) => callBundled("canary", "diff", ["id", olds, news]);
    // Only a move of the release state (or of service/'s build) calls for a decision.
    expect(await diff(inputs(to))).toEqual({ ok: true, value: { changes: false } });
    const other = "swiftdeploy-s/swiftdeploy-app:1.0.2-cafe0002";
    expect(await diff(inputs({ ...to, canary: { version: "1.0.2", image: other }, built: other }))).toEqual({
      ok: true,
      value: { changes: true },
    });
    const server = http.createServer((_, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const probes = [{ name: "app-0", url: `http://127.0.0.1:${port}/healthz` }];
      const created = await callBundled("readiness", "create", [
        { probes, containerIds: ["c"], timeoutSeconds: 5 },
      ]);
      expect(created).toMatchObject({
        ok: true,
        value: { id: "ready", outs: { probes, containerIds: ["c"] } },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("packageConfig", () => {
  it("hands a package's provider its keys of the stack config, parsed when structured, kept secret", async () => {
    const { packageConfig } = await import("../../../components/providers");
    const inputs = packageConfig("docker", {
      "docker:host": "unix:///run/other.sock",
      "docker:registryAuth": '[{"address":"registry.local"}]',
      "swiftdeploy:mode": "canary",
      "command:x": "y",
    });
    expect(Object.keys(inputs).sort()).toEqual(["host", "registryAuth"]);
    const { Output, isSecret } = await import("@pulumi/pulumi");
    for (const value of Object.values(inputs)) {
      expect(Output.isInstance(value)).toBe(true);
      expect(await isSecret(value as import("@pulumi/pulumi").Output<unknown>)).toBe(true);
    }
    const host = inputs.host as import("@pulumi/pulumi").Output<string>;
    expect(await new Promise((resolve) => host.apply(resolve))).toBe("unix:///run/other.sock");
    const auth = inputs.registryAuth as import("@pulumi/pulumi").Output<unknown>;
    expect(await new Promise((resolve) => auth.apply(resolve))).toEqual([{ address: "registry.local" }]);
  });

  it("gives nothing when the stack config has no key of the package", async () => {
    const { packageConfig } = await import("../../../components/providers");
    expect(packageConfig("command", { "swiftdeploy:mode": "canary" })).toEqual({});
  });
});
