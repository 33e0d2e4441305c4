// Ports for tests are owned, not guessed: a lock file per port, held by a live process, taken over when
// its owner is gone, never handed to two processes at once, and given back at exit. Each case runs real
// processes (the fixture) against a lock folder and port range of its own.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ownerId } from "../../support/owner";
import { sweepStalePortLocks } from "../../support/ports";

const FIXTURE = path.join(__dirname, "fixtures", "reserve-ports.ts");
const TSX = path.resolve(__dirname, "../../../node_modules/.bin/tsx");
// Below the shared test range (20000-23999), so these cases never meet real tests' ports.
const BASE = 24_500;
/** A pid no process can have (above Linux's pid_max). */
const DEAD = "999999999:1";

let lockDir: string;
const children: ChildProcess[] = [];
const servers: net.Server[] = [];

beforeEach(() => {
  lockDir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-port-locks-"));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  fs.rmSync(lockDir, { recursive: true, force: true });
});

interface Reservation {
  child: ChildProcess;
  answer: Promise<{ ports?: number[]; error?: string }>;
  exited: Promise<number | null>;
}

/**
 * Starts a process that reserves `count` ports of `range` in blocks of `block`; it holds them until it is
 * killed (or exits at once with "exit").
 */
function reserveIn(range: string, count: number, block = count, then: "hold" | "exit" = "hold"): Reservation {
  const child = spawn(TSX, [FIXTURE, String(count), String(block), then], {
    env: { ...process.env, SWIFTDEPLOY_TEST_PORT_LOCKS: lockDir, SWIFTDEPLOY_TEST_PORTS: range },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  const answer = new Promise<{ ports?: number[]; error?: string }>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(JSON.parse(out));
    });
    child.on("exit", () =>
      out.includes("\n") ? undefined : reject(new Error(`exited without answer: ${out}`)),
    );
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, answer, exited };
}

const locks = () =>
  fs
    .readdirSync(lockDir)
    .filter((f) => f.endsWith(".lock"))
    .sort();

describe("reservePorts", () => {
  it("never hands a port to two processes asking at once", async () => {
    // Exactly as many ports as the four ask for: each gets its share only if none is given twice.
    const range = `${BASE}-${BASE + 19}`;
    const answers = await Promise.all([1, 2, 3, 4].map(() => reserveIn(range, 5, 1).answer));
    const all = answers.flatMap((a): unknown[] => a.ports ?? [a.error]);
    expect(all.sort()).toEqual(Array.from({ length: 20 }, (_, i) => BASE + i));
    expect(locks()).toHaveLength(20);
  });

  it("gives consecutive blocks (replica i's admin port is the first + i)", async () => {
    const { ports } = await reserveIn(`${BASE + 30}-${BASE + 49}`, 8, 4).answer;
    expect(ports).toHaveLength(8);
    for (const block of [ports!.slice(0, 4), ports!.slice(4)])
      expect(block).toEqual(block.map((_, i) => block[0] + i));
  });

  it("takes over the lock of a process that no longer runs", async () => {
    const port = BASE + 70;
    fs.writeFileSync(path.join(lockDir, `${port}.lock`), DEAD);
    expect(await reserveIn(`${port}-${port}`, 1).answer).toEqual({ ports: [port] });
  });

  it("leaves the lock of a live process alone", async () => {
    const port = BASE + 71;
    fs.writeFileSync(path.join(lockDir, `${port}.lock`), ownerId());
    expect(await reserveIn(`${port}-${port}`, 1).answer).toEqual({
      error: `no 1 consecutive free ports left in ${port}-${port} (locks in ${lockDir})`,
    });
    expect(fs.readFileSync(path.join(lockDir, `${port}.lock`), "utf8")).toBe(ownerId());
  });

  it("skips a port that a process outside the scheme listens on", async () => {
    const port = BASE + 72;
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "0.0.0.0", resolve));
    expect(await reserveIn(`${port}-${port + 1}`, 1).answer).toEqual({ ports: [port + 1] });
    expect(locks()).toEqual([`${port + 1}.lock`]);
  });

  it("gives its ports back when the process exits", async () => {
    const reservation = reserveIn(`${BASE + 60}-${BASE + 69}`, 3, 3, "exit");
    expect((await reservation.answer).ports).toHaveLength(3);
    expect(await reservation.exited).toBe(0);
    expect(locks()).toEqual([]);
  });
});

describe("sweepStalePortLocks", () => {
  it("removes the locks of processes that no longer run, and keeps the others", () => {
    fs.writeFileSync(path.join(lockDir, "24601.lock"), DEAD);
    fs.writeFileSync(path.join(lockDir, "24602.lock"), ownerId());
    fs.writeFileSync(path.join(lockDir, "24603.lock"), "not a lock");
    fs.writeFileSync(path.join(lockDir, "24604.lock.999999999.abcd"), DEAD);
    expect(sweepStalePortLocks(lockDir)).toEqual([24601, 24603]);
    expect(fs.readdirSync(lockDir)).toEqual(["24602.lock"]);
  });
});
