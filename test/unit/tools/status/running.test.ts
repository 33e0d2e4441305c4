import { describe, expect, it } from "vitest";
import { LABEL } from "../../../../lib/labels";
import { setLabels } from "../../../../program/plan";
import {
  adminTargetsOf,
  PROJECT,
  releaseDrifted,
  type LabelledContainer,
} from "../../../../tools/status/running";

/** A container as the engine lists it: the admin port published on 127.0.0.1, its labels. */
function container(port: number, labels: Record<string, string>, state = "running"): LabelledContainer {
  return {
    State: state,
    Ports: [{ IP: "127.0.0.1", PrivatePort: 9000, PublicPort: port, Type: "tcp" }],
    Labels: labels,
  };
}

describe("adminTargetsOf", () => {
  it("reads each running replica's set and version from the labels the program gives its containers", () => {
    const plan = { project: PROJECT, stack: "dev" };
    const targets = adminTargetsOf([
      container(9102, { ...setLabels(plan, "canary", "1.1.0"), "swiftdeploy.replica": "0" }),
      container(9100, setLabels(plan, "stable", "1.0.0")),
      container(9101, setLabels(plan, "stable", "1.0.0"), "restarting"),
    ]);
    expect(targets).toEqual([
      { url: "http://127.0.0.1:9100", labels: { set: "stable", version: "1.0.0" } },
      { url: "http://127.0.0.1:9102", labels: { set: "canary", version: "1.1.0" } },
    ]);
  });

  it("leaves the set out for a container deployed before the two sets", () => {
    expect(adminTargetsOf([container(9100, { "swiftdeploy.role": "app" })])).toEqual([
      { url: "http://127.0.0.1:9100", labels: {} },
    ]);
  });

  it("names the labels program/plan.ts sets", () => {
    expect(setLabels({ project: PROJECT, stack: "dev" }, "canary", "1.1.0")).toMatchObject({
      [LABEL.set]: "canary",
      [LABEL.version]: "1.1.0",
    });
  });
});

describe("releaseDrifted", () => {
  const release = { stableVersion: "1.0.0", canaryVersion: "1.1.0", weight: 10 };
  const target = (set: string, version: string) => ({ url: "u", labels: { set, version } });

  it.each([
    ["the sets the outputs name", [target("stable", "1.0.0"), target("canary", "1.1.0")], false],
    ["a canary that left (promoted or aborted)", [target("stable", "1.0.0")], true],
    ["another canary", [target("stable", "1.0.0"), target("canary", "1.2.0")], true],
    [
      "a stable set rolling to a new version",
      [target("stable", "1.0.0"), target("stable", "0.9.0"), target("canary", "1.1.0")],
      true,
    ],
  ])("compares %s with the outputs: drifted %s", (_name, running, drifted) => {
    expect(releaseDrifted(release, running)).toBe(drifted);
  });

  it("never calls for the outputs again when they name no release", () => {
    expect(releaseDrifted(null, [target("canary", "1.2.0")])).toBe(false);
  });
});
