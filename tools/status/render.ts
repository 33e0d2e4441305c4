import Table from "cli-table3";
import { createColors } from "picocolors";
import sparkly from "sparkly";
import type { CanaryFacts, PolicyCheck } from "../../lib/types";
import { formatClock, formatNumber, formatUptime, withUnit } from "./format";
import {
  upReplicas,
  youngestUptime,
  type PolicyStatus,
  type ReplicaStatus,
  type Snapshot,
  type UpReplica,
} from "./snapshot";

export interface RenderOptions {
  /** ANSI colours; false gives plain text (`--once`, tests). */
  color: boolean;
  /** Terminal columns; sparklines shrink to fit. */
  width: number;
}

type Colors = ReturnType<typeof createColors>;

/**
 * One dashboard frame. Pure: the same snapshot and options give the same text. Every pass/fail shown here
 * is OPA's; the frame holds no threshold of its own.
 */
export function renderFrame(snapshot: Snapshot, options: RenderOptions): string {
  const c = createColors(options.color);
  const sections = [
    header(snapshot, c),
    problems(snapshot, c),
    sets(snapshot, c),
    traffic(snapshot, c, sparklineWidth(options.width)),
    policy("Infrastructure policy", snapshot.policies.infrastructure, c),
    policy("Canary policy", snapshot.policies.canary, c),
    snapshot.warnings.map((w) => c.yellow(`Warning: ${w}`)),
  ];
  return sections
    .filter((lines) => lines.length > 0)
    .map((lines) => lines.map((line) => line.trimEnd()).join("\n"))
    .join("\n\n");
}

function header(s: Snapshot, c: Colors): string[] {
  const up = upReplicas(s);
  const uptime = youngestUptime(up);
  const title = `${c.bold("SwiftDeploy")} · stack ${c.bold(s.stack)} · ${formatClock(s.at)} · every ${formatNumber(s.intervalSeconds)} s`;
  const facts = [
    `Mode ${c.bold(modeOf(s, up))}`,
    `Chaos ${chaosOf(up, c)}`,
    `Uptime ${uptime === null ? "n/a" : formatUptime(uptime)}`,
    `Replicas ${up.length}/${s.replicas.length} up`,
  ];
  return [title, facts.join("   ")];
}

/** The app's own mode; the configured one only when no replica can say. */
function modeOf(s: Snapshot, up: UpReplica[]): string {
  if (up.length > 0) return distinct(up.map((r) => r.mode)).join(" / ");
  return s.configuredMode ? `${s.configuredMode} (configured)` : "unknown";
}

function chaosOf(up: UpReplica[], c: Colors): string {
  if (up.length === 0) return "n/a";
  const states = distinct(up.map((r) => r.chaos));
  if (states.every((state) => state === "none")) return "none";
  return c.bold(c.red(`${states.filter((state) => state !== "none").join(" / ")} (ACTIVE)`));
}

/** Banners for what keeps the frame from being complete: the stack down, a replica down, OPA failing. */
function problems(s: Snapshot, c: Colors): string[] {
  const down = s.replicas.filter((r): r is Extract<ReplicaStatus, { up: false }> => !r.up);
  const lines: string[] = [];
  if (s.replicas.length > 0 && down.length === s.replicas.length) {
    lines.push(c.bold(c.red("STACK DOWN: no replica's metrics are reachable")));
  }
  for (const r of down) lines.push(c.red(`  ${r.set} replica ${r.url}: ${r.error}`));
  return [...lines, ...opaFailures(s, c)];
}

/** OPA failures said once each, not once per policy: a heading per kind, then each distinct message. */
function opaFailures(s: Snapshot, c: Colors): string[] {
  const failed = Object.values(s.policies).flatMap((p) => (p.state === "failed" ? [p] : []));
  return distinct(failed.map((p) => p.kind)).flatMap((kind) => [
    c.bold(c.red(kind === "unreachable" ? "OPA UNREACHABLE" : `OPA ERROR (${kind})`)),
    ...distinct(failed.filter((p) => p.kind === kind).map((p) => c.red(`  ${p.message}`))),
  ]);
}

/** Both sets side by side: version, replicas up, share of the interval's requests, error rate, P99. */
function sets(s: Snapshot, c: Colors): string[] {
  const head = ["  Set", "Version", "Replicas", "Share", "Requests", "Error rate", "P99"].map((h, i) =>
    i < 3 ? c.dim(h) : right(c.dim(h)),
  );
  const rows = s.sets.map((set): Cell[] => {
    const t = set.traffic;
    const place = [`  ${c.bold(set.set)}`, set.version ?? "unknown", `${set.replicasUp}/${set.replicas} up`];
    if (t.state === "pending") return [...place, ...Array<Cell>(4).fill(right("-")), c.dim(t.reason)];
    const share = t.sharePercent === null ? "-" : `${t.sharePercent.toFixed(2)}%`;
    const values = [share, String(t.requests), `${t.errorRatePercent.toFixed(2)}%`, p99Text(t.p99LatencyMs)];
    // The last column holds a pending set's reason: every row has it, so the table keeps one shape.
    return [...place, ...values.map(right), ""];
  });
  return [`${c.bold("Sets")} · ${weightText(s)}`, ...table([[...head, ""], ...rows])];
}

/** The canary's part of the traffic as the stack's outputs give it (canaryWeight), or why there is none. */
function weightText(s: Snapshot): string {
  const canary = s.sets.some((set) => set.set === "canary");
  if (!canary) return "no canary in flight";
  if (!s.sets.some((set) => set.set === "stable"))
    return "the canary is the only set (no stable version yet)";
  if (s.release === null) return "canary weight unknown (no release read from the stack's outputs)";
  if (s.release.weight === null) return "canary weight unknown (output canaryWeight is null)";
  return `canary weight ${formatNumber(s.release.weight)}% of requests`;
}

function traffic(s: Snapshot, c: Colors, sparkWidth: number): string[] {
  const measured = s.traffic.state === "measured" ? s.traffic : null;
  const heading = measured
    ? `Traffic over the last ${formatNumber(measured.windowSeconds)} s (public matched routes, all sets)`
    : `Traffic: no rates yet (${s.traffic.state === "pending" ? s.traffic.reason : ""})`;
  const value = (text: (m: NonNullable<typeof measured>) => string) => (measured ? text(measured) : "-");
  const rows: [string, string, (number | null)[]][] = [
    ["Throughput", value((m) => `${m.requestsPerSecond.toFixed(2)} req/s`), s.recent.requestsPerSecond],
    ["Error rate", value((m) => `${m.errorRatePercent.toFixed(2)}%`), s.recent.errorRatePercent],
    ["P99 latency", value((m) => p99Text(m.p99LatencyMs)), s.recent.p99LatencyMs],
  ];
  const lines = [
    c.bold(heading),
    ...table(
      rows.map(([name, text, series]) => [
        `  ${name}`,
        right(c.bold(text)),
        c.cyan(spark(series, sparkWidth)),
      ]),
    ),
  ];
  const counts: string[] = [];
  if (measured) counts.push(`${measured.requests} requests, ${measured.errors} errors in the interval`);
  if (s.totals) counts.push(`${s.totals.requests} requests, ${s.totals.errors} errors since start`);
  if (counts.length > 0) lines.push(c.dim(`  ${counts.join(" · ")}`));
  return lines;
}

function p99Text(p99: number | null): string {
  return p99 === null ? "no requests" : `${Math.round(p99)} ms`;
}

/** Sparkline of the newest values; a gap where a value is missing (P99 of an interval without requests). */
function spark(values: (number | null)[], width: number): string {
  const shown = values.slice(-width).map((v) => (v === null ? Number.NaN : v));
  if (shown.length === 0) return "";
  return sparkly(shown, { minimum: 0 });
}

function sparklineWidth(columns: number): number {
  return Math.max(8, Math.min(60, columns - 40));
}

function policy(title: string, status: PolicyStatus, c: Colors): string[] {
  if (status.state === "idle") return [`${c.bold(title)}  ${c.dim("NOT ASKED")}  ${status.reason}`];
  if (status.state === "waiting") return [`${c.bold(title)}  ${c.yellow("WAITING")}  ${status.reason}`];
  if (status.state === "failed") {
    return [`${c.bold(title)}  ${c.red("NOT ANSWERED")}  (OPA ${status.kind}, see above)`];
  }
  const { decision, decisionId, durationMs } = status;
  const verdict = decision.allow ? c.bold(c.green("ALLOW")) : c.bold(c.red("DENY"));
  const id = decisionId ? `decision ${decisionId.slice(0, 8)} · ` : "";
  const lines = [`${c.bold(title)}  ${verdict}  ${c.dim(`${id}${durationMs.toFixed(1)} ms`)}`];
  const judged = judgedSets(status.input);
  if (judged) lines.push(`  ${judged}`);
  const withStable = decision.checks.some((check) => typeof check.stable === "number");
  lines.push(...table(decision.checks.map((check) => checkRow(check, withStable, c))));
  for (const note of decision.notes ?? []) lines.push(`  Note: ${note}`);
  if (decision.violations.length > 0) {
    lines.push("  Violations (as OPA reported them):");
    lines.push(...decision.violations.map((v) => c.red(`    ${v}`)));
  }
  return lines;
}

/** "canary 1.1.0 against stable 1.0.0 over the last 5 s", from the canary facts sent; null for other input. */
function judgedSets(input: object): string | null {
  const facts = input as Partial<CanaryFacts>;
  if (typeof facts.canary !== "object" || facts.canary === null) return null;
  const against = facts.stable ? `against stable ${facts.stable.version}` : "alone (no stable set)";
  return `canary ${facts.canary.version} ${against} over the last ${formatNumber(facts.window_seconds ?? 0)} s`;
}

/**
 * One rule as OPA evaluated it: its status (a rule OPA could not judge for too few requests shows "no
 * data"), the observed value, stable's value where the rule compares with it, and OPA's threshold.
 */
function checkRow(check: PolicyCheck, withStable: boolean, c: Colors): Cell[] {
  const status = check.status ?? (check.passed ? "pass" : "fail");
  const mark =
    status === "pass" ? c.green("PASS") : status === "fail" ? c.bold(c.red("FAIL")) : c.yellow("no data");
  const stable = typeof check.stable === "number" ? `stable ${withUnit(check.stable, check.unit)}` : "";
  return [
    `  ${mark}`,
    check.title,
    right(withUnit(check.observed, check.unit)),
    ...(withStable ? [stable] : []),
    `threshold ${withUnit(check.threshold, check.unit)}`,
  ];
}

type Cell = string | { content: string; hAlign: "right" };

function right(content: string): Cell {
  return { content, hAlign: "right" };
}

/** Rows aligned in columns, without borders (cli-table3 measures cells without their ANSI codes). */
function table(rows: Cell[][]): string[] {
  if (rows.length === 0) return [];
  const t = new Table({
    chars: NO_BORDER,
    style: { "padding-left": 0, "padding-right": 0, head: [], border: [] },
  });
  t.push(...rows);
  return t.toString().split("\n");
}

const NO_BORDER = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}
