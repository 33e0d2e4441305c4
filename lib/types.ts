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

/** `input` of `swiftdeploy.canary`: the app's public traffic over one observation window, all replicas. */
export interface CanaryFacts {
  error_rate_percent: number;
  p99_latency_ms: number;
  requests: number;
  window_seconds: number;
}

/** One rule of a policy as OPA evaluated it. Thresholds come from policies/data.json, never from TypeScript. */
export interface PolicyCheck {
  id: string;
  title: string;
  passed: boolean;
  /** The observed value; null when the input field was missing or not a number. */
  observed: number | null;
  /** null when data.json lacks the threshold (the policy then denies, naming the missing key). */
  threshold: number | null;
  unit: string;
}

/** What every policy package answers at `data.<package>.decision`. */
export interface PolicyDecision {
  allow: boolean;
  violations: string[];
  checks: PolicyCheck[];
}

/** The two policy packages and where their decision lives. */
export const POLICY_PACKAGES = {
  infrastructure: "swiftdeploy/infrastructure/decision",
  canary: "swiftdeploy/canary/decision",
} as const;
export type GateName = keyof typeof POLICY_PACKAGES;

export type { Mode } from "./modes";
