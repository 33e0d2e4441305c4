// What a killed run leaves, and what the next run removes: only what no live process owns. Docker is a
// stand-in here (the real sweep runs at the start of every integration run); claims, folders and port
// locks are real files in folders of this test's own.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ownerId } from "../../support/owner";
import { claim, sweepLeftovers, testLabelArgs } from "../../support/test-objects";

const DEAD = "999999999:1";
let dir: string;
let claimsDir: string;
let tmpDir: string;
let portLockDir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-sweep-"));
  [claimsDir, tmpDir, portLockDir] = ["claims", "tmp", "ports"].map((d) => path.join(dir, d));
  for (const d of [claimsDir, tmpDir, portLockDir]) fs.mkdirSync(d);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A docker CLI that lists what `listing` says and records every other call. */
function fakeDocker(listing: { containers: string[]; networks: string[]; images: string[] }) {
  const calls: string[][] = [];
  const docker = async (...args: string[]) => {
    if (args[0] === "ps") return listing.containers;
    if (args[0] === "network" && args[1] === "ls") return listing.networks;
    if (args[0] === "images") return listing.images;
    calls.push(args);
    return [];
  };
  return { docker, calls };
}

describe("sweepLeftovers", () => {
  it("removes a dead run's stack objects, folders and labelled containers, and nothing a live process owns", async () => {
    const liveDir = path.join(tmpDir, "sdtest-live-1");
    const deadDir = path.join(tmpDir, "sdtest-dead-2");
    const orphanDir = path.join(tmpDir, "sdtest-orphan-3");
    const otherDir = path.join(tmpDir, "someone-else");
    for (const d of [liveDir, deadDir, orphanDir, otherDir]) fs.mkdirSync(d);
    claim(
      "sdtest-live-aaaaaa",
      { dockerPrefix: "swiftdeploy-sdtest-live-aaaaaa", dirs: [liveDir] },
      claimsDir,
    );
    fs.writeFileSync(
      path.join(claimsDir, "sdtest-dead-bbbbbb.json"),
      JSON.stringify({ owner: DEAD, dockerPrefix: "swiftdeploy-sdtest-dead-bbbbbb", dirs: [deadDir] }),
    );
    fs.writeFileSync(path.join(portLockDir, "20001.lock"), DEAD);
    fs.writeFileSync(path.join(portLockDir, "20002.lock"), ownerId());
    const { docker, calls } = fakeDocker({
      containers: [
        "swiftdeploy-sdtest-live-aaaaaa-opa\t\t",
        "swiftdeploy-sdtest-live-aaaaaa-probe-public-1a2b\t" + ownerId() + "\t1",
        "swiftdeploy-sdtest-dead-bbbbbb-app-0123abcd-0\t\t",
        "swiftdeploy-sdtest-killed-cccccc-nginx\t\t", // a run killed before claims existed
        "sdtest-svc-12ab\t" + DEAD + "\t1",
        "sdtest-svc-34cd\t" + ownerId() + "\t1",
        "swiftdeploy-dev-opa\t\t",
      ],
      networks: [
        "swiftdeploy-sdtest-live-aaaaaa-net\t\t",
        "swiftdeploy-sdtest-dead-bbbbbb-net\t\t",
        "swiftdeploy-dev-net\t\t",
        "bridge\t\t",
      ],
      images: [
        "swiftdeploy-sdtest-live-aaaaaa/opa:latest",
        "swiftdeploy-sdtest-dead-bbbbbb/swiftdeploy-app:1.0.0-0123abcd",
        "swiftdeploy-dev/opa:latest",
        "local/debian:bookworm-slim",
      ],
    });

    const report = await sweepLeftovers({ docker, claimsDir, tmpDir, portLockDir, unclaimedDirAgeMs: 0 });

    expect(calls).toEqual([
      [
        "rm",
        "-f",
        "swiftdeploy-sdtest-dead-bbbbbb-app-0123abcd-0",
        "swiftdeploy-sdtest-killed-cccccc-nginx",
        "sdtest-svc-12ab",
      ],
      ["network", "rm", "swiftdeploy-sdtest-dead-bbbbbb-net"],
      ["rmi", "-f", "swiftdeploy-sdtest-dead-bbbbbb/swiftdeploy-app:1.0.0-0123abcd"],
    ]);
    expect(report.dirs.sort()).toEqual([deadDir, orphanDir].sort());
    expect(fs.readdirSync(tmpDir).sort()).toEqual(["sdtest-live-1", "someone-else"]);
    expect(fs.readdirSync(claimsDir)).toEqual(["sdtest-live-aaaaaa.json"]);
    expect(report.ports).toEqual([20001]);
    expect(fs.readdirSync(portLockDir)).toEqual(["20002.lock"]);
  });

  it("leaves an unclaimed test folder alone while it is young", async () => {
    fs.mkdirSync(path.join(tmpDir, "sdtest-young-1"));
    const { docker } = fakeDocker({ containers: [], networks: [], images: [] });
    const report = await sweepLeftovers({ docker, claimsDir, tmpDir, portLockDir });
    expect(report.dirs).toEqual([]);
    expect(fs.readdirSync(tmpDir)).toEqual(["sdtest-young-1"]);
  });
});

describe("testLabelArgs", () => {
  it("labels a throwaway container as a test's, with its owner", () => {
    expect(testLabelArgs()).toEqual([
      "--label",
      "swiftdeploy.test=1",
      "--label",
      `swiftdeploy.test.owner=${ownerId()}`,
    ]);
  });
});
