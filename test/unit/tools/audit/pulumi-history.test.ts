import { describe, expect, it } from "vitest";
import { parsePulumiHistory, readPulumiHistory } from "../../../../tools/audit/pulumi-history";

// The shape `pulumi stack history --json` prints (pkg/cmd/pulumi/stack/stack_history.go, updateInfoJSON),
// newest first.
const CLI_OUTPUT = JSON.stringify([
  { version: 4, kind: "destroy", startTime: "2025-11-24T10:04:08Z", message: "", result: "in-progress" },
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
]);

describe("parsePulumiHistory", () => {
  it("keeps kind, times, result, message and resource changes of each update, oldest first", () => {
    expect(parsePulumiHistory(CLI_OUTPUT)).toEqual([
      {
        number: 1,
        kind: "update",
        startTime: "2025-11-24T10:03:00Z",
        endTime: "2025-11-24T10:03:14Z",
        result: "succeeded",
        message: "",
        resourceChanges: { same: 7, update: 1 },
      },
      {
        number: 2,
        kind: "destroy",
        startTime: "2025-11-24T10:04:08Z",
        endTime: null,
        result: "in-progress",
        message: "",
        resourceChanges: {},
      },
    ]);
  });

  it("numbers the updates from 1 in the order they started, whatever version the backend reports", () => {
    // The file backend's answer: newest first, version 0 for every update, start times in whole seconds.
    const fileBackend = JSON.stringify([
      { version: 0, kind: "destroy", startTime: "2026-11-30T01:20:00.000Z", result: "succeeded" },
      { version: 0, kind: "update", startTime: "2026-11-30T01:18:03.000Z", result: "failed" },
      { version: 0, kind: "update", startTime: "2026-11-30T01:18:03.000Z", result: "succeeded" },
      { version: 0, kind: "update", startTime: "2026-11-30T01:17:40.000Z", result: "succeeded" },
    ]);
    expect(parsePulumiHistory(fileBackend).map((u) => [u.number, u.kind, u.result])).toEqual([
      [1, "update", "succeeded"],
      [2, "update", "succeeded"],
      [3, "update", "failed"],
      [4, "destroy", "succeeded"],
    ]);
  });

  it.each(["null", "[]"])("reads a stack that was never updated (%s) as no updates", (json) => {
    expect(parsePulumiHistory(json)).toEqual([]);
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
    expect(history).toMatchObject({ available: true, updates: [{ kind: "update" }, { kind: "destroy" }] });
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
