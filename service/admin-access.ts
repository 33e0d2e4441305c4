// Who may talk to the admin listener (/metrics, /chaos, /healthz): the host, and nothing else. The listener
// binds inside the container so that Docker's 127.0.0.1-published port reaches it; that port's connections
// arrive from the container's default gateway (the network's bridge on the host, through docker-proxy or
// hairpin NAT), while nginx and every other container on the network arrive from their own addresses. So a
// connection is served only when it comes from loopback or that gateway, and every other one is reset the
// moment it is accepted, before a byte of HTTP is read. A request that gets through must still name a
// loopback Host: a web page on the host that rebinds its own name to 127.0.0.1 gets 421, never /chaos.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { Middleware } from "koa";

/** RTF_UP | RTF_GATEWAY in /proc/net/route's Flags column. */
const UP_GATEWAY = 0x0003;

/**
 * The IPv4 default gateways in the text of /proc/net/route, dotted ("172.18.0.1"). The kernel prints each
 * address as the hex of its 32-bit value in host byte order, so the bytes read backwards on little-endian.
 */
export function defaultGateways(routeTable: string, endianness: "LE" | "BE" = "LE"): string[] {
  const gateways: string[] = [];
  for (const line of routeTable.split("\n").slice(1)) {
    const [, destination, gateway, flags, , , , mask] = line.trim().split(/\s+/);
    if (destination !== "00000000" || mask !== "00000000" || !/^[0-9A-Fa-f]{8}$/.test(gateway ?? ""))
      continue;
    if ((parseInt(flags, 16) & UP_GATEWAY) !== UP_GATEWAY) continue;
    const bytes = (gateway.match(/../g) as string[]).map((pair) => parseInt(pair, 16));
    const address = (endianness === "LE" ? bytes.reverse() : bytes).join(".");
    if (!gateways.includes(address)) gateways.push(address);
  }
  return gateways;
}

/** "::ffff:172.18.0.1" (an IPv4 peer of a dual-stack socket) → "172.18.0.1"; other addresses unchanged. */
function plainAddress(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

export function isLoopbackAddress(address: string): boolean {
  const plain = plainAddress(address);
  return plain === "::1" || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

/** Whether a connection from `address` may reach the admin routes: loopback, or one of `gateways`. */
export function admitsPeer(address: string | undefined, gateways: readonly string[]): boolean {
  if (address === undefined) return false; // already gone
  return isLoopbackAddress(address) || gateways.includes(plainAddress(address));
}

/**
 * Resets every connection to `server` that `admits` refuses, as soon as it is accepted. The HTTP parser is
 * attached by then (Node's own 'connection' listener runs first) but has read nothing: no request of a
 * refused peer is ever parsed, routed or answered.
 */
export function refuseConnections(
  server: Server,
  admits: (address: string | undefined) => boolean,
  onRefused: (address: string) => void = () => {},
): void {
  server.on("connection", (socket: Socket) => {
    if (admits(socket.remoteAddress)) return;
    onRefused(socket.remoteAddress ?? "unknown");
    socket.resetAndDestroy();
  });
}

/** 127.0.0.1, localhost or [::1], each with an optional port: what a client on the host names. */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOST.test(host);
}

/**
 * Answers 421 to a request whose Host header is not a loopback name (a missing Host included): such a
 * request was meant for another server, e.g. a DNS-rebound name in a browser on the host.
 */
export function requireLoopbackHost(onRefused: () => void = () => {}): Middleware {
  return async function loopbackHost(ctx, next) {
    const host = ctx.get("host");
    if (isLoopbackHost(host)) return next();
    onRefused();
    ctx.status = 421;
    ctx.body = {
      error: `the admin listener answers only Host 127.0.0.1, localhost or [::1] (with any port), got ${JSON.stringify(host)}`,
    };
  };
}
