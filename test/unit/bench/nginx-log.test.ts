// Reading nginx's own time per request from its access log (bench/nginx-log.ts), on lines in the shape
// templates/nginx.conf.liquid's log_format writes them (the first three as a running nginx wrote them).
import { describe, expect, it } from "vitest";
import { nginxOwnTimeMs, nginxOwnTimes } from "../../../bench/nginx-log";

const line = (target: string, rt: string, urt: string, set = "stable") =>
  `172.18.0.1 [30/Nov/2026:04:02:56 +0000] "GET ${target} HTTP/1.1" 200 100 rt=${rt} urt=${urt} set=${set}`;

describe("nginxOwnTimeMs", () => {
  it.each([
    ["0.001", "0.001", 0],
    ["0.005", "0.002", 3],
    // Both clocks have ms resolution: they can round apart by one.
    ["0.001", "0.002", -1],
    // A request retried on a second server logs one time per try; they are summed.
    ["0.012", "0.004, 0.006", 2],
    // Across internal redirects nginx joins the tries with " : ".
    ["0.010", "0.003 : 0.005", 2],
  ])("rt=%s urt=%s is %i ms", (rt, urt, ms) => {
    expect(nginxOwnTimeMs(line("/", rt, urt))).toBe(ms);
  });

  it("has no own time for a request nginx answered itself, or for a line that is not an access-log line", () => {
    expect(nginxOwnTimeMs(line("/metrics", "0.000", "-"))).toBeUndefined();
    expect(nginxOwnTimeMs(line("/", "0.003", "0.001, -"))).toBeUndefined();
    expect(nginxOwnTimeMs("2026/11/30 04:00:03 [notice] 1#1: signal process started")).toBeUndefined();
  });
});

describe("nginxOwnTimes", () => {
  it("takes the lines of one target only and counts those without an upstream time", () => {
    const lines = [
      line("/", "0.004", "0.001"),
      line("/", "0.002", "0.002", "canary"),
      line("/nginx-health", "0.000", "-"),
      line("/", "0.000", "-"),
      line("/?x=1", "0.009", "0.001"),
      "not a log line",
    ];
    expect(nginxOwnTimes(lines, "/")).toEqual({ timesMs: [3, 0], withoutUpstream: 1 });
  });
});
