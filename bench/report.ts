// The report `npm run bench` prints at the end: the main table of figures against their targets, where the
// deploy time goes, and the definitions of the terms it uses.
import Table from "cli-table3";
import { loadavg } from "node:os";
import { median } from "../lib/numbers";
import { canaryChangeName, type CanaryBenchResult } from "./canary";
import { CHANGES, type ChangeRun } from "./changes";
import type { DashboardCpuResult } from "./dashboard-cpu";
import { DEPLOY_SCRIPT, LABELS, otherScriptOf, type DeployBenchResult } from "./deploys";
import { medianMs, medianPhases, runsOf, slowestSteps } from "./figures";
import { mark, ms, secs } from "./format";
import type { CanaryOverheadResult, GateDecisionResult } from "./gate";
import type { BenchResult as MetricsResult } from "./metrics-overhead";

/** What the benches found; a part that failed or was skipped is missing and named in errors. */
export interface Results {
  gate?: GateDecisionResult;
  canary?: CanaryOverheadResult;
  deploys?: DeployBenchResult;
  programWorkMs?: number;
  metrics?: MetricsResult;
  dashboard?: DashboardCpuResult;
  changes?: ChangeRun[];
  canaryRelease?: CanaryBenchResult;
  errors: string[];
}

/** Each change under load, SwiftDeploy beside Compose: requests, failures, the change's own time. */
function changesTable(runs: ChangeRun[]): string {
  const table = new Table({
    head: [
      "change under load",
      "SwiftDeploy: failed / requests",
      "time",
      "Compose v2: failed / requests",
      "time",
      "target",
    ],
  });
  for (const change of CHANGES) {
    const of = (system: ChangeRun["system"]) =>
      runs.find((r) => r.change === change.name && r.system === system);
    const sd = of("swiftdeploy");
    const compose = of("compose");
    const cell = (r?: ChangeRun) =>
      r ? `${r.load.failures} / ${r.load.requests}${r.error ? " (change failed)" : ""}` : "n/a";
    const time = (r?: ChangeRun) => (r ? secs(r.changeMs) : "n/a");
    const ok = sd !== undefined && !sd.error && sd.load.failures === 0 && sd.load.requests >= 2000;
    table.push([change.name, cell(sd), time(sd), cell(compose), time(compose), `0 of ≥ 2,000 ${mark(ok)}`]);
  }
  const resent = runs.filter((r) => r.system === "swiftdeploy").reduce((n, r) => n + r.load.resent, 0);
  return (
    `Changes under load (4 keep-alive + 4 new-connection clients through the ingress):\n${table.toString()}\n` +
    `Resent after a kept-alive connection closed under them before any answer (RFC 9112 §9.3.1; nginx closes ` +
    `idle connections when it reloads): ${resent} over all SwiftDeploy changes; each resent once, a request that then failed still counts as failed.`
  );
}

/** The largest distance of the canary's share from its weight that still meets the target, in points. */
const SPLIT_TOLERANCE_POINTS = 2;
/** The most a promotion's `pulumi up` may take beyond its observation window. */
const PROMOTION_BEYOND_WINDOW_MS = 8000;
/** nginx's own time per request, p50. */
const NGINX_OWN_P50_MS = 1;

/** Section 6's figures for the main table: the split, the pin, each promotion's time, nginx's own time. */
function canaryRows(c: CanaryBenchResult): string[][] {
  const rows: string[][] = [];
  if (c.split) {
    const s = c.split;
    const share = (100 * s.canary) / (s.canary + s.stable);
    const off = share - c.weight;
    rows.push([
      `6. canary share at weight ${c.weight} (${s.requests} GET / through the ingress)`,
      `${share.toFixed(2)} %, ${off >= 0 ? "+" : ""}${off.toFixed(2)} points (${s.canary} canary, ` +
        `${s.stable} stable, ${s.failed} failed)`,
      `${c.weight} ± ${SPLIT_TOLERANCE_POINTS} points`,
      mark(Math.abs(off) <= SPLIT_TOLERANCE_POINTS),
    ]);
  }
  if (c.pins.length > 0) {
    const set = (header: string) => (header === "always" ? "canary" : "stable");
    rows.push([
      "6. X-Canary pin: always → canary, never → stable",
      c.pins
        .map((p) => `${p.header}: ${p.pinned} of ${p.requests} ${set(p.header)}, ${p.failed} failed`)
        .join("; "),
      "all pinned",
      mark(c.pins.length === 2 && c.pins.every((p) => p.pinned === p.requests)),
    ]);
  }
  for (const p of c.changes.filter((ch) => ch.kind === "promotion")) {
    const beyond = p.changeMs - c.windowSeconds * 1000;
    const gate = p.gateOverheadMs === undefined ? "" : `, of which its own work ${ms(p.gateOverheadMs)}`;
    const around = p.aroundGate
      ? `: ${secs(p.aroundGate.beforeMs)} to the canary gate (CLI, program, infrastructure gate), the gate ` +
        `${secs(p.aroundGate.stepMs)}${gate}, ${secs(p.aroundGate.afterMs)} after it (new containers, ` +
        `readiness, nginx reload, old ones removed)`
      : gate;
    rows.push([
      `6. ${canaryChangeName(p)}: time beyond its ${c.windowSeconds} s window (shortened for the bench)`,
      p.error ? `failed: ${p.error}` : `${secs(beyond)} (pulumi up ${secs(p.changeMs)}${around})`,
      `<= ${secs(PROMOTION_BEYOND_WINDOW_MS)}`,
      mark(!p.error && beyond <= PROMOTION_BEYOND_WINDOW_MS),
    ]);
  }
  if (c.nginx) {
    const n = c.nginx;
    rows.push([
      `6. nginx's own time per request, rt − urt (${n.lines} access-log lines of the split)`,
      `p50 ${ms(n.p50Ms)}, p99 ${ms(n.p99Ms)}, mean ${n.meanMs.toFixed(2)} ms (nginx logs whole ms; ` +
        `${n.withoutUpstream} lines without an upstream time left out)`,
      `<= ${ms(NGINX_OWN_P50_MS)} p50`,
      mark(n.p50Ms <= NGINX_OWN_P50_MS),
    ]);
  } else if (c.split) {
    rows.push(["6. nginx's own time per request, rt − urt", "no access-log line of the split", "", ""]);
  }
  return rows;
}

/** Section 6's changes under load, with Compose's version change (section 5) beside them: it has no canary. */
function canaryChangesTable(c: CanaryBenchResult, changes: ChangeRun[] | undefined): string {
  const table = new Table({
    head: [
      "canary change under load",
      "SwiftDeploy: failed / requests",
      "pulumi up",
      "Compose v2: its version change (section 5)",
      "target",
    ],
    ...TABLE_STYLE,
  });
  const compose = changes?.find((r) => r.system === "compose" && r.change === CHANGES[0].name);
  const composeCell = compose
    ? `${compose.load.failures} / ${compose.load.requests}, ${secs(compose.changeMs)}`
    : "—";
  for (const run of c.changes) {
    const ok = !run.error && run.load.failures === 0 && run.load.requests >= 2000;
    table.push([
      canaryChangeName(run),
      `${run.load.failures} / ${run.load.requests}${run.error ? " (change failed)" : ""}`,
      secs(run.changeMs),
      composeCell,
      `0 of ≥ 2,000 ${mark(ok)}`,
    ]);
  }
  const resent = c.changes.reduce((n, r) => n + r.load.resent, 0);
  const slowest = c.changes
    .filter((r) => r.slowestSteps)
    .map((r) => `Slowest steps of the ${canaryChangeName(r)}: ${r.slowestSteps}`)
    .join("\n");
  return (
    `Canary changes under load (4 keep-alive + 4 new-connection clients through the ingress; ${c.windowSeconds} s ` +
    `observation window):
${table.toString()}
` +
    `Compose v2 has no canary: there, each of these is a change of the one service's image, measured once in ` +
    `section 5 ("—": section 5 did not run). Resent after a kept-alive connection closed under them: ${resent}.` +
    (slowest ? `\n${slowest}` : "")
  );
}

function deployRows(d: DeployBenchResult): string[][] {
  const m = (label: string) => medianMs(d, label) ?? NaN;
  const all = (label: string) =>
    runsOf(d, label)
      .map((r) => (r.ms / 1000).toFixed(2))
      .join(", ");
  const row = (label: string, target: string, verdict: string) => [
    label,
    `${secs(m(label))}  (runs: ${all(label)})`,
    target,
    verdict,
  ];
  const compose = m(LABELS.composeCold);
  const composeNoop = m(LABELS.composeNoop);
  const plainNoop = m(LABELS.plainNoop);
  const plainFast = m(LABELS.plainNoopFast);
  const sdCold = m(LABELS.sdCold);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const noopVerdict = (v: number) =>
    `${ratio(v, composeNoop)} compose (${mark(v <= 30 * composeNoop)}); ${ratio(v, plainNoop)} plain ` +
    `(${mark(v <= 0.4 * plainNoop)}); ${ratio(v, plainFast)} plain --skip-preview`;
  return [
    row(LABELS.sdCold, "<= 5x compose up -d", `${ratio(sdCold, compose)} (${mark(sdCold <= 5 * compose)})`),
    row(LABELS.plainCold, "", `${ratio(m(LABELS.plainCold), compose)} compose`),
    row(LABELS.composeCold, "", "baseline"),
    row(LABELS.composeWaitCold, "", `${ratio(sdCold, m(LABELS.composeWaitCold))} SwiftDeploy cold / this`),
    row(LABELS.sdNoop, "<= 30x compose, <= 0.4x plain", noopVerdict(m(LABELS.sdNoop))),
    row(LABELS.sdNoopOther, "<= 30x compose, <= 0.4x plain", noopVerdict(m(LABELS.sdNoopOther))),
    row(LABELS.plainNoop, "", "baseline"),
    row(LABELS.plainNoopFast, "", ""),
    row(LABELS.composeNoop, "", "baseline"),
    row(LABELS.composeWaitNoop, "", ""),
  ];
}

/** cli-table3 colours its borders and header; a log file or a report wants plain text. */
const TABLE_STYLE = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

function mainTable(r: Results): string {
  const table = new Table({
    head: ["measure", "figure (median unless said)", "target", "verdict"],
    wordWrap: true,
    colWidths: [40, 50, 18, 36],
    ...TABLE_STYLE,
  });
  if (r.gate) {
    const g = r.gate;
    table.push(
      [
        `1. gate decision: host facts + OPA over Unix socket (${g.socket.runs} decisions)`,
        `p50 ${ms(g.socket.p50)}, p90 ${ms(g.socket.p90)} (facts p50 ${ms(g.factsP50)}, OPA query p50 ${ms(g.opaQueryP50)})`,
        "<= 10 ms p50",
        mark(g.socket.p50 <= 10),
      ],
      [
        `1. original transport: facts + docker exec opa eval (${g.dockerExec.runs} decisions)`,
        `p50 ${ms(g.dockerExec.p50)}, p90 ${ms(g.dockerExec.p90)}`,
        "",
        `socket is ${(g.dockerExec.p50 / g.socket.p50).toFixed(0)}x faster at p50`,
      ],
    );
  }
  if (r.deploys) for (const row of deployRows(r.deploys)) table.push([`2. ${row[0]}`, ...row.slice(1)]);
  if (r.canary) {
    const c = r.canary;
    table.push([
      `3. canary gate beyond its ${c.windowSeconds} s window`,
      `${c.overheadMs} ms (gate ${c.durationMs} ms in all; promotion ${c.allowed ? "allowed" : "REFUSED"}; ` +
        `traffic ${c.traffic.sent} requests, ${c.traffic.failed} failed)`,
      "<= 100 ms",
      mark(c.overheadMs <= 100),
    ]);
  }
  if (r.canaryRelease) for (const row of canaryRows(r.canaryRelease)) table.push(row);
  if (r.metrics) {
    const m = r.metrics;
    table.push([
      "4. metrics middleware: req/s with / without",
      `${m.ratio.toFixed(3)}x (${m.medians.with.requestsPerSecond.toFixed(0)} / ` +
        `${m.medians.without.requestsPerSecond.toFixed(0)} req/s); per server CPU-s ${m.cpuRatio.toFixed(3)}x`,
      ">= 0.95x",
      mark(m.ratio >= 0.95),
    ]);
  }
  if (r.dashboard) {
    const d = r.dashboard;
    table.push([
      "4. dashboard CPU per refresh",
      `${ms(d.cpuMsPerRefresh)} (mean of ${d.refreshes}; wall p50 ${ms(d.wallMsPerRefreshP50)})`,
      "",
      "",
    ]);
  }
  return table.toString();
}

/** One sentence on where a SwiftDeploy no-op spends its time, next to plain Pulumi's floor. */
function noopSummary(d: DeployBenchResult, programMs: number | undefined): string {
  const sd = runsOf(d, LABELS.sdNoop);
  const floor = runsOf(d, LABELS.plainNoopFast);
  if (sd.length === 0 || floor.length === 0) return "";
  const p = medianPhases(sd);
  const plain = median(floor.map((r) => r.ms));
  const program = programMs === undefined ? "" : ` (the program's own work is ${secs(programMs)} of it)`;
  return (
    `No-op "npm run deploy", ${secs(p.total)}: Pulumi's update up to the gate (language host, Node program, ` +
    `provider plugins, diffs) ${secs(p.updateBeforeGate)}${program}; npm + setup ${secs(p.setup)}; ` +
    `CLI start ${secs(p.cliStart)}; gate step ${secs(p.gateStep)}; after the gate ` +
    `${secs(p.updateAfterGate)}. Plain Pulumi's floor for the same resources (--skip-preview, ` +
    `transpile-only) is ${secs(plain)}, ${secs(Math.abs(plain - p.total))} ` +
    `${plain >= p.total ? "more than" : "less than"} SwiftDeploy's whole npm run deploy.`
  );
}

function phaseTable(d: DeployBenchResult, programMs: number | undefined): string {
  const table = new Table({
    head: [
      "where the time goes (medians, s)",
      "total",
      "npm+setup",
      "CLI",
      "preview",
      "update to gate",
      "gate step",
      "rest",
    ],
    ...TABLE_STYLE,
  });
  const labels = [
    LABELS.sdCold,
    LABELS.sdNoop,
    LABELS.sdNoopOther,
    LABELS.plainCold,
    LABELS.plainNoop,
    LABELS.plainNoopFast,
  ];
  for (const label of labels) {
    const runs = runsOf(d, label);
    if (runs.length === 0) continue;
    const p = medianPhases(runs);
    const s = (v: number) => (v / 1000).toFixed(2);
    const gated = p.gateStep > 0;
    table.push([
      label,
      s(p.total),
      s(p.setup),
      s(p.cliStart),
      s(p.preview),
      gated ? s(p.updateBeforeGate) : "-",
      gated ? s(p.gateStep) : "-",
      gated ? s(p.updateAfterGate) : `${s(p.updateAfterGate)} (whole update)`,
    ]);
  }
  const slowest = [LABELS.sdCold, LABELS.plainCold]
    .map((label) => `Slowest steps of "${label}" (medians): ${slowestSteps(runsOf(d, label), 6)}`)
    .join("\n");
  const program =
    programMs === undefined
      ? ""
      : `\nThe program's own work (manifest, plan, host files, service bundle), measured in-process: ${ms(programMs)}.`;
  return `${table.toString()}\n${noopSummary(d, programMs)}\n${slowest}${program}`;
}

function definitions(): string {
  return `Definitions:
  cold   = no container or network of that deployment exists (pulumi destroy / compose down before it); the
           images are already built and tagged, so Pulumi's RemoteImage builds are Docker layer-cache hits.
  no-op  = the same command again with nothing changed.
  npm run deploy = the whole command a user types: npm, then package.json's deploy script
           "${DEPLOY_SCRIPT}" (scripts/pulumi.sh: setup's warm check, then pulumi up; the program
           transpiled by sucrase per Pulumi.yaml), with the bench stack's --config-file appended. The other
           deploy-script row runs "${otherScriptOf(DEPLOY_SCRIPT)}" through sh -c (no npm start).
  plain  = bench/plain: the same components and creation order (app after OPA), no gates, no audit
           record. "pulumi up --yes" is a stock run: preview on, ts-node type-checks the program; the
           --skip-preview row is ts-node transpile-only (SWC), Pulumi's fastest stock setting.
  compose up -d returns when the containers have started; --wait also waits for every healthcheck, which is
           what Pulumi's wait: true would do (first probe one healthcheck interval, 5 s, after start);
           SwiftDeploy probes the same routes from the host instead (components/readiness.ts). The compose
           file is rendered from the same manifest by liquidjs (bench/docker-compose.yml.liquid) and runs
           the very images the bench stack built.`;
}

export function report(r: Results, totalMs: number): string {
  const parts = [
    `\nSwiftDeploy bench, ${new Date().toISOString()}, ${secs(totalMs)} in all, 1-min load average now ${loadavg()[0].toFixed(2)}`,
  ];
  parts.push(mainTable(r));
  if (r.deploys) parts.push(phaseTable(r.deploys, r.programWorkMs));
  if (r.changes) parts.push(changesTable(r.changes));
  if (r.canaryRelease && r.canaryRelease.changes.length > 0) {
    parts.push(canaryChangesTable(r.canaryRelease, r.changes));
  }
  parts.push(definitions());
  if (r.errors.length > 0) parts.push(`FAILED parts:\n${r.errors.map((e) => `  - ${e}`).join("\n")}`);
  return parts.join("\n\n");
}
