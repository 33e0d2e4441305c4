// Dashboard snapshots for the renderer's tests: one healthy stack and the ways it goes wrong.
// The decisions below are shaped like what policies/ answers (lib/types.ts PolicyDecision).
import type { PolicyDecision } from "../../../../lib/types";
import type { PolicyStatus, Snapshot } from "../../../../tools/status/snapshot";

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

const canaryAllowed: PolicyDecision = {
  allow: true,
  violations: [],
  checks: [
    { id: "error_rate", title: "Error rate", passed: true, observed: 0, threshold: 1, unit: "%" },
    { id: "p99_latency", title: "P99 latency", passed: true, observed: 24, threshold: 500, unit: "ms" },
    {
      id: "min_requests",
      title: "Requests in the window",
      passed: true,
      observed: 62,
      threshold: 20,
      unit: "requests",
    },
  ],
};

const canaryDenied: PolicyDecision = {
  allow: false,
  violations: [
    "Error rate (46.94%) exceeds maximum threshold (1.00%) over the last 5s",
    "P99 latency (2004 ms) exceeds maximum threshold (500 ms) over the last 5s",
  ],
  checks: [
    { id: "error_rate", title: "Error rate", passed: false, observed: 46.94, threshold: 1, unit: "%" },
    { id: "p99_latency", title: "P99 latency", passed: false, observed: 2004, threshold: 500, unit: "ms" },
    {
      id: "min_requests",
      title: "Requests in the window",
      passed: true,
      observed: 49,
      threshold: 20,
      unit: "requests",
    },
  ],
};

function decided(decision: PolicyDecision, decisionId: string, input: object): PolicyStatus {
  return { state: "decided", decision, decisionId, durationMs: 0.84, input };
}

export function healthySnapshot(): Snapshot {
  return {
    at: "2025-11-24T23:40:05.123Z",
    stack: "dev",
    intervalSeconds: 5,
    configuredMode: "canary",
    replicas: [
      { url: "http://127.0.0.1:9100", up: true, mode: "canary", chaos: "none", uptimeSeconds: 3723 },
      { url: "http://127.0.0.1:9101", up: true, mode: "canary", chaos: "none", uptimeSeconds: 3721 },
    ],
    traffic: {
      state: "measured",
      requests: 62,
      errors: 0,
      requestsPerSecond: 12.4,
      errorRatePercent: 0,
      p99LatencyMs: 24,
      windowSeconds: 5,
    },
    totals: { requests: 41234, errors: 3 },
    recent: {
      requestsPerSecond: [10.2, 11.8, 12.6, 9.4, 12.4],
      errorRatePercent: [0, 0, 0.5, 0, 0],
      p99LatencyMs: [22, 31, 24, null, 24],
    },
    policies: {
      infrastructure: decided(infrastructureAllowed, "3f2a9c1e-5b7d-4c2a-9e61-0d4f8a7b2c10", {
        disk_free_gb: 77.89,
        cpu_load: 0.42,
        mem_free_percent: 61.3,
      }),
      canary: decided(canaryAllowed, "8b1c0d2e-1111-4a2b-8c3d-4e5f6a7b8c9d", {
        error_rate_percent: 0,
        p99_latency_ms: 24,
        requests: 62,
        window_seconds: 5,
      }),
    },
    warnings: [],
  };
}

export function deniedSnapshot(): Snapshot {
  const s = healthySnapshot();
  s.traffic = {
    state: "measured",
    requests: 49,
    errors: 23,
    requestsPerSecond: 9.8,
    errorRatePercent: 46.94,
    p99LatencyMs: 2004,
    windowSeconds: 5,
  };
  s.recent = {
    requestsPerSecond: [10.2, 11.8, 12.6, 9.4, 9.8],
    errorRatePercent: [0, 0, 0.5, 31.2, 46.94],
    p99LatencyMs: [22, 31, 24, 1870, 2004],
  };
  s.policies.canary = decided(canaryDenied, "d3n13d00-aaaa-4bbb-8ccc-000000000001", {
    error_rate_percent: 46.94,
    p99_latency_ms: 2004,
    requests: 49,
    window_seconds: 5,
  });
  return s;
}

export function chaosSnapshot(): Snapshot {
  const s = deniedSnapshot();
  s.replicas = s.replicas.map((r) => (r.up ? { ...r, chaos: "error" } : r));
  return s;
}

export function stackDownSnapshot(): Snapshot {
  const s = healthySnapshot();
  s.replicas = [
    {
      url: "http://127.0.0.1:9100",
      up: false,
      error: "GET http://127.0.0.1:9100/metrics: connect ECONNREFUSED 127.0.0.1:9100",
    },
    {
      url: "http://127.0.0.1:9101",
      up: false,
      error: "GET http://127.0.0.1:9101/metrics: connect ECONNREFUSED 127.0.0.1:9101",
    },
  ];
  s.traffic = { state: "pending", reason: "no replica answered" };
  s.totals = null;
  s.policies.canary = { state: "waiting", reason: "no metrics: no replica answered" };
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
