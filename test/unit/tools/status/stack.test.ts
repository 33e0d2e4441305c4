import { describe, expect, it } from "vitest";
import { parseStackOutputs, resolveStackTarget } from "../../../../tools/status/stack";

const OUTPUTS = {
  publicUrl: "http://127.0.0.1:8081",
  adminUrls: ["http://127.0.0.1:9100", "http://127.0.0.1:9101"],
  opaSocket: "/work/main/.swiftdeploy/dev/opa.sock",
  mode: "canary",
  historyFile: "/work/main/.swiftdeploy/dev/history.jsonl",
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

describe("resolveStackTarget", () => {
  it("reads the named stack's outputs", async () => {
    const pulumi = fakePulumi();
    const target = await resolveStackTarget({ stack: "dev", adminUrls: [] }, "/p", pulumi.run);
    expect(target).toEqual({
      stack: "dev",
      adminUrls: OUTPUTS.adminUrls,
      opaSocket: OUTPUTS.opaSocket,
      historyFile: OUTPUTS.historyFile,
      configuredMode: "canary",
    });
    expect(pulumi.calls).toEqual([["stack", "output", "--json", "--stack", "dev"]]);
  });

  it("uses the selected stack when none is named, and lets overrides replace single outputs", async () => {
    const pulumi = fakePulumi(OUTPUTS, "staging");
    const target = await resolveStackTarget({ adminUrls: [], opaSocket: "/tmp/o.sock" }, "/p", pulumi.run);
    expect(target).toMatchObject({
      stack: "staging",
      opaSocket: "/tmp/o.sock",
      adminUrls: OUTPUTS.adminUrls,
    });
    expect(pulumi.calls[0]).toEqual(["stack", "--show-name"]);
  });

  it("never asks Pulumi when the admin URLs, OPA socket and history file are all given", async () => {
    const pulumi = fakePulumi();
    const overrides = {
      adminUrls: ["http://127.0.0.1:9"],
      opaSocket: "/tmp/o.sock",
      historyFile: "/tmp/h.jsonl",
    };
    const target = await resolveStackTarget(overrides, "/p", pulumi.run);
    expect(target).toEqual({ stack: "local", ...overrides, configuredMode: null });
    expect(pulumi.calls).toEqual([]);
  });
});

describe("parseStackOutputs", () => {
  it.each([
    [{}, "output adminUrls must be a non-empty list of URLs, got undefined (outputs: none; is it deployed?"],
    [
      { ...OUTPUTS, adminUrls: "http://127.0.0.1:9100" },
      'output adminUrls must be a non-empty list of URLs, got "http://127.0.0.1:9100"',
    ],
    [{ ...OUTPUTS, opaSocket: 7 }, "output opaSocket must be a string, got 7"],
    [{ ...OUTPUTS, historyFile: undefined }, "output historyFile must be a string, got undefined"],
  ])("names the output that is wrong in %j", (outputs, message) => {
    expect(() => parseStackOutputs(JSON.stringify(outputs), "dev")).toThrow(`stack dev: ${message}`);
  });

  it("says when the CLI printed no JSON", () => {
    expect(() => parseStackOutputs("error: no stack", "dev")).toThrow("printed no JSON: error: no stack");
  });
});
