// Docker names derive from the Pulumi project and stack, so stacks run side by side on one host.
import { describe, expect, it } from "vitest";
import { dockerPrefix, stackDockerNames } from "../../../program/names";

const NETWORKS = { public: "net", internal: "opa-internal" };

// Docker's own grammar (moby/moby daemon/names, distribution/reference).
const CONTAINER_OR_NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`);

/** Every Docker name of a stack, with the app image at a version. */
function allNames(stack: string, project = "swiftdeploy") {
  const n = stackDockerNames(dockerPrefix(project, stack), NETWORKS);
  return {
    containersAndNetworks: [
      n.publicNetwork,
      n.internalNetwork,
      n.opaContainer,
      n.nginxContainer,
      n.appContainer("3f2a1c9b", 0),
      n.appContainer("3f2a1c9b", 7),
    ],
    images: [n.opaImage, n.nginxImage, `${n.appImage("swiftdeploy-app")}:1.0.0`],
  };
}

describe("dockerPrefix", () => {
  it.each([
    ["swiftdeploy", "dev", "swiftdeploy-dev"],
    ["swiftdeploy", "unittest", "swiftdeploy-unittest"],
    ["swiftdeploy", "release-2", "swiftdeploy-release-2"],
  ])("keeps project %j and stack %j as %j when Docker accepts them as they are", (project, stack, prefix) => {
    expect(dockerPrefix(project, stack)).toBe(prefix);
  });

  it.each([
    ["swiftdeploy", "Feature.X", "swiftdeploy-feature-x"],
    ["SwiftDeploy", "Prod", "swiftdeploy-prod"],
    ["swiftdeploy", "feat_login", "swiftdeploy-feat-login"],
    ["swiftdeploy", "release-2.0", "swiftdeploy-release-2-0"],
    ["swiftdeploy", "a b/c", "swiftdeploy-a-b-c"],
    ["_swiftdeploy", "dev", "swiftdeploy-dev"],
    ["swiftdeploy", "dev-", "swiftdeploy-dev"],
    ["swiftdeploy", "a..b___c", "swiftdeploy-a-b-c"],
  ])("turns project %j and stack %j into %j plus a hash of the original", (project, stack, prefix) => {
    expect(dockerPrefix(project, stack)).toMatch(new RegExp(`^${prefix}-[0-9a-f]{6}$`));
  });
});

describe("stackDockerNames", () => {
  it("names every object of stack dev after the project, the stack and the manifest's networks", () => {
    const n = stackDockerNames("swiftdeploy-dev", NETWORKS);
    expect({
      publicNetwork: n.publicNetwork,
      internalNetwork: n.internalNetwork,
      opaContainer: n.opaContainer,
      opaImage: n.opaImage,
      app: [n.appContainer("3f2a1c9b", 0), n.appContainer("3f2a1c9b", 2)],
      appImage: n.appImage("swiftdeploy-app"),
      nginxContainer: n.nginxContainer,
      nginxImage: n.nginxImage,
    }).toEqual({
      publicNetwork: "swiftdeploy-dev-net",
      internalNetwork: "swiftdeploy-dev-opa-internal",
      opaContainer: "swiftdeploy-dev-opa",
      opaImage: "swiftdeploy-dev/opa",
      app: ["swiftdeploy-dev-app-3f2a1c9b-0", "swiftdeploy-dev-app-3f2a1c9b-2"],
      appImage: "swiftdeploy-dev/swiftdeploy-app",
      nginxContainer: "swiftdeploy-dev-nginx",
      nginxImage: "swiftdeploy-dev/nginx",
    });
  });

  it.each([
    "dev",
    "unittest",
    "Feature.X",
    "feat_login",
    "release-2.0",
    "a b/c",
    "UPPER",
    "dev-",
    "a..b",
    "x___y",
  ])("gives stack %j names Docker accepts for containers, networks and images", (stack) => {
    const { containersAndNetworks, images } = allNames(stack);
    for (const name of containersAndNetworks) expect(name).toMatch(CONTAINER_OR_NETWORK);
    for (const image of images) expect(image).toMatch(IMAGE);
  });

  it.each([
    ["dev", "test"],
    ["dev", "dev2"],
    ["dev", "dev-opa"],
    ["dev", "dev-app"],
    ["dev", "dev-nginx"],
    ["feature.x", "feature-x"],
    ["feat_login", "feat-login"],
    ["Dev", "dev"],
    ["dev.", "dev"],
  ])("gives stacks %j and %j disjoint Docker names", (a, b) => {
    const names = (stack: string) => {
      const { containersAndNetworks, images } = allNames(stack);
      return [...containersAndNetworks, ...images.map((i) => i.replace(/:[^/]*$/, ""))];
    };
    const first = new Set(names(a));
    expect(names(b).filter((name) => first.has(name))).toEqual([]);
  });
});
