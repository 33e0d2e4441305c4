// The config nginx gets from the rollout step (components/nginx-control.ts): each upstream container's address written beside its name.
import { describe, expect, it } from "vitest";
import { withAddresses } from "../../../components/nginx-control";

const CONFIG = [
  "  upstream app {",
  "    server swiftdeploy-dev-app-3f2a1c9b-0:3000;",
  "    server swiftdeploy-dev-app-3f2a1c9b-1:3000;",
  "  }",
  "  # server swiftdeploy-dev-app-3f2a1c9b-0:3000; in a comment stays as it is",
].join("\n");
const NAMES = ["swiftdeploy-dev-app-3f2a1c9b-0", "swiftdeploy-dev-app-3f2a1c9b-1"];

describe("withAddresses", () => {
  it("names each upstream container by its address and keeps its name in a comment", () => {
    expect(withAddresses(CONFIG, NAMES, ["172.19.0.5", "172.19.0.6"]).split("\n")).toEqual([
      "  upstream app {",
      "    server 172.19.0.5:3000;  # swiftdeploy-dev-app-3f2a1c9b-0",
      "    server 172.19.0.6:3000;  # swiftdeploy-dev-app-3f2a1c9b-1",
      "  }",
      "  # server swiftdeploy-dev-app-3f2a1c9b-0:3000; in a comment stays as it is",
    ]);
  });

  it("leaves a server it was not told about as it is", () => {
    expect(withAddresses(CONFIG, [NAMES[0]], ["172.19.0.5"])).toContain(
      "    server swiftdeploy-dev-app-3f2a1c9b-1:3000;",
    );
  });

  it.each([[""], [undefined as unknown as string]])(
    "refuses to write a config naming a container with no address (%j), naming it",
    (missing) => {
      expect(() => withAddresses(CONFIG, NAMES, ["172.19.0.5", missing])).toThrow(
        "upstream container swiftdeploy-dev-app-3f2a1c9b-1 is not running (it has no address on its network)",
      );
    },
  );
});
