// runDocker against a stand-in `docker` on PATH: output kept whole, lines handed over as they come.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runDocker } from "../../../../tools/validate/docker";

const ORIGINAL_PATH = process.env.PATH;
const bin = fs.mkdtempSync(path.join(os.tmpdir(), "validate-docker-"));
afterEach(() => (process.env.PATH = ORIGINAL_PATH));
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

function fakeDockerScript(body: string): void {
  fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  process.env.PATH = `${bin}${path.delimiter}${ORIGINAL_PATH}`;
}

describe("runDocker", () => {
  it("hands over each line of both streams and keeps the whole output and the exit code", async () => {
    fakeDockerScript(
      [
        'echo "Step 1/2 : FROM $2"',
        'echo "E: no such package" >&2',
        "printf 'last line without a newline'",
        "exit 3",
      ].join("\n"),
    );
    const lines: string[] = [];
    const run = await runDocker(["build", "base:1"], (line) => lines.push(line));
    expect(run).toEqual({
      code: 3,
      stdout: "Step 1/2 : FROM base:1\nlast line without a newline",
      stderr: "E: no such package\n",
    });
    expect(lines.sort()).toEqual([
      "E: no such package",
      "Step 1/2 : FROM base:1",
      "last line without a newline",
    ]);
  });

  it("reports a docker killed by a signal as 128 + the signal's number", async () => {
    fakeDockerScript("kill -TERM $$");
    expect((await runDocker(["version"])).code).toBe(143);
  });

  it("rejects with ENOENT when there is no docker to run", async () => {
    process.env.PATH = bin; // the stand-in's folder alone, and without the stand-in
    fs.rmSync(path.join(bin, "docker"), { force: true });
    await expect(runDocker(["version"])).rejects.toMatchObject({ code: "ENOENT" });
  });
});
