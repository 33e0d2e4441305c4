// The timed command runner of the bench: runs a command to its end, stamps each output line with its
// arrival, and can stop every command still running (Ctrl+C). Also the environment of scripts/env.
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { ROOT } from "./paths";

export interface TimedLine {
  /** ms since the command started, when the line arrived. */
  at: number;
  text: string;
}

export interface TimedRun {
  ms: number;
  lines: TimedLine[];
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/** Ends every command still running (the harness calls this on Ctrl+C, then cleans up). */
export function killRunningCommands(): void {
  for (const child of running) child.kill("SIGTERM");
}

/** The environment of scripts/env (tools on PATH, the local Pulumi backend), read once by bash itself. */
export async function toolEnvironment(): Promise<NodeJS.ProcessEnv> {
  const run = await runTimed("bash", ["-c", "source scripts/env && env -0"], { cwd: ROOT });
  const env: NodeJS.ProcessEnv = {};
  for (const entry of run.lines
    .map((l) => l.text)
    .join("\n")
    .split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * Runs a command to its end and times it, stamping each output line (stdout and stderr) with its arrival.
 * Rejects when it exits non-zero or outlives timeoutMs, with the command and the last lines it printed.
 */
export function runTimed(command: string, args: string[], opts: RunOptions = {}): Promise<TimedRun> {
  const started = performance.now();
  const lines: TimedLine[] = [];
  const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
  running.add(child);
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const at = performance.now() - started;
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) lines.push({ at, text });
    });
    stream.on("end", () => partial && lines.push({ at: performance.now() - started, text: partial }));
  };
  collect(child.stdout);
  collect(child.stderr);
  child.stdin.end(opts.input ?? "");
  const timeoutMs = opts.timeoutMs ?? 300_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (err) => reject(new Error(`${command} could not start: ${err.message}`)));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const ms = performance.now() - started;
      if (code === 0) return resolve({ ms, lines });
      const why = signal ? `was stopped by ${signal} after ${Math.round(ms)} ms` : `exited with code ${code}`;
      const tail = lines.slice(-25).map((l) => `    ${l.text}`);
      reject(new Error([`\`${[command, ...args].join(" ")}\` ${why}; last lines:`, ...tail].join("\n")));
    });
  });
}
