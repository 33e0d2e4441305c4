// A real Prometheus (setup's Debian binary) for the acceptance test of the canary's numbers: it scrapes the
// stack's admin listeners every second from the file_sd file the rollout step writes, listens on a locked
// 127.0.0.1 port, keeps its data in a temporary folder, and is stopped (and its folder removed) by stop().
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { releasePorts, reservePort } from "../../support/ports";
import { TOOLS } from "./project";

export class Prometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    private readonly log: () => string,
  ) {}

  /** Starts Prometheus on `targetsFile` and waits until it answers (30 s at most). */
  static async start(targetsFile: string): Promise<Prometheus> {
    const port = await reservePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sdtest-prometheus-"));
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(
      config,
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "scrape_configs:",
        "  - job_name: swiftdeploy-app",
        `    file_sd_configs: [{ files: [${JSON.stringify(targetsFile)}], refresh_interval: 1s }]`,
        "",
      ].join("\n"),
    );
    const child = spawn(
      path.join(TOOLS, "bin", "prometheus"),
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.stderr!.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    const prometheus = new Prometheus(child, dir, port, () => output);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return prometheus;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        await prometheus.stop();
        throw new Error(`prometheus did not become ready: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** An instant query's vector, each series' labels and value; throws with Prometheus' error. */
  async query(
    promql: string,
    atSeconds?: number,
  ): Promise<{ metric: Record<string, string>; value: number }[]> {
    const params = new URLSearchParams({ query: promql });
    if (atSeconds !== undefined) params.set("time", atSeconds.toFixed(3));
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?${params}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success" || body.data?.resultType !== "vector")
      throw new Error(`prometheus: ${promql}: ${body.error ?? JSON.stringify(body)}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Waits until Prometheus scrapes every one of `count` targets successfully. */
  async waitForTargets(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = await this.query("up == 1").catch(() => []);
      if (up.length === count) return;
      if (Date.now() > deadline)
        throw new Error(`prometheus scrapes ${up.length} of ${count} targets up; log: ${this.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    releasePorts([this.port]);
  }
}
