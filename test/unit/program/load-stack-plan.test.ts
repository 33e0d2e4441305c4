// loadStackPlan's failures: bad input (stack config, manifest) is told apart from bugs, so that index.ts
// hands only the former to Pulumi as a RunError (message alone) and bugs keep their stack.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManifestError } from "../../../program/manifest";
import { isInputError, loadStackPlan } from "../../../program/plan";
import { StackSettingsError } from "../../../program/stack-settings";

const ROOT = path.resolve(__dirname, "../../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "load-stack-plan-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function load(config: Record<string, string>) {
  return () =>
    loadStackPlan({ project: "swiftdeploy", stack: "dev", projectDir: ROOT, config: (k) => config[k] });
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error("expected loadStackPlan to throw");
}

describe("loadStackPlan", () => {
  it("plans the shipped manifest with the default config", () => {
    expect(load({})().manifest.service.name).toBe("swiftdeploy");
  });

  it.each<[string, Record<string, string>, typeof StackSettingsError | typeof ManifestError, string]>([
    [
      "a bad mode",
      { mode: "blue" },
      StackSettingsError,
      'stack config is not valid (1 problem):\n  - config swiftdeploy:mode must be one of canary, stable; got "blue"',
    ],
    [
      "a manifest file that does not exist",
      { manifest: "stacks/missing.yaml" },
      ManifestError,
      `the manifest cannot be read (1 problem):\n  - ${ROOT}/stacks/missing.yaml does not exist`,
    ],
    [
      "an admin override on the app's public port",
      { adminPort: "3000" },
      ManifestError,
      "manifest with stack config swiftdeploy:adminPort=3000 is not valid (1 problem):\n" +
        "  - manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), " +
        "got 3000 for both",
    ],
  ])("fails on %s with an input error whose message is all the user needs", (_, config, type, message) => {
    const err = thrownBy(load(config));
    expect(err).toBeInstanceOf(type);
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toBe(message);
  });

  it("fails on a manifest with problems with an input error listing each", () => {
    const file = path.join(scratch, "two-problems.yaml");
    const shipped = fs.readFileSync(path.join(ROOT, "manifest.yaml"), "utf8");
    fs.writeFileSync(
      file,
      shipped.replace("replicas: 1 ", "replicas: 0 ").replace("port: 8081 ", "port: 0 "),
    );
    const err = thrownBy(load({ manifest: file }));
    expect(isInputError(err)).toBe(true);
    expect((err as ManifestError).problems).toEqual([
      "manifest.app.replicas must be >= 1, got 0",
      "manifest.ingress.port must be >= 1, got 0",
    ]);
  });

  it("lets a failure that is not about the input through as it is, a bug", () => {
    const bug = new TypeError("config is not a function");
    const err = thrownBy(() =>
      loadStackPlan({
        project: "swiftdeploy",
        stack: "dev",
        projectDir: ROOT,
        config: () => {
          throw bug;
        },
      }),
    );
    expect(err).toBe(bug);
    expect(isInputError(err)).toBe(false);
  });
});

describe("isInputError", () => {
  it.each([
    ["a TypeError", new TypeError("x is undefined")],
    ["a plain Error", new Error("ENOENT")],
    ["a thrown string", "stack config is not valid"],
    [
      "an error that only looks like one",
      Object.assign(new Error("m"), { name: "ManifestError", problems: [] }),
    ],
  ])("is false for %s", (_, err) => {
    expect(isInputError(err)).toBe(false);
  });
});
