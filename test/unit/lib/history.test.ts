import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendHistory, historyPath, readHistory } from "../../../lib/history";
import type { NewHistoryEvent } from "../../../lib/history-events";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "history-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const freshFile = (name: string) => path.join(dir, name, "history.jsonl");

describe("historyPath", () => {
  it("puts the file in the stack's folder under .swiftdeploy", () => {
    expect(historyPath("/srv/project", "dev")).toBe("/srv/project/.swiftdeploy/dev/history.jsonl");
  });
});

describe("appendHistory", () => {
  it("creates the folder and writes one versioned, timestamped JSON line per event", () => {
    const file = freshFile("create");
    const before = Date.now();
    const event = appendHistory(file, { stack: "dev", type: "deploy", mode: "canary", version: "1.0.0" });
    appendHistory(file, { stack: "dev", type: "teardown" });

    const lines = fs.readFileSync(file, "utf8").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    expect(JSON.parse(lines[0])).toEqual(event);
    expect(Object.keys(event)).toEqual(["v", "ts", "stack", "type", "mode", "version"]);
    expect(event.v).toBe(1);
    expect(Date.parse(event.ts)).toBeGreaterThanOrEqual(before - 1);
    expect(event.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    [{ stack: "", type: "deploy" }, 'stack must be a non-empty string, got ""'],
    [{ stack: "dev", type: 7 as unknown as string }, "type must be a non-empty string, got 7"],
    [{ stack: "dev", type: "deploy", v: 2 }, "must not set v (the writer sets it), got 2"],
    [
      { stack: "dev", type: "deploy", ts: "yesterday" },
      'must not set ts (the writer sets it), got "yesterday"',
    ],
  ])("refuses the event %j, naming the key and value", (event, message) => {
    const file = freshFile("refused");
    // Shapes the type checker refuses, as a caller outside TypeScript (a CLI, a script) could send them.
    expect(() => appendHistory(file, event as unknown as NewHistoryEvent)).toThrow(message);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("starts on a fresh line after a torn tail, so the torn line cannot swallow the event", () => {
    const file = freshFile("torn");
    appendHistory(file, { stack: "dev", type: "deploy" });
    fs.appendFileSync(file, '{"v":1,"ts":"2025-01-01T00:00:00.000Z","sta');
    appendHistory(file, { stack: "dev", type: "teardown" });

    const read = readHistory(file);
    expect(read.events.map((e) => e.type)).toEqual(["deploy", "teardown"]);
    expect(read.skipped).toEqual([
      expect.objectContaining({ line: 2, excerpt: '{"v":1,"ts":"2025-01-01T00:00:00.000Z","sta' }),
    ]);
  });

  it(
    "keeps every line whole with 6 processes appending 500 lines each, some of 64 KB",
    { timeout: 60_000 },
    async () => {
      const file = freshFile("concurrent");
      const workers = 6;
      const perWorker = 500;
      const bigBytes = 64 * 1024;
      const startAtMs = Date.now() + 1500; // every worker is running before any writes
      const worker = path.join(__dirname, "fixtures", "append-worker.ts");
      await Promise.all(
        Array.from({ length: workers }, (_, w) =>
          run(
            process.execPath,
            [
              "--import",
              "tsx",
              worker,
              file,
              String(w),
              String(perWorker),
              String(startAtMs),
              String(bigBytes),
            ],
            {
              cwd: ROOT,
            },
          ),
        ),
      );

      const text = fs.readFileSync(file, "utf8");
      const read = readHistory(file);
      expect(read.skipped).toEqual([]);
      expect(text.endsWith("\n")).toBe(true);
      // Nothing but whole events: no split lines. A blank line may appear when one writer's torn-tail check
      // (lib/history.ts) reads the file while another's long line is being copied in; readers ignore those.
      const lines = text.split("\n").filter((line) => line !== "");
      expect(lines).toHaveLength(workers * perWorker);
      expect(read.events).toHaveLength(workers * perWorker);
      for (let w = 0; w < workers; w++) {
        const mine = read.events.filter((e) => e.worker === w);
        expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: perWorker }, (_, i) => i));
        const letter = String.fromCharCode(97 + w);
        for (const e of mine) expect(e.payload).toBe(letter.repeat(Number(e.seq) % 25 === 0 ? bigBytes : 40));
      }
      // The writers really overlapped: some worker's lines are not one contiguous block.
      const order = read.events.map((e) => e.worker);
      const switches = order.filter((w, i) => i > 0 && w !== order[i - 1]).length;
      const blank = text.split("\n").length - 1 - lines.length;
      console.log(
        `concurrent appends: ${lines.length} lines, ${switches} writer switches, ${blank} blank lines`,
      );
      expect(switches).toBeGreaterThan(workers - 1);
    },
  );
});

describe("readHistory", () => {
  it("reads a missing file as an empty history", () => {
    expect(readHistory(path.join(dir, "nowhere", "history.jsonl"))).toEqual({ events: [], skipped: [] });
  });

  it("reports corrupt, truncated and unversioned lines with their number and keeps the rest", () => {
    const file = freshFile("corrupt");
    const good = (type: string) =>
      JSON.stringify({ v: 1, ts: "2025-11-24T10:00:00.000Z", stack: "dev", type });
    const long = `{"v":1,"ts":"2025-11-24T10:00:00.000Z","stack":"dev","type":"scrape","x":"${"y".repeat(300)}`;
    const lines = [
      good("deploy"),
      "not json at all",
      "",
      JSON.stringify({ ts: "2025-11-24T10:00:00.000Z", stack: "dev", type: "deploy" }),
      JSON.stringify({ v: 2, ts: "2025-11-24T10:00:00.000Z", stack: "dev", type: "deploy" }),
      JSON.stringify({ v: 1, ts: "last tuesday", stack: "dev", type: "deploy" }),
      JSON.stringify({ v: 1, ts: "2025-11-24T10:00:00.000Z", stack: "dev" }),
      "[1,2,3]",
      long,
      good("teardown"),
    ];
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${lines.join("\n")}\n`);

    const read = readHistory(file);
    expect(read.events.map((e) => e.type)).toEqual(["deploy", "teardown"]);
    expect(read.skipped.map(({ line, reason }) => [line, reason])).toEqual([
      [2, expect.stringMatching(/^not valid JSON/)],
      [4, "unsupported version: v is missing, expected 1"],
      [5, "unsupported version: v is 2, expected 1"],
      [6, 'ts must be an ISO-8601 timestamp, got "last tuesday"'],
      [7, "type must be a string, got nothing"],
      [8, "not a JSON object"],
      [9, expect.stringMatching(/^not valid JSON/)],
    ]);
    expect(read.skipped[0].excerpt).toBe("not json at all");
    expect(read.skipped[6].excerpt).toBe(`${long.slice(0, 120)}…`);
  });
});

describe("components/audit-append.ts", () => {
  const cli = (...args: string[]) =>
    run(process.execPath, ["--require", "sucrase/register/ts", "components/audit-append.ts", ...args], {
      cwd: ROOT,
    });

  it("appends one event with the given fields", async () => {
    const file = freshFile("cli");
    await cli(file, "dev", "mode_change", '{"from":"canary","to":"stable","allowed":true}');
    await cli(file, "dev", "teardown");
    const read = readHistory(file);
    expect(read.skipped).toEqual([]);
    expect(read.events).toEqual([
      {
        v: 1,
        ts: expect.any(String),
        stack: "dev",
        type: "mode_change",
        from: "canary",
        to: "stable",
        allowed: true,
      },
      { v: 1, ts: expect.any(String), stack: "dev", type: "teardown" },
    ]);
  });

  it.each([
    [
      ["only-a-file"],
      2,
      "usage: node --require sucrase/register/ts components/audit-append.ts <file> <stack> <type> [json-fields]",
    ],
    [["FILE", "dev", "deploy", "{mode: canary}"], 1, "json-fields is not valid JSON"],
    [["FILE", "dev", "deploy", "[1]"], 1, 'json-fields must be a JSON object, got "[1]"'],
  ])("exits non-zero for %j and says why", async (args, code, message) => {
    const file = freshFile("cli-bad");
    const failed = await cli(...args.map((a) => (a === "FILE" ? file : a))).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(code);
    expect(failed?.stderr).toContain(message);
    expect(fs.existsSync(file)).toBe(false);
  });
});
