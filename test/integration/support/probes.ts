// Probes for the isolation tests, run where the traffic would come from: inside the stack's own containers
// (`docker exec`), or inside throwaway containers attached to one of the stack's networks. Every answer is
// one short word or status, so a table of probes reads like the README's "who reaches what".
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import { promisify } from "node:util";
import { testLabelArgs } from "../../support/test-objects";

const run = promisify(execFile);

/** curl's exit codes for the ways a connection can fail, in words. */
const CURL_FAILURES: Record<number, string> = {
  6: "unresolved",
  7: "no connection",
  28: "timeout",
  52: "closed unanswered",
  55: "reset",
  56: "reset",
};

export interface CurlOptions {
  method?: string;
  /** A JSON body (sent with its content type). */
  json?: unknown;
  /** Extra `Name: value` headers. */
  headers?: string[];
  /** Whole exchange, in seconds (connection included). */
  maxSeconds?: number;
  /** Unix socket to send the request through. */
  unixSocket?: string;
}

/**
 * One HTTP request with curl inside `container`: "HTTP <status>" when anything answered, else how the
 * connection failed ("reset", "unresolved", "timeout", ...). Every image of the stack has curl.
 */
export async function curlFrom(container: string, url: string, opts: CurlOptions = {}): Promise<string> {
  const args = ["exec", container, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"];
  args.push("--max-time", String(opts.maxSeconds ?? 3), "-X", opts.method ?? "GET");
  for (const header of opts.headers ?? []) args.push("-H", header);
  if (opts.json !== undefined)
    args.push("-H", "content-type: application/json", "--data", JSON.stringify(opts.json));
  if (opts.unixSocket) args.push("--unix-socket", opts.unixSocket);
  args.push(url);
  try {
    const { stdout } = await run("docker", args, { timeout: 30_000 });
    return `HTTP ${stdout.trim()}`;
  } catch (err) {
    const failure = err as { code?: number | string; stderr?: string };
    const word = typeof failure.code === "number" ? CURL_FAILURES[failure.code] : undefined;
    if (word) return word;
    throw new Error(`docker ${args.join(" ")} failed (${failure.code}): ${failure.stderr ?? ""}`);
  }
}

/** A throwaway container, labelled as this test's, removed by `remove()` (or by a later run's sweep). */
export interface Throwaway {
  name: string;
  remove(): Promise<void>;
}

/**
 * Starts `command` detached in a new container of `image` (named `<prefix>-probe-<role>-<hex>`, so the
 * stack's own clean-up finds it too), with `docker run` options `runArgs` (its network, say).
 */
export async function startThrowaway(
  prefix: string,
  role: string,
  image: string,
  runArgs: string[],
  command: string[],
): Promise<Throwaway> {
  const name = `${prefix}-probe-${role}-${crypto.randomBytes(2).toString("hex")}`;
  const [entrypoint, ...rest] = command;
  await run(
    "docker",
    ["run", "-d", "--name", name, ...testLabelArgs(), ...runArgs, "--entrypoint", entrypoint, image, ...rest],
    { timeout: 60_000 },
  );
  return {
    name,
    remove: async () => {
      await run("docker", ["rm", "-f", name], { timeout: 60_000 }).catch(() => undefined);
    },
  };
}

/** Polls `probe` until it gives `expected` (a listener coming up); fails with the last answer. */
export async function waitForAnswer(
  what: string,
  probe: () => Promise<string>,
  expected: string,
  deadlineMs = 15_000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < end) {
    last = await probe();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: expected ${expected} within ${deadlineMs} ms, last answer ${last}`);
}
