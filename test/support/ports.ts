// TCP ports for tests, owned rather than guessed. Probing for a free port and closing it again (the old
// freePort) hands the same port to two tests that ask at the same moment, and gives nothing to clean up
// after a killed run. Here a port belongs to the process that holds its lock file,
// <LOCK_DIR>/<port>.lock, created exclusively with the owner's pid and start time; a lock whose owner no
// longer runs is stale and taken over. Ports come from a range below Linux's ephemeral ports (32768+), so
// an outgoing connection never sits on one, and each is checked to be bindable before it is handed out.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { isAlive, ownerId, parseOwnerId } from "./owner";

export const LOCK_DIR = process.env.SWIFTDEPLOY_TEST_PORT_LOCKS ?? "/tmp/swiftdeploy-test-ports";
/** First and last port tests may use; SWIFTDEPLOY_TEST_PORTS="20000-23999" changes it. */
export const PORT_RANGE = parseRange(process.env.SWIFTDEPLOY_TEST_PORTS ?? "20000-23999");

const held = new Set<number>();

function parseRange(text: string): { first: number; last: number } {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(first >= 1024 && last <= 65535 && first <= last))
    throw new Error(`SWIFTDEPLOY_TEST_PORTS must be FIRST-LAST within 1024-65535, got "${text}"`);
  return { first, last };
}

const lockFile = (port: number) => path.join(LOCK_DIR, `${port}.lock`);

/** The lock's owner, or null when the file is unreadable or not a lock. */
function lockOwner(file: string) {
  try {
    return parseOwnerId(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/**
 * Creates the lock with its content in one step (a hard link of a written temp file fails when the lock
 * exists, like O_EXCL, and a reader never sees a half-written lock). A stale lock is first moved aside
 * under a unique name (only one process can move it) and checked again there.
 */
function tryLock(port: number): boolean {
  fs.mkdirSync(LOCK_DIR, { recursive: true });
  const file = lockFile(port);
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
  fs.writeFileSync(temp, ownerId());
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.linkSync(temp, file);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      if (!reclaimIfStale(file)) return false;
    }
    return false;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Removes `file` when its owner is gone; true when it did (or the file vanished meanwhile). */
function reclaimIfStale(file: string): boolean {
  const owner = lockOwner(file);
  if (owner !== null && isAlive(owner)) return false;
  const aside = `${file}.stale.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return true; // someone else moved it first; try to lock again
  }
  const moved = lockOwner(aside);
  if (moved !== null && isAlive(moved)) {
    // Between the read and the move, another process took the port over: give its lock back.
    fs.linkSync(aside, file);
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Gives the ports back (their locks go). Ports still held at exit are released then. */
export function releasePorts(ports: Iterable<number>): void {
  for (const port of ports) {
    if (!held.delete(port)) continue;
    if (lockOwner(lockFile(port))?.pid === process.pid) fs.rmSync(lockFile(port), { force: true });
  }
}

process.on("exit", () => releasePorts([...held]));

/**
 * `count` consecutive ports for this process, locked and bindable on 127.0.0.1 and 0.0.0.0 now (the stack
 * publishes its ingress on 0.0.0.0). Consecutive because the stack publishes replica i's admin port at
 * adminPort + i.
 */
export async function reservePorts(count = 1): Promise<number[]> {
  const { first, last } = PORT_RANGE;
  const span = last - first + 1;
  // Each process starts at its own place in the range, so concurrent runs rarely meet.
  const offset = crypto.randomInt(span);
  for (let tried = 0; tried < span; tried++) {
    const start = first + ((offset + tried) % span);
    if (start + count - 1 > last) continue;
    const block: number[] = [];
    for (let port = start; port < start + count && tryLock(port); port++) {
      held.add(port);
      block.push(port);
    }
    if (block.length === count && (await allBindable(block))) return block;
    releasePorts(block);
  }
  throw new Error(`no ${count} consecutive free ports left in ${first}-${last} (locks in ${LOCK_DIR})`);
}

/** Locked is not enough: a process outside this scheme may listen there. */
async function allBindable(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    if (!(await bindable(port, "127.0.0.1")) || !(await bindable(port, "0.0.0.0"))) return false;
  }
  return true;
}

/** One port; see reservePorts. */
export async function reservePort(): Promise<number> {
  return (await reservePorts(1))[0];
}

/** Removes the locks whose owners no longer run (what a killed run leaves); returns the ports freed. */
export function sweepStalePortLocks(lockDir = LOCK_DIR): number[] {
  if (!fs.existsSync(lockDir)) return [];
  const freed: number[] = [];
  for (const name of fs.readdirSync(lockDir)) {
    const match = /^(\d+)\.lock$/.exec(name);
    if (match && reclaimIfStale(path.join(lockDir, name))) freed.push(Number(match[1]));
    // Temp and moved-aside files of a process killed between two steps.
    const leftover = /^\d+\.lock\.(?:stale\.)?(\d+)\./.exec(name);
    if (leftover && !isAlive({ pid: Number(leftover[1]), start: null }))
      fs.rmSync(path.join(lockDir, name), { force: true });
  }
  return freed.sort((a, b) => a - b);
}
