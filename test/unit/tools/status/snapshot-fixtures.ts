// Dashboard snapshots for the renderer's tests: a canary in flight beside stable, and the ways it goes and
// goes wrong. The decisions below are shaped like what policies/ answers (lib/types.ts PolicyDecision);
// the canary ones as policies/canary.rego words and orders them for the facts in each `input`.
import type { CanaryFacts, PolicyCheck, PolicyDecision } from "../../../../lib/types";
import type { PolicyStatus, SetStatus, Snapshot } from "../../../../tools/status/snapshot";

const infrastructureAllowed: PolicyDecision = {
  allow: true,
  violations: [],
  checks: [
    { id: "disk_free", title: "Disk free space", passed: true, observed: 77.89, threshold: 10, unit: "GB" },
    {
      id: "cpu_load",
      title: "CPU load (1-minute average)",
      passed: true,
      observed: 0.42,
      threshold: 8,
      unit: "load",
    },
    { id: "mem_free", title: "Memory available", passed: true, observed: 61.3, threshold: 10, unit: "%" },
  ],
};

type Status = NonNullable<PolicyCheck["status"]>;

/** The six canary checks in the policy's order, with the canary's and stable's values of `facts`. */
function canaryChecks(facts: CanaryFacts, statuses: Status[], thresholds: (number | null)[]): PolicyCheck[] {
  const { canary, stable } = facts;
  const rows: [string, string, string, number, number | null][] = [
    ["error_rate", "Error rate", "%", canary.error_rate_percent, stable?.error_rate_percent ?? null],
    ["p99_latency", "P99 latency", "ms", canary.p99_latency_ms, stable?.p99_latency_ms ?? null],
    ["min_requests", "Requests in the window", "requests", canary.requests, stable?.requests ?? null],
  ];
  if (stable) {
    rows.push(
      ["min_stable_requests", "Stable requests in the window", "requests", stable.requests, stable.requests],
      [
        "error_rate_vs_stable",
        "Error rate vs stable",
        "%",
        canary.error_rate_percent,
        stable.error_rate_percent,
      ],
      ["p99_vs_stable", "P99 latency vs stable", "ms", canary.p99_latency_ms, stable.p99_latency_ms],
    );
  }
  return rows.map(([id, title, unit, observed, stableValue], i) => ({
    id,
    title,
    passed: statuses[i] === "pass",
    status: statuses[i],
    observed,
    stable: stableValue,
    threshold: thresholds[i],
    unit,
  }));
}

// data.json's canary thresholds; the relative limits as the policy computes them from stable's values.
const ABSOLUTE = [1, 500, 20];
const relative = (stableErrorRate: number, stableP99: number) => [
  20,
  stableErrorRate + 1,
  Math.max(stableP99, 100) * 1.5,
];

function decided(decision: PolicyDecision, decisionId: string, input: object): PolicyStatus {
  return { state: "decided", decision, decisionId, durationMs: 0.84, input };
}

function measuredSet(
  set: SetStatus["set"],
  version: string,
  up: number,
  traffic: { requests: number; errors: number; p99LatencyMs: number | null; sharePercent: number | null },
): SetStatus {
  return {
    set,
    version,
    replicas: up,
    replicasUp: up,
    traffic: {
      state: "measured",
      ...traffic,
      requestsPerSecond: traffic.requests / 5,
      errorRatePercent: traffic.requests > 0 ? (traffic.errors / traffic.requests) * 100 : 0,
      windowSeconds: 5,
    },
  };
}

const measuredTraffic = {
  state: "measured",
  requests: 250,
  errors: 0,
  requestsPerSecond: 50,
  errorRatePercent: 0,
  p99LatencyMs: 30,
  windowSeconds: 5,
} as const;

const STABLE_URLS = ["http://127.0.0.1:9100", "http://127.0.0.1:9101"];
const CANARY_URL = "http://127.0.0.1:9102";

/** Stable 1.0.0 on two replicas, canary 1.1.0 on one with 10% of requests; the canary policy allows. */
export function healthySnapshot(): Snapshot {
  const facts: CanaryFacts = {
    window_seconds: 5,
    canary: { version: "1.1.0", requests: 25, errors: 0, error_rate_percent: 0, p99_latency_ms: 31 },
    stable: { version: "1.0.0", requests: 225, errors: 0, error_rate_percent: 0, p99_latency_ms: 24 },
  };
  return {
    at: "2025-11-24T23:40:05.123Z",
    stack: "dev",
    intervalSeconds: 5,
    configuredMode: "canary",
    release: { stableVersion: "1.0.0", canaryVersion: "1.1.0", weight: 10 },
    replicas: [
      ...STABLE_URLS.map((url, i) => ({
        url,
        set: "stable" as const,
        version: "1.0.0",
        up: true as const,
        mode: "stable",
        chaos: "none",
        uptimeSeconds: 3723 - i,
      })),
      {
        url: CANARY_URL,
        set: "canary",
        version: "1.1.0",
        up: true,
        mode: "canary",
        chaos: "none",
        uptimeSeconds: 421,
      },
    ],
    sets: [
      measuredSet("stable", "1.0.0", 2, { requests: 225, errors: 0, p99LatencyMs: 24, sharePercent: 90 }),
      measuredSet("canary", "1.1.0", 1, { requests: 25, errors: 0, p99LatencyMs: 31, sharePercent: 10 }),
    ],
    traffic: measuredTraffic,
    totals: { requests: 41234, errors: 3 },
    recent: {
      requestsPerSecond: [40.2, 41.8, 52.6, 39.4, 50],
      errorRatePercent: [0, 0, 0.5, 0, 0],
      p99LatencyMs: [22, 31, 24, null, 30],
    },
    policies: {
      infrastructure: decided(infrastructureAllowed, "3f2a9c1e-5b7d-4c2a-9e61-0d4f8a7b2c10", {
        disk_free_gb: 77.89,
        cpu_load: 0.42,
        mem_free_percent: 61.3,
      }),
      canary: decided(
        {
          allow: true,
          violations: [],
          checks: canaryChecks(facts, Array(6).fill("pass"), [...ABSOLUTE, ...relative(0, 24)]),
          notes: [],
        },
        "8b1c0d2e-1111-4a2b-8c3d-4e5f6a7b8c9d",
        facts,
      ),
    },
    warnings: [],
  };
}

/** The canary errs on almost half its requests: the absolute and the relative error rules deny. */
export function deniedSnapshot(): Snapshot {
  const s = healthySnapshot();
  const facts: CanaryFacts = {
    window_seconds: 5,
    canary: { version: "1.1.0", requests: 49, errors: 23, error_rate_percent: 46.94, p99_latency_ms: 2004 },
    stable: { version: "1.0.0", requests: 441, errors: 1, error_rate_percent: 0.23, p99_latency_ms: 24 },
  };
  s.sets = [
    measuredSet("stable", "1.0.0", 2, { requests: 441, errors: 1, p99LatencyMs: 24, sharePercent: 90 }),
    measuredSet("canary", "1.1.0", 1, { requests: 49, errors: 23, p99LatencyMs: 2004, sharePercent: 10 }),
  ];
  s.traffic = {
    state: "measured",
    requests: 490,
    errors: 24,
    requestsPerSecond: 98,
    errorRatePercent: 4.9,
    p99LatencyMs: 1960,
    windowSeconds: 5,
  };
  s.recent = {
    requestsPerSecond: [40.2, 41.8, 52.6, 89.4, 98],
    errorRatePercent: [0, 0, 0.5, 3.1, 4.9],
    p99LatencyMs: [22, 31, 24, 1870, 1960],
  };
  s.policies.canary = decided(
    {
      allow: false,
      violations: [
        "Canary P99 latency (2004 ms) exceeds 1.50 × max(stable 24 ms, floor 100 ms) = 150 ms over the last 5s",
        "Canary error rate (46.94%) exceeds stable (0.23%) by 46.71 points; at most 1.00 allowed over the last 5s",
        "Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 5s",
        "P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 5s",
      ],
      checks: canaryChecks(
        facts,
        ["fail", "fail", "pass", "pass", "fail", "fail"],
        [...ABSOLUTE, ...relative(0.23, 24)],
      ),
      notes: [],
    },
    "d3n13d00-aaaa-4bbb-8ccc-000000000001",
    facts,
  );
  return s;
}

/**
 * Too few canary requests to judge: OPA reports the rules over them as no_data (a clean 0% error rate is
 * not a failure) and the request rule as failed.
 */
export function tooFewRequestsSnapshot(): Snapshot {
  const s = healthySnapshot();
  const facts: CanaryFacts = {
    window_seconds: 5,
    canary: { version: "1.1.0", requests: 6, errors: 0, error_rate_percent: 0, p99_latency_ms: 31 },
    stable: { version: "1.0.0", requests: 54, errors: 0, error_rate_percent: 0, p99_latency_ms: 24 },
  };
  s.sets = [
    measuredSet("stable", "1.0.0", 2, { requests: 54, errors: 0, p99LatencyMs: 24, sharePercent: 90 }),
    measuredSet("canary", "1.1.0", 1, { requests: 6, errors: 0, p99LatencyMs: 31, sharePercent: 10 }),
  ];
  s.traffic = { ...measuredTraffic, requests: 60, requestsPerSecond: 12, p99LatencyMs: 24 };
  s.policies.canary = decided(
    {
      allow: false,
      violations: ["Only 6 requests in the last 5s; at least 20 are needed to judge the canary"],
      checks: canaryChecks(
        facts,
        ["no_data", "no_data", "fail", "pass", "no_data", "no_data"],
        [...ABSOLUTE, ...relative(0, 24)],
      ),
      notes: [],
    },
    "0d4a7a00-bbbb-4ccc-8ddd-000000000002",
    facts,
  );
  return s;
}

/** The first version on its own as the canary: no stable set, so no baseline and no weight. */
export function canaryOnlySnapshot(): Snapshot {
  const s = healthySnapshot();
  const facts: CanaryFacts = {
    window_seconds: 5,
    canary: { version: "1.0.0", requests: 62, errors: 0, error_rate_percent: 0, p99_latency_ms: 24 },
  };
  s.release = { stableVersion: null, canaryVersion: "1.0.0", weight: null };
  s.replicas = STABLE_URLS.map((url, i) => ({
    url,
    set: "canary",
    version: "1.0.0",
    up: true,
    mode: "canary",
    chaos: "none",
    uptimeSeconds: 3723 - i,
  }));
  s.sets = [
    measuredSet("canary", "1.0.0", 2, { requests: 62, errors: 0, p99LatencyMs: 24, sharePercent: 100 }),
  ];
  s.traffic = { ...measuredTraffic, requests: 62, requestsPerSecond: 12.4, p99LatencyMs: 24 };
  s.policies.canary = decided(
    {
      allow: true,
      violations: [],
      checks: canaryChecks(facts, ["pass", "pass", "pass"], ABSOLUTE),
      notes: ["No stable baseline: judged on the absolute rules only"],
    },
    "5e7f0000-cccc-4ddd-8eee-000000000003",
    facts,
  );
  return s;
}

/** After a promotion: 1.1.0 is stable on its own, nothing to judge. */
export function noCanarySnapshot(): Snapshot {
  const s = healthySnapshot();
  s.configuredMode = "stable";
  s.release = { stableVersion: "1.1.0", canaryVersion: null, weight: null };
  s.replicas = STABLE_URLS.map((url, i) => ({
    url,
    set: "stable",
    version: "1.1.0",
    up: true,
    mode: "stable",
    chaos: "none",
    uptimeSeconds: 63 - i,
  }));
  s.sets = [
    measuredSet("stable", "1.1.0", 2, { requests: 250, errors: 0, p99LatencyMs: 30, sharePercent: 100 }),
  ];
  s.policies.canary = { state: "idle", reason: "no canary in flight" };
  return s;
}

/** A stack deployed before the two sets: no adminTargets, no release outputs; its replicas count as stable. */
export function legacyStackSnapshot(): Snapshot {
  const s = noCanarySnapshot();
  s.configuredMode = "canary";
  s.release = null;
  s.replicas = s.replicas.map((r) => ({ ...r, version: null, ...(r.up ? { mode: "canary" } : {}) }));
  s.sets = s.sets.map((set) => ({ ...set, version: null }));
  return s;
}

export function chaosSnapshot(): Snapshot {
  const s = deniedSnapshot();
  s.replicas = s.replicas.map((r) => (r.up && r.set === "canary" ? { ...r, chaos: "error" } : r));
  return s;
}

export function stackDownSnapshot(): Snapshot {
  const s = healthySnapshot();
  s.replicas = s.replicas.map((r) => ({
    url: r.url,
    set: r.set,
    version: r.version,
    up: false,
    error: `GET ${r.url}/metrics: connect ECONNREFUSED ${r.url.replace("http://", "")}`,
  }));
  s.sets = s.sets.map((set) => ({
    ...set,
    replicasUp: 0,
    traffic: { state: "pending", reason: "no replica answered" },
  }));
  s.traffic = { state: "pending", reason: "no replica answered" };
  s.totals = null;
  s.policies.canary = { state: "waiting", reason: "canary set: no replica answered" };
  return s;
}

export function opaUnreachableSnapshot(): Snapshot {
  const s = healthySnapshot();
  const message =
    "OPA unreachable at unix socket /work/main/.swiftdeploy/dev/opa.sock (ENOENT): is the OPA container running?";
  s.policies = {
    infrastructure: { state: "failed", kind: "unreachable", message },
    canary: { state: "failed", kind: "unreachable", message },
  };
  return s;
}
