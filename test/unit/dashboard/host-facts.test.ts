import { describe, expect, it } from "vitest";
import { collectHostFacts, filesystemHolding } from "../../../lib/host-facts";

const MOUNTS = [
  { mount: "/", available: 1 },
  { mount: "/var", available: 2 },
  { mount: "/var/lib/docker", available: 3 },
  { mount: "/var/lib/docker2", available: 4 },
];

describe("filesystemHolding", () => {
  it.each([
    ["/var/lib/docker", 3],
    ["/var/lib/docker/overlay2", 3],
    ["/var/lib/dockerd", 2], // a mount is a path prefix, not a string prefix
    ["/srv/docker", 1],
  ])("finds the filesystem holding %s", (target, available) => {
    expect(filesystemHolding(target, MOUNTS).available).toBe(available);
  });

  it("names the path and the mounts when none holds it", () => {
    expect(() => filesystemHolding("/data", [{ mount: "/boot", available: 1 }])).toThrow(
      "no mounted filesystem holds /data (mounts: /boot)",
    );
  });
});

describe("collectHostFacts", () => {
  it("reads this host's free disk, 1-minute load and available memory as plain numbers", async () => {
    const facts = await collectHostFacts("/");
    expect(Object.keys(facts).sort()).toEqual(["cpu_load", "disk_free_gb", "mem_free_percent"]);
    expect(facts.disk_free_gb).toBeGreaterThan(0);
    expect(facts.cpu_load).toBeGreaterThanOrEqual(0);
    expect(facts.mem_free_percent).toBeGreaterThan(0);
    expect(facts.mem_free_percent).toBeLessThanOrEqual(100);
  });
});
