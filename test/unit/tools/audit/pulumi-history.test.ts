import { describe, expect, it } from "vitest";
import { parsePulumiHistory, readPulumiHistory } from "../../../../tools/audit/pulumi-history";

// The shape `pulumi stack history --json` prints (pkg/cmd/pulumi/stack/stack_history.go, updateInfoJSON).
const CLI_OUTPUT = JSON.stringify([
  {
    version: 3,
    kind: "update",
    startTime: "2025-11-24T10:03:00Z",
    message: "",
    environment: { "exec.kind": "cli" },
    config: { "swiftdeploy:mode": { value: "stable", secret: false } },
    result: "succeeded",
    endTime: "2025-11-24T10:03:14Z",
    resourceChanges: { same: 7, update: 1 },
  },
  { version: 4, kind: "destroy", startTime: "2025-11-24T10:04:08Z", message: "", result: "in-progress" },
]);

describe("parsePulumiHistory", () => {
  it("keeps version, kind, times, result, message and resource changes of each update", () => {
    expect(parsePulumiHistory(CLI_OUTPUT)).toEqual([
      {
        version: 3,
        kind: "update",
        startTime: "2025-11-24T10:03:00Z",
        endTime: "2025-11-24T10:03:14Z",
        result: "succeeded",
        message: "",
        resourceChanges: { same: 7, update: 1 },
      },
      {
        version: 4,
        kind: "destroy",
        startTime: "2025-11-24T10:04:08Z",
        endTime: null,
        result: "in-progress",
        message: "",
        resourceChanges: {},
      },
    ]);
  });

  it("reads the version 0 the local file backend gives every update as no version", () => {
    const [update] = parsePulumiHistory('[{"version":0,"kind":"update","result":"succeeded"}]');
    expect(update.version).toBeNull();
  });

  it("reads a stack that was never updated as no updates", () => {
    expect(parsePulumiHistory("null")).toEqual([]);
  });
});

describe("readPulumiHistory", () => {
  it("asks the CLI for the whole history of the named stack", async () => {
    const calls: string[][] = [];
    const history = await readPulumiHistory("dev", "/p", async (args) => {
      calls.push(args);
      return CLI_OUTPUT;
    });
    expect(calls).toEqual([["stack", "history", "--json", "--stack", "dev", "--page-size", "10000"]]);
    expect(history).toMatchObject({ available: true, updates: [{ version: 3 }, { version: 4 }] });
  });

  it("turns a failing CLI into an unavailable history that carries the CLI's reason", async () => {
    const failing = async () => {
      throw new Error("`pulumi stack history --json --stack dev` failed: error: no stack named 'dev' found");
    };
    expect(await readPulumiHistory("dev", "/p", failing)).toEqual({
      available: false,
      reason: "`pulumi stack history --json --stack dev` failed: error: no stack named 'dev' found",
    });
  });
});
