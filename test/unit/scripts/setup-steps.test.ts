// scripts/lib/steps.sh as setup.sh uses it, in a real bash: each run keeps its own logs, and a Go build that
// failed because a module download failed is retried once, saying so; any other failure is not.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const STEPS = path.resolve(__dirname, "../../../scripts/lib/steps.sh");
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-steps-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `script` in bash after sourcing steps.sh with setup.sh's options; exit code and output. */
function bash(script: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    "bash",
    ["-c", `set -euo pipefail; root=${JSON.stringify(dir)}; source ${JSON.stringify(STEPS)}; ${script}`],
    { encoding: "utf8", timeout: 15_000 },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// A Go build that fails the first time with the message the proxy's failure gave, then succeeds.
const FLAKY_DOWNLOAD = `
  attempt_file="$root/attempts"
  flaky() {
    echo x >>"$attempt_file"
    if [ "$(wc -l <"$attempt_file")" -eq 1 ]; then
      echo 'go: downloading github.com/prometheus/common v0.66.1'
      echo 'go: github.com/prometheus/common@v0.66.1: Get "https://proxy.golang.org/github.com/prometheus/common/@v/v0.66.1.zip": dial tcp 142.250.1.1:443: i/o timeout' >&2
      return 1
    fi
    echo built
  }`;

describe("start_setup_logs", () => {
  it("gives every run a folder of its own and points latest at the newest", () => {
    const base = path.join(dir, "setup-logs");
    const first = bash(`start_setup_logs ${base}; echo first >"$logs/x.log"; echo "$logs"`).stdout.trim();
    const second = bash(`start_setup_logs ${base}; echo second >"$logs/x.log"; echo "$logs"`).stdout.trim();
    expect(first).not.toBe(second);
    expect(fs.readFileSync(path.join(first, "x.log"), "utf8")).toBe("first\n");
    expect(fs.readFileSync(path.join(second, "x.log"), "utf8")).toBe("second\n");
    expect(fs.realpathSync(path.join(base, "latest"))).toBe(fs.realpathSync(second));
  });

  it("keeps only the newest runs", () => {
    const base = path.join(dir, "setup-logs");
    for (const run of ["20260101T000000Z-1", "20260102T000000Z-2", "20260103T000000Z-3"])
      fs.mkdirSync(path.join(base, run), { recursive: true });
    fs.writeFileSync(path.join(base, "dockerd.log"), "an older layout's file stays");
    bash(`start_setup_logs ${base} 2`);
    const runs = fs
      .readdirSync(base)
      .filter((n) => /^\d{8}T/.test(n))
      .sort();
    expect(runs).toHaveLength(2);
    expect(runs[0]).toBe("20260103T000000Z-3");
    expect(fs.existsSync(path.join(base, "dockerd.log"))).toBe(true);
  });
});

describe("run_go", () => {
  it("retries once when a Go module download failed, says so, and keeps both logs", () => {
    const { code, stdout } = bash(`${FLAKY_DOWNLOAD}
      start_setup_logs "$root/logs"
      run_go "build opa" flaky
      echo "OK attempts=$(wc -l <"$attempt_file")"`);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /build opa: a Go module download failed \(go: github\.com\/prometheus\/common@v0\.66\.1: Get "https:\/\/proxy\.golang\.org\/.*i\/o timeout\); retrying once, log .*build_opa\.retry\.log/,
    );
    expect(stdout).toContain("OK attempts=2");
    const runDir = fs.realpathSync(path.join(dir, "logs", "latest"));
    expect(fs.readFileSync(path.join(runDir, "build_opa.log"), "utf8")).toContain("i/o timeout");
    expect(fs.readFileSync(path.join(runDir, "build_opa.retry.log"), "utf8")).toBe("built\n");
  });

  it("fails at once, with the log's tail, when the build failed for another reason", () => {
    const { code, stdout, stderr } = bash(`
      start_setup_logs "$root/logs"
      current_step="opa"
      broken() { echo './main.go:3:2: undefined: Foo' >&2; return 1; }
      run_go "build opa" broken`);
    expect(code).toBe(1);
    expect(stdout).not.toContain("retrying");
    expect(stderr).toContain('setup: step "opa" failed: command failed: build opa');
    expect(stderr).toContain("undefined: Foo");
  });

  it("fails when the retry fails too, naming the retry's log", () => {
    const { code, stdout, stderr } = bash(`
      start_setup_logs "$root/logs"
      current_step="opa"
      offline() { echo 'go: example.com/m@v1.0.0: Get "https://proxy.golang.org/example.com/m/@v/v1.0.0.mod": dial tcp: lookup proxy.golang.org: no such host' >&2; return 1; }
      run_go "build opa" offline`);
    expect(code).toBe(1);
    expect(stdout).toContain("retrying once");
    expect(stderr).toMatch(/command failed twice: build opa\n--- last lines of .*build_opa\.retry\.log ---/);
  });

  it("does not retry a module the proxy refuses for good (403)", () => {
    const { code, stdout } = bash(`
      start_setup_logs "$root/logs"
      refused() { echo 'go: example.com/m@v1.0.0: reading https://proxy.golang.org/example.com/m/@v/v1.0.0.info: 403 Forbidden' >&2; return 1; }
      run_go "build opa" refused`);
    expect(code).toBe(1);
    expect(stdout).not.toContain("retrying");
  });
});
