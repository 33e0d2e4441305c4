import { execFileSync } from "node:child_process";
import * as os from "node:os";
import { describe, expect, it } from "vitest";
import { collectHostFacts } from "../../../lib/host-facts";

describe("collectHostFacts", () => {
  it("reads this host's free disk, 1-minute load and available memory as plain numbers", async () => {
    const facts = await collectHostFacts("/");
    expect(Object.keys(facts).sort()).toEqual(["cpu_load", "disk_free_gb", "mem_free_percent"]);
    expect(facts.cpu_load).toBeGreaterThanOrEqual(0);
    expect(facts.mem_free_percent).toBeGreaterThan(0);
    expect(facts.mem_free_percent).toBeLessThanOrEqual(100);
  });

  it("gives the free space df reports as available on the filesystem holding the path", async () => {
    const dfBytes = Number(
      execFileSync("df", ["-B1", "--output=avail", os.tmpdir()], { encoding: "utf8" }).split("\n")[1],
    );
    const facts = await collectHostFacts(os.tmpdir());
    // Other processes write meanwhile: agree within 0.5 GB.
    expect(Math.abs(facts.disk_free_gb - dfBytes / 1e9)).toBeLessThan(0.5);
  });

  it("names the path when the data root does not exist", async () => {
    await expect(collectHostFacts("/no/such/docker/root")).rejects.toThrow("/no/such/docker/root");
  });
});
