// `npm run status` against a real deployed stack: the frame's numbers match the app's own metrics, every
// scrape lands in history.jsonl, and the live dashboard in tmux refreshes and gives the terminal back on
// Ctrl+C. Each test compares with what the app counts at that moment (and its own traffic as a delta), so
// none depends on another's requests or scrapes.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../lib/history";
import { parseTrafficSample, type TrafficSample } from "../../lib/metrics";
import { httpGet, TestProject } from "./support/project";

const run = promisify(execFile);
let project: TestProject;

beforeAll(async () => {
  project = await TestProject.create({ name: "status" });
  await project.up();
});

afterAll(async () => {
  await project?.dispose();
});

async function status(...args: string[]): Promise<string> {
  const { stdout } = await run(
    "node_modules/.bin/tsx",
    ["tools/status/main.ts", "--stack", project.stackName, ...args],
    {
      cwd: project.dir,
      env: { ...process.env, ...project.env },
      timeout: 60_000,
    },
  );
  return stdout;
}

/** The app's own public traffic counters, summed over its replicas. */
async function ownCounts(): Promise<Pick<TrafficSample, "requests" | "errors">> {
  const counts = { requests: 0, errors: 0 };
  for (const url of await project.adminUrls()) {
    const sample = parseTrafficSample((await httpGet(`${url}/metrics`)).body, Date.now());
    counts.requests += sample.requests;
    counts.errors += sample.errors;
  }
  return counts;
}

describe("npm run status", () => {
  it("prints a frame whose totals, mode and chaos state match the app's own metrics", async () => {
    const before = await ownCounts();
    for (let i = 0; i < 25; i++) await httpGet(`${project.publicUrl}/`);
    await project.setChaos({ mode: "error", rate: 1 });
    for (let i = 0; i < 7; i++) await httpGet(`${project.publicUrl}/`);
    await project.setChaos({ mode: "none" });
    const own = await ownCounts();
    expect(own).toEqual({ requests: before.requests + 32, errors: before.errors + 7 });

    const frame = await status("--once");
    expect(frame).not.toMatch(/\u001b\[/); // no ANSI control codes
    expect(frame).toContain(`stack ${project.stackName}`);
    expect(frame).toMatch(/Mode canary\s+Chaos none/);
    expect(frame).toContain(`${own.requests} requests, ${own.errors} errors since start`);
    expect(frame).toMatch(/Infrastructure policy\s+ALLOW/);
    expect(frame).toMatch(/PASS\s+Disk free space/);
  });

  it("reports the rates over the last interval as the app's counters give them", async () => {
    const own = await ownCounts();
    const snapshot = JSON.parse(await status("--json", "--samples", "2", "--interval", "2"));
    // Healthchecks and scrapes went on during the interval; they are not traffic.
    expect(snapshot.traffic).toMatchObject({ state: "measured" });
    expect(snapshot.recent.requestsPerSecond.at(-1)).toBe(0);
    expect(snapshot.totals).toEqual(own);
    expect(snapshot.policies.canary.state).toBe("decided");
  });

  it("appends every scrape to the stack's history.jsonl", async () => {
    const scrapes = () => readHistory(project.historyFile).events.filter((e) => e.type === "scrape");
    const before = scrapes().length;
    await status("--json", "--samples", "2", "--interval", "1");
    const added = scrapes().slice(before);
    expect(added).toHaveLength(2);
    expect(added.every((s) => s.stack === project.stackName)).toBe(true);
  });

  it("refreshes live in tmux and restores the terminal on Ctrl+C", async () => {
    // As a user would: a shell in the project (the copy, whose scripts/env points at its own backend).
    const session = `sdtest-status-${process.pid}`;
    // A tmux server of this test's own: a shared one would hand the shell its environment (another
    // checkout's PULUMI_BACKEND_URL, say), and the test must not touch anyone else's sessions.
    const tmux = (...args: string[]) =>
      run("tmux", ["-L", session, ...args], { timeout: 10_000 }).then((r) => r.stdout);
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "110",
      "-y",
      "40",

      "-c",
      project.dir,
      // A user's fresh shell: nothing of the test runner's Pulumi settings, only what scripts/env sets.
      "env -u PULUMI_BACKEND_URL -u SWIFTDEPLOY_STATE -u SWIFTDEPLOY_ROOT bash --norc --noprofile",
    );
    try {
      await tmux(
        "send-keys",
        "-t",
        session,
        `source scripts/env && node_modules/.bin/tsx tools/status/main.ts --stack ${project.stackName} --interval 1; echo EXIT=$?`,
        "Enter",
      );
      const frames = new Set<string>();
      const deadline = Date.now() + 30_000;
      let screen = "";
      while (frames.size < 3 && Date.now() < deadline) {
        screen = await tmux("capture-pane", "-p", "-t", session);
        const clock = /stack \S+ · (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/.exec(screen)?.[1];
        if (clock) frames.add(clock);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      expect(frames.size, screen).toBeGreaterThanOrEqual(3);
      await tmux("send-keys", "-t", session, "C-c");
      for (let i = 0; i < 25 && !/EXIT=\d+/.test(screen); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        screen = await tmux("capture-pane", "-p", "-t", session);
      }
      expect(screen).toMatch(/EXIT=(0|130)/);
      const [cursorVisible, alternateScreen] = (
        await tmux("display", "-p", "-t", session, "#{cursor_flag} #{alternate_on}")
      )
        .trim()
        .split(" ");
      expect({ cursorVisible, alternateScreen }).toEqual({ cursorVisible: "1", alternateScreen: "0" });
    } finally {
      await tmux("kill-server").catch(() => undefined);
    }
  });
});
