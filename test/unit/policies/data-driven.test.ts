import { execFileSync } from "node:child_process";
import { accessSync, constants, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CanaryFacts, GateName, HostFacts, PolicyDecision, ReleaseFacts } from "../../../lib/types";

// Thresholds live only in policies/data.json: these tests change a threshold in a copy of data.json, ask the
// real opa binary again, and check that the answer follows with every .rego file left byte-for-byte alone.

const POLICY_DIR = resolve(__dirname, "../../../policies");
// Where scripts/setup.sh links the tools it builds (scripts/env puts this folder on PATH).
const TOOLS = process.env.SWIFTDEPLOY_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "swiftdeploy/tools");
const CACHED_OPA = join(TOOLS, "bin", "opa");

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** $OPA, else `opa` on PATH, else the one scripts/setup.sh links into the tools folder. */
function findOpa(): string {
  const onPath = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "opa"));
  const candidates = [process.env.OPA, ...onPath, CACHED_OPA].filter((c): c is string => Boolean(c));
  const found = candidates.find(isExecutable);
  if (!found) throw new Error(`no opa binary: tried OPA=${process.env.OPA ?? ""}, PATH, ${CACHED_OPA}`);
  return found;
}

const opa = findOpa();

/** Asks OPA for one gate's decision, loading the folder as the OPA server does (a bundle directory). */
function decide(policyDir: string, gate: GateName, input: HostFacts | CanaryFacts | ReleaseFacts): PolicyDecision {
  const query = `data.swiftdeploy.${gate}.decision`;
  const out = execFileSync(opa, ["eval", "--bundle", policyDir, "--stdin-input", "--format", "json", query], {
    input: JSON.stringify(input),
    encoding: "utf8",
  });
  const value = JSON.parse(out).result?.[0]?.expressions?.[0]?.value;
  if (value === undefined) throw new Error(`${query} is undefined: ${out.slice(0, 300)}`);
  return value as PolicyDecision;
}

function regoSources(dir: string): Map<string, string> {
  const names = readdirSync(dir).filter((name) => name.endsWith(".rego"));
  return new Map(names.map((name) => [name, readFileSync(join(dir, name), "utf8")]));
}

/** Rewrites one threshold's number in the copy's data.json text, exactly as written (so 600 and 600.0 differ). */
function setThreshold(dir: string, key: string, literal: string): void {
  const file = join(dir, "data.json");
  const text = readFileSync(file, "utf8");
  const threshold = new RegExp(`("${key}"\\s*:\\s*)-?[\\d.eE+-]+`);
  if (!threshold.test(text)) throw new Error(`policies/data.json has no numeric threshold "${key}"`);
  writeFileSync(file, text.replace(threshold, `$1${literal}`));
}

/** Rewrites one boolean setting in the copy's data.json text. */
function setSetting(dir: string, key: string, value: boolean): void {
  const file = join(dir, "data.json");
  const text = readFileSync(file, "utf8");
  const setting = new RegExp(`("${key}"\\s*:\\s*)(true|false)`);
  if (!setting.test(text)) throw new Error(`policies/data.json has no boolean setting "${key}"`);
  writeFileSync(file, text.replace(setting, `$1${value}`));
}

const tempDirs: string[] = [];

function copyOfPolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), "swiftdeploy-policies-"));
  tempDirs.push(dir);
  cpSync(POLICY_DIR, dir, { recursive: true });
  return dir;
}

afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const host: HostFacts = { disk_free_gb: 200, cpu_load: 0.5, mem_free_percent: 60 };
const canary: CanaryFacts = {
  window_seconds: 30,
  canary: { version: "1.0.1", requests: 500, errors: 1, error_rate_percent: 0.2, p99_latency_ms: 120 },
  stable: { version: "1.0.0", requests: 2000, errors: 4, error_rate_percent: 0.2, p99_latency_ms: 75 },
};
const firstRelease: CanaryFacts = { window_seconds: 30, canary: canary.canary };
const unjudged: ReleaseFacts = {
  action: "unjudged",
  version: "1.2.0",
  stable_version: "1.1.0",
  retained_versions: ["1.1.0", "1.0.0"],
};

describe("thresholds come from policies/data.json alone", () => {
  it("denies the same host facts once data.json raises min_disk_free_gb, with no Rego edit", () => {
    const dir = copyOfPolicies();
    expect(decide(dir, "infrastructure", host)).toMatchObject({ allow: true, violations: [] });

    setThreshold(dir, "min_disk_free_gb", "600");
    const decision = decide(dir, "infrastructure", host);

    expect(decision.allow).toBe(false);
    expect(decision.violations).toEqual(["Disk free (200.0 GB) is below minimum threshold (600.0 GB)"]);
    expect(decision.checks.find((check) => check.id === "disk_free")).toMatchObject({
      passed: false,
      observed: 200,
      threshold: 600,
    });
    expect(regoSources(dir)).toEqual(regoSources(POLICY_DIR));
  });

  it("denies the same canary facts once data.json lowers max_error_rate_percent, with no Rego edit", () => {
    const dir = copyOfPolicies();
    expect(decide(dir, "canary", canary)).toMatchObject({ allow: true, violations: [] });

    setThreshold(dir, "max_error_rate_percent", "0.1");
    const decision = decide(dir, "canary", canary);

    expect(decision.allow).toBe(false);
    expect(decision.violations).toEqual([
      "Error rate (0.20%) exceeds maximum threshold (0.10%) over the last 30s",
    ]);
    expect(regoSources(dir)).toEqual(regoSources(POLICY_DIR));
  });

  it("holds the canary to stable by data.json's p99_ratio, and judges a first release on the absolute rules only", () => {
    const dir = copyOfPolicies();
    expect(decide(dir, "canary", canary)).toMatchObject({ allow: true, violations: [], notes: [] });

    setThreshold(dir, "p99_ratio", "1.1");
    const decision = decide(dir, "canary", canary);

    expect(decision.allow).toBe(false);
    expect(decision.violations).toEqual([
      "Canary P99 latency (120 ms) exceeds 1.10 × max(stable 75 ms, floor 100 ms) = 110 ms over the last 30s",
    ]);
    expect(decision.checks.find((check) => check.id === "p99_vs_stable")).toMatchObject({
      passed: false,
      status: "fail",
      observed: 120,
      stable: 75,
      threshold: 110,
    });
    expect(decide(dir, "canary", firstRelease)).toEqual({
      allow: true,
      violations: [],
      checks: expect.any(Array),
      notes: ["No stable baseline: judged on the absolute rules only"],
    });
    expect(regoSources(dir)).toEqual(regoSources(POLICY_DIR));
  });

  it("allows an unjudged release once data.json sets require_canary to false, with no Rego edit", () => {
    const dir = copyOfPolicies();
    setSetting(dir, "require_canary", true);
    expect(decide(dir, "release", unjudged)).toMatchObject({
      allow: false,
      violations: ["1.2.0 has not run as a canary: set mode canary, pulumi up, then promote"],
    });

    setSetting(dir, "require_canary", false);
    expect(decide(dir, "release", unjudged)).toMatchObject({ allow: true, violations: [] });
    expect(regoSources(dir)).toEqual(regoSources(POLICY_DIR));
  });

  it("prints a threshold written as 600 or 600.0 in data.json the same way", () => {
    const sentences = ["600", "600.0"].map((literal) => {
      const dir = copyOfPolicies();
      setThreshold(dir, "min_disk_free_gb", literal);
      expect(readFileSync(join(dir, "data.json"), "utf8")).toContain(`"min_disk_free_gb": ${literal}`);
      return decide(dir, "infrastructure", host).violations;
    });
    expect(sentences[0]).toEqual(["Disk free (200.0 GB) is below minimum threshold (600.0 GB)"]);
    expect(sentences[1]).toEqual(sentences[0]);
  });
});

/** Number literals in Rego source, ignoring comments and strings (so "%.1f" or "# 10 GB" do not count). */
function numberLiterals(source: string): string[] {
  const code = source.replace(/"(?:\\.|[^"\\])*"|`[^`]*`|#[^\n]*/g, " ");
  return code.match(/(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) ?? [];
}

describe("no threshold is written in Rego", () => {
  it("finds number literals in code but not in comments, strings or names", () => {
    expect(numberLiterals('x if input.disk_free_gb >= 10.5 # 20 GB\ny := sprintf("%.1f", [_p99])\n')).toEqual([
      "10.5",
    ]);
  });

  it("has no number literal at all in the policy (non-test) .rego files", () => {
    const policies = [...regoSources(POLICY_DIR)].filter(([name]) => !name.endsWith("_test.rego"));
    expect(policies.map(([name]) => name)).toEqual(expect.arrayContaining(["infrastructure.rego", "canary.rego", "release.rego"]));
    const literals = policies.flatMap(([name, source]) => numberLiterals(source).map((n) => `${name}: ${n}`));
    expect(literals).toEqual([]);
  });
});
