// What runs now, as the Docker engine lists it: the admin URLs the canary gate judges.
import { describe, expect, it } from "vitest";
import type { ListedContainer } from "../../../lib/docker-engine";
import { adminUrlsOf, inGenerations } from "../../../program/running";

type Ports = ListedContainer["Ports"];
const publicPort: Ports[number] = { PrivatePort: 3000, Type: "tcp" };
const admin = (port: number): Ports[number] => ({
  IP: "127.0.0.1",
  PrivatePort: 9100,
  PublicPort: port,
  Type: "tcp",
});

describe("adminUrlsOf", () => {
  it.each<[string, Ports[], string[]]>([
    ["no container", [], []],
    ["one replica", [[publicPort, admin(32768)]], ["http://127.0.0.1:32768"]],
    [
      "three replicas, sorted",
      [[admin(32771)], [admin(32769)], [admin(32770)]],
      ["http://127.0.0.1:32769", "http://127.0.0.1:32770", "http://127.0.0.1:32771"],
    ],
    // A port published on every address is never taken for an admin listener.
    ["a port on 0.0.0.0", [[{ IP: "0.0.0.0", PrivatePort: 8080, PublicPort: 8081, Type: "tcp" }]], []],
    // A container that is restarting publishes nothing yet.
    ["a container without its admin port", [[publicPort]], []],
  ])("reads %s", (_, ports, urls) => {
    expect(adminUrlsOf(ports.map((Ports) => ({ Ports, State: "running" })))).toEqual(urls);
  });

  it("leaves out a container that is not running, even with a port still listed", () => {
    expect(
      adminUrlsOf([
        { Ports: [admin(32768)], State: "restarting" },
        { Ports: [admin(32769)], State: "running" },
      ]),
    ).toEqual(["http://127.0.0.1:32769"]);
  });
});

describe("inGenerations", () => {
  const of = (generation?: string): Pick<ListedContainer, "Labels"> => ({
    Labels: generation === undefined ? {} : { "swiftdeploy.generation": generation },
  });

  it("keeps the containers of the generations in rotation only", () => {
    const containers = [of("aaaa1111"), of("bbbb2222"), of(), of("aaaa1111")];
    expect(inGenerations(containers, new Set(["aaaa1111"]))).toEqual([of("aaaa1111"), of("aaaa1111")]);
  });

  it("keeps every container when no generation is known (a stack deployed before the outputs named them)", () => {
    const containers = [of("aaaa1111"), of()];
    expect(inGenerations(containers, undefined)).toEqual(containers);
  });
});
