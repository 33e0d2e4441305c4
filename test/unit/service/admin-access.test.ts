// The admin listener answers the host only: connections from anything but loopback or the container's
// default gateway are reset before any HTTP, and a request must name a loopback Host. Pure parts as tables,
// the connection guard on real sockets (a non-loopback address of this machine stands in for another
// container), the Host rule through the admin app.
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import {
  admitsPeer,
  defaultGateways,
  isLoopbackHost,
  refuseConnections,
} from "../../../service/admin-access";
import { makeApp, samples } from "./fixtures";

// /proc/net/route of an app container on a Docker network whose gateway is 172.18.0.1.
const CONTAINER_ROUTES = [
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  "eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0",
  "eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
  "",
].join("\n");

describe("defaultGateways", () => {
  it.each([
    ["a container on a Docker network", CONTAINER_ROUTES, "LE", ["172.18.0.1"]],
    [
      "the same table on a big-endian machine",
      CONTAINER_ROUTES.replace("010012AC", "AC120001"),
      "BE",
      ["172.18.0.1"],
    ],
    [
      "a container on an internal network (no default route)",
      CONTAINER_ROUTES.split("\n")
        .filter((l) => !l.includes("\t00000000\t0"))
        .join("\n"),
      "LE",
      [],
    ],
    ["a default route that is down", CONTAINER_ROUTES.replace("\t0003\t", "\t0002\t"), "LE", []],
    ["a default route without a gateway flag", CONTAINER_ROUTES.replace("\t0003\t", "\t0001\t"), "LE", []],
    [
      "two interfaces with the same default gateway",
      `${CONTAINER_ROUTES}eth1\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`,
      "LE",
      ["172.18.0.1"],
    ],
    ["an empty file", "", "LE", []],
  ] as const)("reads %s", (_what, table, endianness, expected) => {
    expect(defaultGateways(table, endianness)).toEqual(expected);
  });
});

describe("admitsPeer", () => {
  const gateways = ["172.18.0.1"];
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["172.18.0.1", true],
    ["::ffff:172.18.0.1", true],
    ["172.18.0.3", false], // nginx, or any other container on the network
    ["::ffff:172.18.0.3", false],
    ["172.18.0.10", false],
    ["10.0.0.5", false],
    ["fe80::1", false],
    [undefined, false], // the socket is already gone
  ] as const)("%s → %s", (address, admitted) => {
    expect(admitsPeer(address, gateways)).toBe(admitted);
  });

  it("admits no gateway when none was found", () => {
    expect(admitsPeer("172.18.0.1", [])).toBe(false);
  });
});

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.0.0.1:9100", "localhost", "LocalHost:9100", "[::1]", "[::1]:9100"])(
    "accepts %s",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each([
    "",
    "evil.example",
    "evil.example:9100",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "localhost:9100.evil.example",
    "127.0.0.2",
    "0.0.0.0:9100",
    "172.18.0.3:9100",
    "app:9100",
    "[::1]x",
    "::1",
    "localhost:",
    "127.0.0.1:9100:80",
    "127.0.0.1:123456",
  ])("refuses %j", (host) => expect(isLoopbackHost(host)).toBe(false));
});

describe("the admin app's Host rule", () => {
  it.each(["GET /metrics", "GET /chaos", "GET /healthz", "POST /chaos"])(
    "answers %s for another Host with 421 and leaves chaos alone",
    async (route) => {
      const { adminApp, state, registry } = makeApp();
      const [method, path] = route.split(" ");
      const call = request(adminApp.callback())[method === "POST" ? "post" : "get"](path);
      const res = await call
        .set("Host", "evil.example")
        .send(method === "POST" ? { mode: "error", rate: 1 } : undefined);
      expect(res.status).toBe(421);
      expect(res.body.error).toBe(
        'the admin listener answers only Host 127.0.0.1, localhost or [::1] (with any port), got "evil.example"',
      );
      expect(res.text).not.toContain("app_mode");
      expect(state.chaos).toEqual({ mode: "none" });
      expect(await samples(registry, "app_admin_refusals_total")).toContainEqual({
        labels: { reason: "host" },
        value: 1,
      });
    },
  );

  it.each(["127.0.0.1:9100", "localhost:9100", "[::1]:9100", "localhost"])(
    "serves a request for Host %s",
    async (host) => {
      const { adminApp } = makeApp();
      await request(adminApp.callback()).get("/metrics").set("Host", host).expect(200);
    },
  );

  it("refuses a request with no Host at all (HTTP/1.0)", async () => {
    const { adminApp } = makeApp();
    const server = http.createServer(adminApp.callback());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const answer = await rawExchange(
        (server.address() as net.AddressInfo).port,
        "127.0.0.1",
        "GET /metrics HTTP/1.0\r\n\r\n",
      );
      expect(answer).toMatch(/^HTTP\/1\.1 421 /);
    } finally {
      server.close();
    }
  });

  it("sends no CORS header, to a preflight or to a request with an Origin", async () => {
    const { adminApp } = makeApp();
    const app = adminApp.callback();
    const answers = [
      await request(app)
        .options("/chaos")
        .set("Origin", "http://evil.example")
        .set("Access-Control-Request-Method", "POST"),
      await request(app).get("/metrics").set("Origin", "http://evil.example"),
      await request(app).post("/chaos").set("Origin", "http://127.0.0.1:9100").send({ mode: "none" }),
    ];
    for (const res of answers) {
      expect(Object.keys(res.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
    expect(answers.map((res) => res.status)).toEqual([404, 200, 200]);
  });
});

/** Writes `text` to host:port and resolves with everything read until the peer closes (or an error code). */
function rawExchange(port: number, host: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host }, () => socket.write(text));
    let data = "";
    socket.on("data", (chunk) => (data += chunk));
    socket.on("end", () => resolve(data));
    socket.on("error", (err: NodeJS.ErrnoException) =>
      resolve(data === "" ? (err.code ?? err.message) : data),
    );
  });
}

describe("refuseConnections", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  async function guarded(host: string, gateways: string[]) {
    const handled: string[] = [];
    const refused: string[] = [];
    const server = http.createServer((req, res) => {
      handled.push(`${req.method} ${req.url}`);
      res.end("served");
    });
    refuseConnections(
      server,
      (address) => admitsPeer(address, gateways),
      (address) => refused.push(address),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return { port: (server.address() as net.AddressInfo).port, handled, refused };
  }

  /** A non-loopback IPv4 address of this machine: a connection from it is not loopback, like another container's. */
  function otherAddress(): string {
    const found = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === "IPv4" && !i.internal);
    if (!found) throw new Error("this machine has no non-loopback IPv4 address to connect from");
    return found.address;
  }

  it("serves loopback", async () => {
    const { port, handled, refused } = await guarded("0.0.0.0", []);
    expect(
      await rawExchange(
        port,
        "127.0.0.1",
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      ),
    ).toMatch(/served$/);
    expect(handled).toEqual(["GET /metrics"]);
    expect(refused).toEqual([]);
  });

  it("resets a connection from another address before any request is read, and says who it was", async () => {
    const address = otherAddress();
    const { port, handled, refused } = await guarded("0.0.0.0", []);
    const answer = await rawExchange(
      port,
      address,
      "POST /chaos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    );
    expect(answer).toBe("ECONNRESET");
    expect(handled).toEqual([]);
    expect(refused).toEqual([address]);
    // The positive control from the same place: the listener is there, loopback still gets an answer.
    expect(await rawExchange(port, "127.0.0.1", "GET / HTTP/1.0\r\n\r\n")).toMatch(/served$/);
  });

  it("serves that address once it is the default gateway (the host's published port)", async () => {
    const address = otherAddress();
    const { port, handled, refused } = await guarded("0.0.0.0", [address]);
    expect(await rawExchange(port, address, "GET /metrics HTTP/1.0\r\n\r\n")).toMatch(/served$/);
    expect(handled).toEqual(["GET /metrics"]);
    expect(refused).toEqual([]);
  });
});
