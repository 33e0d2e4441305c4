import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestError, loadManifest } from "../../../program/manifest";
import {
  StackSettingsError,
  applyPortOverrides,
  readStackSettings,
  type StackSettings,
} from "../../../program/stack-settings";

const SHIPPED = loadManifest(path.resolve(__dirname, "../../../manifest.yaml"));

function getter(config: Record<string, string>): (key: string) => string | undefined {
  return (key) => config[key];
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof StackSettingsError || err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error("expected an error, but the settings were accepted");
}

describe("readStackSettings", () => {
  it.each<[string, Record<string, string>, StackSettings]>([
    ["defaults to canary with no overrides", {}, { mode: "canary" }],
    ["reads mode stable", { mode: "stable" }, { mode: "stable" }],
    ["reads mode canary", { mode: "canary" }, { mode: "canary" }],
    ["reads an ingress port override", { ingressPort: "18081" }, { mode: "canary", ingressPort: 18081 }],
    [
      "treats 0, Pulumi.yaml's default, as no override",
      { ingressPort: "0", adminPort: "0" },
      { mode: "canary" },
    ],
    ["reads an admin port override", { adminPort: "19100" }, { mode: "canary", adminPort: 19100 }],
    [
      "accepts the lowest ports",
      { ingressPort: "1", adminPort: "1024" },
      { mode: "canary", ingressPort: 1, adminPort: 1024 },
    ],
    [
      "accepts the highest ports",
      { ingressPort: "65535", adminPort: "65535" },
      { mode: "canary", ingressPort: 65535, adminPort: 65535 },
    ],
    ["ignores keys it does not read", { other: "x" }, { mode: "canary" }],
  ])("%s", (_name, config, expected) => {
    expect(readStackSettings(getter(config))).toEqual(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    [
      "an unknown mode",
      { mode: "blue" },
      'config swiftdeploy:mode must be one of canary, stable; got "blue"',
    ],
    [
      "a mode in capitals",
      { mode: "Stable" },
      'config swiftdeploy:mode must be one of canary, stable; got "Stable"',
    ],
    ["an empty mode", { mode: "" }, 'config swiftdeploy:mode must be one of canary, stable; got ""'],
    [
      "a word as ingress port",
      { ingressPort: "http" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "http"',
    ],
    [
      "ingress port 00 (only Pulumi.yaml's default 0 means unset)",
      { ingressPort: "00" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "00"',
    ],
    [
      "ingress port above 65535",
      { ingressPort: "65536" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "65536"',
    ],
    [
      "a fractional ingress port",
      { ingressPort: "8081.5" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "8081.5"',
    ],
    [
      "a negative ingress port",
      { ingressPort: "-1" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "-1"',
    ],
    [
      "an ingress port in hex",
      { ingressPort: "0x1f91" },
      'config swiftdeploy:ingressPort must be an integer 1-65535; got "0x1f91"',
    ],
    [
      "a privileged admin port",
      { adminPort: "80" },
      'config swiftdeploy:adminPort must be an integer 1024-65535; got "80"',
    ],
    [
      "an empty admin port",
      { adminPort: "" },
      'config swiftdeploy:adminPort must be an integer 1024-65535; got ""',
    ],
  ])("rejects %s naming the key and the value", (_name, config, problem) => {
    expect(problemsOf(() => readStackSettings(getter(config)))).toEqual([problem]);
  });

  it("reports every bad key at once under one header", () => {
    expect(() => readStackSettings(getter({ mode: "blue", ingressPort: "x", adminPort: "1" }))).toThrow(
      [
        "stack config is not valid (3 problems):",
        '  - config swiftdeploy:mode must be one of canary, stable; got "blue"',
        '  - config swiftdeploy:ingressPort must be an integer 1-65535; got "x"',
        '  - config swiftdeploy:adminPort must be an integer 1024-65535; got "1"',
      ].join("\n"),
    );
  });
});

describe("applyPortOverrides", () => {
  it("returns the manifest unchanged in value when nothing is overridden", () => {
    expect(applyPortOverrides(SHIPPED, { mode: "canary" })).toEqual(SHIPPED);
  });

  it("replaces the ingress and admin ports without touching the given manifest", () => {
    const before = structuredClone(SHIPPED);
    const next = applyPortOverrides(SHIPPED, { mode: "canary", ingressPort: 18081, adminPort: 19100 });
    expect(next.ingress).toEqual({ ...SHIPPED.ingress, port: 18081 });
    expect(next.app).toEqual({ ...SHIPPED.app, admin_port: 19100 });
    expect(SHIPPED).toEqual(before);
  });

  it("rejects an admin override on the app's public port, naming the override in the header", () => {
    expect(() => applyPortOverrides(SHIPPED, { mode: "canary", adminPort: 3000 })).toThrow(
      [
        "manifest with stack config swiftdeploy:adminPort=3000 is not valid (1 problem):",
        "  - manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), got 3000 for both",
      ].join("\n"),
    );
  });

  it("rejects an admin override equal to the app's container port", () => {
    expect(problemsOf(() => applyPortOverrides(SHIPPED, { mode: "canary", adminPort: 3000 }))).toEqual([
      "manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), got 3000 for both",
    ]);
  });

  it("accepts an ingress override on the admin port: Docker picks the admin host ports", () => {
    expect(applyPortOverrides(SHIPPED, { mode: "canary", ingressPort: 9100 }).ingress.port).toBe(9100);
  });

  it("re-checks ranges for settings that did not come through readStackSettings", () => {
    expect(problemsOf(() => applyPortOverrides(SHIPPED, { mode: "canary", adminPort: 80 }))).toEqual([
      "manifest.app.admin_port must be >= 1024, got 80",
    ]);
  });
});
