// What runs now, read from Docker before anything is declared: the admin listeners of the stack's app
// containers, published on ports Docker picked. The canary gate judges these (the containers it lets
// through depend on it, so it cannot take their outputs).
import { execFile } from "node:child_process";

/** http://127.0.0.1:<port> of each running container carrying all of `labels`, in Docker's order. */
export function runningAdminUrls(labels: Record<string, string>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
  return new Promise((resolve, reject) => {
    execFile(
      "docker",
      ["ps", ...filters, "--format", "{{.Ports}}"],
      { encoding: "utf8", timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`docker ps failed (${stderr.trim() || err.message}): is the engine running?`));
        else resolve(adminUrlsFromPorts(stdout));
      },
    );
  });
}

/** `127.0.0.1:49153->9100/tcp` per line (Docker's Ports column) → http://127.0.0.1:49153. */
export function adminUrlsFromPorts(text: string): string[] {
  return text
    .split("\n")
    .map((line) => /127\.0\.0\.1:(\d+)->\d+\/tcp/.exec(line)?.[1])
    .filter((port): port is string => port !== undefined)
    .map((port) => `http://127.0.0.1:${port}`)
    .sort();
}
