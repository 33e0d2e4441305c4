// What tests leave on the machine, and how a later run finds it when the test that made it was killed.
// Throwaway containers carry labels (swiftdeploy.test=1 and their owner). The stacks' own Docker objects
// cannot (the program names them, and test code does not change the program): they are found by name,
// swiftdeploy-sdtest-*, and each test stack writes a claim naming its Docker prefix and folders before it
// creates anything. sweepLeftovers removes every object whose owner no longer runs.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { isAlive, ownerId, parseOwnerId, SELF } from "./owner";
import { sweepStalePortLocks } from "./ports";

const run = promisify(execFile);

export const TEST_LABEL = "swiftdeploy.test";
export const OWNER_LABEL = "swiftdeploy.test.owner";
/** Docker names of test stacks start with this (project swiftdeploy, stacks sdtest-*). */
export const TEST_STACK_PREFIX = "swiftdeploy-sdtest-";
/** Temp folders of test projects and programs start with this. */
export const TEST_DIR_PREFIX = "sdtest-";
export const CLAIMS_DIR = process.env.SWIFTDEPLOY_TEST_CLAIMS ?? "/tmp/swiftdeploy-test-claims";

/** `docker run` arguments that label a throwaway container as this process's. */
export function testLabelArgs(): string[] {
  return ["--label", `${TEST_LABEL}=1`, "--label", `${OWNER_LABEL}=${ownerId()}`];
}

export interface Claim {
  /** "pid:start" of the owning process. */
  owner: string;
  /** Docker name prefix of a test stack, e.g. swiftdeploy-sdtest-stack-1a2b3c. */
  dockerPrefix?: string;
  /** Folders the test made (a project copy). */
  dirs: string[];
}

/** Records that this process owns `what`, before any of it exists. */
export function claim(name: string, what: Omit<Claim, "owner">, claimsDir = CLAIMS_DIR): void {
  fs.mkdirSync(claimsDir, { recursive: true });
  fs.writeFileSync(path.join(claimsDir, `${name}.json`), JSON.stringify({ owner: ownerId(SELF), ...what }));
}

/** Drops the claim once everything it names is gone. */
export function unclaim(name: string, claimsDir = CLAIMS_DIR): void {
  fs.rmSync(path.join(claimsDir, `${name}.json`), { force: true });
}

function readClaims(claimsDir: string): { name: string; claim: Claim; alive: boolean }[] {
  if (!fs.existsSync(claimsDir)) return [];
  return fs
    .readdirSync(claimsDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      let parsed: Claim = { owner: "", dirs: [] };
      try {
        const raw = JSON.parse(fs.readFileSync(path.join(claimsDir, f), "utf8")) as Partial<Claim>;
        parsed = { owner: raw.owner ?? "", dockerPrefix: raw.dockerPrefix, dirs: raw.dirs ?? [] };
      } catch {
        // unreadable: nobody can prove it alive
      }
      const owner = parseOwnerId(parsed.owner);
      return { name: f.slice(0, -".json".length), claim: parsed, alive: owner !== null && isAlive(owner) };
    });
}

/** Runs the docker CLI; the lines it printed. */
export type DockerCli = (...args: string[]) => Promise<string[]>;

const dockerCli: DockerCli = async (...args) => {
  const { stdout } = await run("docker", args, { timeout: 60_000 });
  return stdout.split("\n").filter(Boolean);
};

export interface SweepOptions {
  docker?: DockerCli;
  claimsDir?: string;
  /** Where project copies are made (os.tmpdir()). */
  tmpDir?: string;
  /** Unclaimed test folders younger than this are left alone (a run of older code may be using them). */
  unclaimedDirAgeMs?: number;
  /** Where the port locks are (test/support/ports.ts LOCK_DIR). */
  portLockDir?: string;
}

export interface SweepReport {
  containers: string[];
  networks: string[];
  images: string[];
  dirs: string[];
  ports: number[];
}

/**
 * Removes what killed test runs left: containers, networks and images of test stacks whose claim is not
 * alive (or that no claim names at all), labelled throwaway containers and networks of dead owners, temp
 * project folders, and port locks of dead processes. Whatever a live process owns is left alone.
 */
export async function sweepLeftovers(opts: SweepOptions = {}): Promise<SweepReport> {
  const docker = opts.docker ?? dockerCli;
  const claimsDir = opts.claimsDir ?? CLAIMS_DIR;
  const claims = readClaims(claimsDir);
  const livePrefixes = claims
    .filter((c) => c.alive && c.claim.dockerPrefix)
    .map((c) => c.claim.dockerPrefix!);
  const liveDirs = new Set(claims.filter((c) => c.alive).flatMap((c) => c.claim.dirs));
  const orphaned = (name: string) =>
    name.startsWith(TEST_STACK_PREFIX) &&
    !livePrefixes.some((p) => name === p || name.startsWith(`${p}-`) || name.startsWith(`${p}/`));

  const report: SweepReport = { containers: [], networks: [], images: [], dirs: [], ports: [] };
  const deadOwner = (label: string) => {
    const owner = parseOwnerId(label);
    return owner === null || !isAlive(owner);
  };

  for (const line of await docker(
    "ps",
    "-a",
    "--format",
    `{{.Names}}\t{{.Label "${OWNER_LABEL}"}}\t{{.Label "${TEST_LABEL}"}}`,
  )) {
    const [name, owner, test] = line.split("\t");
    if (orphaned(name) || (test === "1" && deadOwner(owner))) report.containers.push(name);
  }
  if (report.containers.length > 0) await docker("rm", "-f", ...report.containers);

  for (const line of await docker(
    "network",
    "ls",
    "--format",
    `{{.Name}}\t{{.Label "${OWNER_LABEL}"}}\t{{.Label "${TEST_LABEL}"}}`,
  )) {
    const [name, owner, test] = line.split("\t");
    if (orphaned(name) || (test === "1" && deadOwner(owner))) report.networks.push(name);
  }
  for (const name of report.networks) await docker("network", "rm", name).catch(() => undefined);

  for (const image of await docker("images", "--format", "{{.Repository}}:{{.Tag}}")) {
    if (orphaned(image)) report.images.push(image);
  }
  if (report.images.length > 0) await docker("rmi", "-f", ...report.images).catch(() => undefined);

  for (const c of claims.filter((c) => !c.alive)) {
    for (const dir of c.claim.dirs) {
      if (fs.existsSync(dir)) report.dirs.push(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    unclaim(c.name, claimsDir);
  }
  // Folders of a run killed before it could claim them (or made by code that never claimed).
  const tmp = fs.realpathSync(opts.tmpDir ?? os.tmpdir());
  for (const name of fs.readdirSync(tmp).filter((n) => n.startsWith(TEST_DIR_PREFIX))) {
    const dir = path.join(tmp, name);
    if (liveDirs.has(dir) || !olderThan(dir, opts.unclaimedDirAgeMs ?? 60 * 60_000)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    report.dirs.push(dir);
  }
  report.ports = sweepStalePortLocks(opts.portLockDir);
  return report;
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}
