import { describe, expect, it } from "vitest";
import { formatClock, formatUptime, withUnit } from "../../../../tools/status/format";

describe("dashboard formatting", () => {
  it.each([
    [0, "0s"],
    [42.9, "42s"],
    [245, "4m 05s"],
    [3723, "1h 02m 03s"],
    [273_900, "3d 04h 05m"],
  ])("prints an uptime of %s s as %s", (seconds, text) => {
    expect(formatUptime(seconds)).toBe(text);
  });

  it.each([
    [77.891, "GB", "77.89 GB"],
    [10, "GB", "10 GB"],
    [46.94, "%", "46.94%"],
    [3.5, "", "3.50"],
    [null, "ms", "n/a"],
  ])("prints %s with unit %j as %s", (value, unit, text) => {
    expect(withUnit(value, unit)).toBe(text);
  });

  it("prints the time in UTC", () => {
    expect(formatClock("2025-11-24T23:40:05.123Z")).toBe("2025-11-24 23:40:05 UTC");
  });
});
