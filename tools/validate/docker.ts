// The docker CLI as `npm run validate` uses it: one command at a time, its output kept, and each line
// handed over as it comes, so a build that takes half a minute shows its steps.
import { spawn } from "node:child_process";
import { constants } from "node:os";

export interface DockerRun {
  /** The exit code; 128 + signal number when a signal ended it. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker <args>`; rejects only when docker cannot be started at all (ENOENT when not installed). */
export type RunDocker = (args: string[], onLine?: (line: string) => void) => Promise<DockerRun>;

export const runDocker: RunDocker = (args, onLine) =>
  new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream].setEncoding("utf8");
      child[stream].on("data", (chunk: string) => {
        out[stream] += chunk;
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) onLine?.(line);
      });
      child[stream].on("end", () => partial && onLine?.(partial));
    }
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), ...out });
    });
  });
