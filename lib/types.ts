// Shapes shared by the program, the gates, the scripts and the tests. The policies in policies/ are the
// other side of these contracts: change both together.

/** `input` of `swiftdeploy.infrastructure`: facts about the host that runs the stack. */
export interface HostFacts {
  /** Free space in GB (10^9 bytes) on the filesystem holding Docker's data root. */
  disk_free_gb: number;
  /** 1-minute load average as `uptime` shows it (not per core). */
  cpu_load: number;
  /** MemAvailable as a percentage of MemTotal. */
  mem_free_percent: number;
}

/** One set's public matched traffic over the canary gate's window. */
export interface SetFacts {
  version: string;
  requests: number;
  /** Responses with a 5xx status. */
  errors: number;
  /** errors / requests × 100, two decimals; 0 when there were no requests. */
  error_rate_percent: number;
  /** Whole ms; 0 when there were no requests. */
  p99_latency_ms: number;
}

/**
 * `input` of `swiftdeploy.canary`: both sets over one observation window. `stable` is absent when there is
 * no baseline (the canary is the only set: no version has been stable yet).
 */
export interface CanaryFacts {
  window_seconds: number;
  canary: SetFacts;
  stable?: SetFacts;
}

/** Why a release moves without the canary judgement; `input` of `swiftdeploy.release`. */
export interface ReleaseFacts {
  /** "unjudged": mode stable with a version that never ran as a canary; "rollback": a retained earlier stable version. */
  action: "unjudged" | "rollback";
  /** The version that would become stable. */
  version: string;
  /** The stable version now (null: none yet). */
  stable_version: string | null;
  /** Retained earlier stable versions, newest first (their images are kept for rollback). */
  retained_versions: string[];
}

/** How OPA judged one rule: "no_data" when too few requests make it unjudgeable (it still denies). */
export type CheckStatus = "pass" | "fail" | "no_data";

/** One rule of a policy as OPA evaluated it. Thresholds come from policies/data.json, never from TypeScript. */
export interface PolicyCheck {
  id: string;
  title: string;
  passed: boolean;
  /** pass/fail, or no_data for a rule that needs more requests than the window holds (canary checks). */
  status?: CheckStatus;
  /** The observed value (the canary's, for canary checks); null when the input field was missing or not a number. */
  observed: number | null;
  /** Stable's value of the same fact, for the canary checks that compare with it; null without a baseline. */
  stable?: number | null;
  /** The limit the observed value was held to (for a relative rule, computed from stable's value and data.json); null when data.json lacks a threshold. */
  threshold: number | null;
  unit: string;
}

/**
 * An app replica's admin listener as the host reaches it, with its Prometheus labels (`set` — stable or
 * canary —, `version`, `replica`, `generation`, ...): the stack output `adminTargets`.
 */
export interface AdminTarget {
  url: string;
  labels: Record<string, string>;
}

/** What every policy package answers at `data.<package>.decision`. */
export interface PolicyDecision {
  allow: boolean;
  violations: string[];
  checks: PolicyCheck[];
  /** Canary only: sentences that explain the verdict without denying (e.g. that there was no baseline). */
  notes?: string[];
}

/** The policy packages and where their decision lives. */
export const POLICY_PACKAGES = {
  infrastructure: "swiftdeploy/infrastructure/decision",
  canary: "swiftdeploy/canary/decision",
  release: "swiftdeploy/release/decision",
} as const;
export type GateName = keyof typeof POLICY_PACKAGES;

export type { Mode } from "./modes";
