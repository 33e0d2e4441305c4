import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { recordScrape, scrapeEventFields } from "../../../../tools/status/record";
import { readHistory } from "../../../../lib/history";
import { chaosSnapshot, deniedSnapshot, healthySnapshot, stackDownSnapshot } from "./snapshot-fixtures";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-record-"));
  dirs.push(dir);
  return path.join(dir, "history.jsonl");
}

describe("scrapeEventFields", () => {
  it("records both sets' rates over the interval, each mode and chaos state, and the youngest replica's uptime", () => {
    expect(scrapeEventFields(deniedSnapshot())).toEqual({
      requests: 490,
      errors: 24,
      error_rate_percent: 4.9,
      p99_latency_ms: 1960,
      requests_per_second: 98,
      window_seconds: 5,
      mode: "stable/canary",
      chaos: "none",
      uptime_seconds: 421,
    });
    expect(scrapeEventFields(chaosSnapshot())).toMatchObject({ chaos: "none/error" });
  });

  it("records a first scrape with null rates, and nothing when no replica answered", () => {
    const first = healthySnapshot();
    first.traffic = { state: "pending", reason: "first scrape" };
    expect(scrapeEventFields(first)).toMatchObject({
      requests: null,
      error_rate_percent: null,
      mode: "stable/canary",
    });
    expect(scrapeEventFields(stackDownSnapshot())).toBeNull();
  });
});

describe("recordScrape", () => {
  it("appends one scrape event per call to history.jsonl", async () => {
    const file = tempFile();
    expect(await recordScrape(file, healthySnapshot())).toBeNull();
    expect(await recordScrape(file, deniedSnapshot())).toBeNull();
    const { events, skipped } = readHistory(file);
    expect(skipped).toEqual([]);
    expect(events.map((e) => [e.type, e.stack, e.error_rate_percent])).toEqual([
      ["scrape", "dev", 0],
      ["scrape", "dev", 4.9],
    ]);
  });

  it("returns a warning naming the file instead of throwing when it cannot append", async () => {
    const blocker = tempFile();
    fs.writeFileSync(blocker, "a file, not a directory");
    const file = path.join(blocker, "history.jsonl");
    expect(await recordScrape(file, healthySnapshot())).toMatch(`could not append to ${file}: `);
  });
});
