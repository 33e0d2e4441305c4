import { describe, expect, it } from "vitest";
import { parseStatusArgs } from "../../../../tools/status/args";

describe("parseStatusArgs", () => {
  it("refreshes every 5 seconds from the selected stack by default", () => {
    expect(parseStatusArgs([])).toEqual({
      target: {
        stack: undefined,
        adminUrls: [],
        canaryUrls: [],
        opaSocket: undefined,
        historyFile: undefined,
      },
      intervalSeconds: 5,
      once: false,
      json: false,
      samples: 1,
      help: false,
    });
  });

  it("takes the canary set's replicas apart from the stable set's", () => {
    const { target } = parseStatusArgs([
      "--admin-url",
      "http://127.0.0.1:9100",
      "--canary-url",
      "http://127.0.0.1:9102",
      "--canary-url",
      "http://127.0.0.1:9103",
    ]);
    expect(target).toMatchObject({
      adminUrls: ["http://127.0.0.1:9100"],
      canaryUrls: ["http://127.0.0.1:9102", "http://127.0.0.1:9103"],
    });
  });

  it("takes every override and repeats --admin-url once per replica", () => {
    const options = parseStatusArgs([
      "--once",
      "--stack=ci",
      "--interval",
      "0.5",
      "--samples",
      "2",
      "--admin-url",
      "http://127.0.0.1:9100",
      "--admin-url",
      "http://127.0.0.1:9101",
      "--opa-socket",
      "/tmp/opa.sock",
      "--history",
      "/tmp/history.jsonl",
    ]);
    expect(options).toMatchObject({
      once: true,
      intervalSeconds: 0.5,
      samples: 2,
      target: {
        stack: "ci",
        adminUrls: ["http://127.0.0.1:9100", "http://127.0.0.1:9101"],
        opaSocket: "/tmp/opa.sock",
        historyFile: "/tmp/history.jsonl",
      },
    });
  });

  it.each([
    [["--interval", "0"], '--interval must be a number of seconds from 0.1 to 3600, got "0"'],
    [["--interval", "soon"], '--interval must be a number of seconds from 0.1 to 3600, got "soon"'],
    [["--samples", "1.5"], '--samples must be a whole number from 1 to 100, got "1.5"'],
    [["--admin-url", "127.0.0.1:9100"], '--admin-url must be an http:// URL, got "127.0.0.1:9100"'],
    [["--canary-url", "localhost:9102"], '--canary-url must be an http:// URL, got "localhost:9102"'],
    [["--colour"], "Unknown option '--colour'"],
  ])("refuses %j: %s", (argv, message) => {
    expect(() => parseStatusArgs(argv)).toThrow(message);
  });
});
