import { describe, expect, it } from "vitest";
import { parseStackOutputs, resolveStackTarget, StackNotDeployedError } from "../../../../tools/status/stack";

/** What `pulumi stack output --json` prints for a stack running a canary beside stable (see index.ts). */
const labels = (set: string, version: string, replica: number) => ({
  set,
  version,
  replica: String(replica),
  generation: "3f9a1c2b",
  role: "app",
  stack: "dev",
  project: "swiftdeploy",
});
const OUTPUTS = {
  publicUrl: "http://127.0.0.1:8081",
  adminUrls: ["http://127.0.0.1:9100", "http://127.0.0.1:9101", "http://127.0.0.1:9102"],
  adminTargets: [
    { url: "http://127.0.0.1:9100", labels: labels("stable", "1.0.0", 0) },
    { url: "http://127.0.0.1:9101", labels: labels("stable", "1.0.0", 1) },
    { url: "http://127.0.0.1:9102", labels: labels("canary", "1.1.0", 0) },
  ],
  opaSocket: "/work/main/.swiftdeploy/dev/opa.sock",
  mode: "canary",
  release: {
    stable: { version: "1.0.0", image: "swiftdeploy-dev-app:1.0.0-0a1b2c3d" },
    canary: { version: "1.1.0", image: "swiftdeploy-dev-app:1.1.0-4e5f6a7b" },
    retained: [],
    built: "swiftdeploy-dev-app:1.1.0-4e5f6a7b",
  },
  stableVersion: "1.0.0",
  canaryVersion: "1.1.0",
  canaryWeight: 10,
  canaryVerdict: null,
  historyFile: "/work/main/.swiftdeploy/dev/history.jsonl",
  infrastructureVerdict: null,
};

/** The outputs of a stack deployed before the two sets: one set of replicas, a mode, no release. */
const OLD_OUTPUTS = {
  publicUrl: OUTPUTS.publicUrl,
  adminUrls: ["http://127.0.0.1:9100", "http://127.0.0.1:9101"],
  opaSocket: OUTPUTS.opaSocket,
  mode: "canary",
  historyFile: OUTPUTS.historyFile,
  infrastructureVerdict: null,
};

/** A stand-in for the Pulumi CLI that records each command it was asked to run. */
function fakePulumi(outputs: unknown = OUTPUTS, selected = "dev") {
  const calls: string[][] = [];
  const run = async (args: string[]) => {
    calls.push(args);
    if (args[1] === "--show-name") return `${selected}\n`;
    return JSON.stringify(outputs);
  };
  return { calls, run };
}

const NO_URLS = { adminUrls: [], canaryUrls: [] };

describe("resolveStackTarget", () => {
  it("reads the named stack's outputs: each replica with its set, the versions and the canary's weight", async () => {
    const pulumi = fakePulumi();
    const target = await resolveStackTarget({ stack: "dev", ...NO_URLS }, "/p", pulumi.run);
    expect(target).toEqual({
      stack: "dev",
      adminUrls: OUTPUTS.adminUrls,
      adminTargets: OUTPUTS.adminTargets,
      release: { stableVersion: "1.0.0", canaryVersion: "1.1.0", weight: 10 },
      opaSocket: OUTPUTS.opaSocket,
      historyFile: OUTPUTS.historyFile,
      configuredMode: "canary",
    });
    expect(pulumi.calls).toEqual([["stack", "output", "--json", "--stack", "dev"]]);
  });

  it("reads a stack deployed before the two sets as one set of replicas and no release", async () => {
    const target = await resolveStackTarget({ stack: "dev", ...NO_URLS }, "/p", fakePulumi(OLD_OUTPUTS).run);
    expect(target).toMatchObject({ adminUrls: OLD_OUTPUTS.adminUrls, adminTargets: null, release: null });
  });

  it("uses the selected stack when none is named, and lets overrides replace single outputs", async () => {
    const pulumi = fakePulumi(OUTPUTS, "staging");
    const target = await resolveStackTarget({ ...NO_URLS, opaSocket: "/tmp/o.sock" }, "/p", pulumi.run);
    expect(target).toMatchObject({
      stack: "staging",
      opaSocket: "/tmp/o.sock",
      adminUrls: OUTPUTS.adminUrls,
    });
    expect(pulumi.calls[0]).toEqual(["stack", "--show-name"]);
  });

  it("labels the command line's replicas with the sets and the outputs' versions", async () => {
    const overrides = { adminUrls: ["http://127.0.0.1:9"], canaryUrls: ["http://127.0.0.1:8"] };
    const target = await resolveStackTarget({ stack: "dev", ...overrides }, "/p", fakePulumi().run);
    expect(target.adminUrls).toEqual(["http://127.0.0.1:9", "http://127.0.0.1:8"]);
    expect(target.adminTargets).toEqual([
      { url: "http://127.0.0.1:9", labels: { set: "stable", version: "1.0.0" } },
      { url: "http://127.0.0.1:8", labels: { set: "canary", version: "1.1.0" } },
    ]);
  });

  it("never asks Pulumi when the admin URLs, OPA socket and history file are all given", async () => {
    const pulumi = fakePulumi();
    const files = { opaSocket: "/tmp/o.sock", historyFile: "/tmp/h.jsonl" };
    const target = await resolveStackTarget(
      { adminUrls: ["http://127.0.0.1:9"], canaryUrls: [], ...files },
      "/p",
      pulumi.run,
    );
    expect(target).toEqual({
      stack: "local",
      adminUrls: ["http://127.0.0.1:9"],
      adminTargets: null,
      release: null,
      ...files,
      configuredMode: null,
    });

    const withCanary = await resolveStackTarget(
      { adminUrls: [], canaryUrls: ["http://127.0.0.1:8"], ...files },
      "/p",
      pulumi.run,
    );
    expect(withCanary.adminTargets).toEqual([{ url: "http://127.0.0.1:8", labels: { set: "canary" } }]);
    expect(pulumi.calls).toEqual([]);
  });
});

describe("resolveStackTarget before a deploy", () => {
  /** A CLI that fails the way the real one does, with its message as lib/pulumi-cli.ts passes it on. */
  function cli(answers: Record<string, string | Error>) {
    const calls: string[][] = [];
    const run = async (args: string[]) => {
      calls.push(args);
      const answer = answers[args.join(" ")];
      if (answer === undefined) throw new Error(`unexpected: pulumi ${args.join(" ")}`);
      if (answer instanceof Error) throw answer;
      return answer;
    };
    return { calls, run };
  }
  const cliError = (args: string, stderr: string) => new Error(`\`pulumi ${args}\` failed: ${stderr}`);

  it.each<[string, Record<string, string | Error>, string]>([
    [
      "a stack that exists but has no outputs",
      { "stack --show-name": "dev\n", "stack output --json --stack dev": "{}" },
      "stack dev is not deployed; deploy it with `npm run deploy`",
    ],
    [
      "a fresh clone, whose state directory does not exist yet",
      {
        "stack --show-name": cliError(
          "stack --show-name",
          'error: unable to open state directory "file:///p/.pulumi-state": stat /p/.pulumi-state: no such file or directory',
        ),
        "stack output --json --stack dev": cliError(
          "stack output --json --stack dev",
          'error: unable to open state directory "file:///p/.pulumi-state": stat /p/.pulumi-state: no such file or directory',
        ),
      },
      "stack dev is not deployed; deploy it with `npm run deploy`",
    ],
    [
      "no stack selected and no dev stack",
      {
        "stack --show-name": cliError(
          "stack --show-name",
          "error: no stack selected; please use `pulumi stack select` or `pulumi stack init` to choose one",
        ),
        "stack output --json --stack dev": cliError(
          "stack output --json --stack dev",
          "error: no stack named 'dev' found",
        ),
      },
      "stack dev is not deployed; deploy it with `npm run deploy`",
    ],
  ])("says in one line that %s is not deployed and how to deploy it", async (_, answers, message) => {
    const pulumi = cli(answers);
    const failure = resolveStackTarget(NO_URLS, "/p", pulumi.run, "dev");
    await expect(failure).rejects.toThrow(StackNotDeployedError);
    await expect(failure).rejects.toMatchObject({ message });
    expect(message).not.toContain("\n");
  });

  it("names the command that deploys a stack other than the default", async () => {
    const pulumi = cli({
      "stack output --json --stack staging": cliError(
        "stack output --json --stack staging",
        "error: no stack named 'staging' found",
      ),
    });
    await expect(
      resolveStackTarget({ stack: "staging", ...NO_URLS }, "/p", pulumi.run, "dev"),
    ).rejects.toThrow(
      "stack staging is not deployed; deploy it with `SWIFTDEPLOY_STACK=staging npm run deploy`",
    );
  });

  it("watches the stack npm run deploy deploys when none is selected", async () => {
    const pulumi = cli({
      "stack --show-name": cliError(
        "stack --show-name",
        "error: no stack selected; please use `pulumi stack select`",
      ),
      "stack output --json --stack qa": JSON.stringify(OUTPUTS),
    });
    const target = await resolveStackTarget(NO_URLS, "/p", pulumi.run, "qa");
    expect(target.stack).toBe("qa");
    expect(target.adminUrls).toEqual(OUTPUTS.adminUrls);
  });

  it("passes any other failure of the CLI on as it is", async () => {
    const passphrase = cliError(
      "stack output --json --stack dev",
      "error: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase",
    );
    const pulumi = cli({ "stack output --json --stack dev": passphrase });
    await expect(resolveStackTarget({ stack: "dev", ...NO_URLS }, "/p", pulumi.run, "dev")).rejects.toBe(
      passphrase,
    );
  });
});

describe("parseStackOutputs", () => {
  it("reads a stack with no outputs at all as not deployed (null)", () => {
    expect(parseStackOutputs("{}", "dev")).toBeNull();
  });

  it.each<[string, Record<string, unknown>, object | null]>([
    [
      "no canary in flight",
      { ...OUTPUTS, release: { ...OUTPUTS.release, canary: null }, canaryWeight: null },
      {
        stableVersion: "1.0.0",
        canaryVersion: null,
        weight: null,
      },
    ],
    [
      "the canary as the only set",
      { ...OUTPUTS, release: { ...OUTPUTS.release, stable: null }, canaryWeight: null },
      {
        stableVersion: null,
        canaryVersion: "1.1.0",
        weight: null,
      },
    ],
    [
      "only stableVersion and canaryVersion",
      { ...OUTPUTS, release: undefined },
      {
        stableVersion: "1.0.0",
        canaryVersion: "1.1.0",
        weight: 10,
      },
    ],
    ["none of them (deployed before the two sets)", OLD_OUTPUTS, null],
  ])("reads the release of %s", (_name, outputs, release) => {
    expect(parseStackOutputs(JSON.stringify(outputs), "dev")?.release).toEqual(release);
  });

  it.each([
    [
      { publicUrl: "http://127.0.0.1:8081" },
      "output adminUrls must be a non-empty list of URLs, got undefined (outputs: publicUrl)",
    ],
    [
      { ...OUTPUTS, adminUrls: "http://127.0.0.1:9100" },
      'output adminUrls must be a non-empty list of URLs, got "http://127.0.0.1:9100"',
    ],
    [{ ...OUTPUTS, opaSocket: 7 }, "output opaSocket must be a string, got 7"],
    [
      { ...OUTPUTS, adminTargets: [{ url: "http://127.0.0.1:9100" }] },
      'output adminTargets must be a list of {url, labels}, got [{"url":"http://127.0.0.1:9100"}]',
    ],
    [{ ...OUTPUTS, historyFile: undefined }, "output historyFile must be a string, got undefined"],
  ])("names the output that is wrong in %j", (outputs, message) => {
    expect(() => parseStackOutputs(JSON.stringify(outputs), "dev")).toThrow(`stack dev: ${message}`);
  });

  it.each([
    ["error: no stack", "printed no JSON: error: no stack"],
    ["[]", "must print an object, got []"],
  ])("says when the CLI printed %j", (printed, message) => {
    expect(() => parseStackOutputs(printed, "dev")).toThrow(message);
  });
});
