// The one writer (and reader) of .swiftdeploy/<stack>/history.jsonl, the audit trail that gates, dashboard and
// commands append to at the same time. Each event is one JSON line written by exactly one write(2) on an fd
// opened with O_APPEND, so concurrent writers never interleave.
import * as fs from "node:fs";
import * as path from "node:path";
import type { NewHistoryEvent, StoredFields, WrittenHistoryEvent } from "./history-events";

/**
 * A line as read back: written by any version of the code, so only the common fields are known; readers
 * narrow it by `type` to the kinds of lib/history-events.ts, checking each field.
 */
export interface HistoryEvent extends StoredFields {
  type: string;
  [k: string]: unknown;
}

export interface HistoryRead {
  events: HistoryEvent[];
  /** Lines that are not a whole, versioned event; `line` is 1-based. */
  skipped: { line: number; reason: string; excerpt: string }[];
}

export function historyPath(projectDir: string, stack: string): string {
  return path.join(projectDir, ".swiftdeploy", stack, "history.jsonl");
}

/** Appends one event (the writer adds `v` and `ts`) and returns it as written. */
export function appendHistory(file: string, event: NewHistoryEvent): WrittenHistoryEvent {
  checkNewEvent(event as unknown as Record<string, unknown>);
  const { stack, type, ...fields } = event;
  const written = { v: 1, ts: new Date().toISOString(), stack, type, ...fields } as WrittenHistoryEvent;
  const line = Buffer.from(`${JSON.stringify(written)}\n`, "utf8");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a+", 0o644); // O_APPEND; readable for the torn-tail check
  try {
    // A writer killed mid-write (or a full disk) leaves a torn tail; start on a fresh line so it cannot
    // swallow this event. Racing a long write in progress this may add a blank line, which readers skip.
    const out = endsTorn(fs, fd) ? Buffer.concat([Buffer.from("\n"), line]) : line;
    const bytes = fs.writeSync(fd, out, 0, out.length);
    if (bytes !== out.length) {
      throw new Error(`history: short write to ${file}: ${bytes} of ${out.length} bytes`);
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

/** A missing file reads as empty; corrupt, truncated or unversioned lines are reported, never thrown. */
export function readHistory(file: string): HistoryRead {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { events: [], skipped: [] };
    throw err;
  }
  const result: HistoryRead = { events: [], skipped: [] };
  text.split("\n").forEach((raw, index) => {
    if (raw.trim() === "") return;
    const problem = eventProblem(raw);
    if (typeof problem === "string") {
      const excerpt = raw.length > 120 ? `${raw.slice(0, 120)}…` : raw;
      result.skipped.push({ line: index + 1, reason: problem, excerpt });
    } else {
      result.events.push(problem);
    }
  });
  return result;
}

function checkNewEvent(event: Record<string, unknown>): void {
  for (const key of ["stack", "type"]) {
    if (typeof event[key] !== "string" || event[key] === "") {
      throw new Error(`history event ${key} must be a non-empty string, got ${JSON.stringify(event[key])}`);
    }
  }
  for (const key of ["v", "ts"]) {
    if (key in event) {
      throw new Error(
        `history event must not set ${key} (the writer sets it), got ${JSON.stringify(event[key])}`,
      );
    }
  }
}

/** The parsed event, or the reason the line is not one. */
function eventProblem(raw: string): HistoryEvent | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "not a JSON object";
  const event = parsed as Record<string, unknown>;
  if (event.v !== 1) return `unsupported version: v is ${JSON.stringify(event.v) ?? "missing"}, expected 1`;
  if (typeof event.ts !== "string" || Number.isNaN(Date.parse(event.ts))) {
    return `ts must be an ISO-8601 timestamp, got ${JSON.stringify(event.ts) ?? "nothing"}`;
  }
  for (const key of ["stack", "type"]) {
    if (typeof event[key] !== "string")
      return `${key} must be a string, got ${JSON.stringify(event[key]) ?? "nothing"}`;
  }
  return event as HistoryEvent;
}

/** True when the file's last byte is not a newline. */
function endsTorn(fs: typeof import("node:fs"), fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
