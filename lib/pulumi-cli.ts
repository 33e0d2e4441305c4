import { execFile } from "node:child_process";

/**
 * Runs the Pulumi CLI (on PATH once `source scripts/env` has run) and returns its stdout. The error names
 * the command and carries the CLI's own first lines of stderr, which say what is wrong (no stack, no backend).
 */
export function runPulumi(args: string[], cwd: string, timeoutMs = 60_000): Promise<string> {
  const command = `pulumi ${args.join(" ")}`;
  return new Promise((resolve, reject) => {
    execFile(
      "pulumi",
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          return reject(
            new Error(`\`${command}\`: the pulumi CLI is not on PATH (run \`source scripts/env\`)`),
          );
        }
        const detail = firstLines(stderr) || err.message;
        reject(new Error(`\`${command}\` failed: ${detail}`));
      },
    );
  });
}

function firstLines(text: string, count = 3): string {
  return text.trim().split("\n").slice(0, count).join(" / ");
}
