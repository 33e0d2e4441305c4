import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "../../../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const CORRUPT = path.join(ROOT, "test/fixtures/history/corrupt.jsonl");

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function runAudit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, ["tools/audit/main.ts", ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

describe("tools/audit/main.ts", () => {
  it("writes the report from a history with corrupt lines, naming each skipped line on stderr", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audit-script-"));
    dirs.push(dir);
    const out = path.join(dir, "audit_report.md");
    const { code, stdout, stderr } = await runAudit(["--history", CORRUPT, "--out", out, "--no-pulumi"]);

    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${out} (6 events from ${CORRUPT}, 4 lines skipped)`);
    for (const line of [5, 6, 7, 8]) expect(stderr).toContain(`${CORRUPT}:${line}: skipped, `);
    const report = fs.readFileSync(out, "utf8");
    expect(report).toContain("## Skipped Lines");
    expect(report).toContain("Pulumi's update history is not available: left out on request (--no-pulumi)");
  });
});
