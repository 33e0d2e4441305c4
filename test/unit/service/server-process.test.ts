// The bundled server as the container runs it: one file, started by node, configured by the environment.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleService } from "../../../program/service-bundle";
import { call } from "./sockets";
import { reservePort } from "../../support/ports";

const dir = mkdtempSync(join(tmpdir(), "sd-svc-bundle-"));
let bundle = "";

beforeAll(async () => {
  bundle = await bundleService(join(dir, "server.js"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE_ENV = {
  SERVICE_NAME: "swiftdeploy",
  APP_VERSION: "9.9.9",
  APP_MODE: "canary",
  LISTEN_HOST: "127.0.0.1",
};

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

function run(env: Record<string, string>): Run {
  // Only PATH from the host: the server must not depend on anything else in the test runner's env.
  const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stderr, stdout })),
  );
  return { child, exited };
}

async function waitForHealth(port: number, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await call(port, "/healthz")).status === 200) return;
    } catch {
      if (Date.now() > end) throw new Error(`no 200 from 127.0.0.1:${port}/healthz within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("bundleService", () => {
  it("writes the same bytes for the same sources", async () => {
    const again = await bundleService(join(dir, "again.js"));
    expect(readFileSync(again).equals(readFileSync(bundle))).toBe(true);
  });

  it("inlines every dependency, leaving only Node's own modules to require", () => {
    const text = readFileSync(bundle, "utf8");
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1].replace(/^node:/, ""));
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !builtinModules.includes(name))).toEqual([]);
  });

  it("holds no absolute path, so its hash does not depend on where the checkout lives", () => {
    expect(readFileSync(bundle, "utf8")).not.toContain(resolve(__dirname, "../../.."));
  });
});

describe("the bundled server process", () => {
  it.each([
    [{ APP_MODE: "blue" }, 'APP_MODE must be canary or stable, got "blue"'],
    [{ APP_PORT: "70000" }, 'APP_PORT must be an integer port 1-65535, got "70000"'],
    [{ CHAOS_ENABLED: "maybe" }, 'CHAOS_ENABLED must be true or false, got "maybe"'],
  ])("exits non-zero on %o, naming the variable and the value", async (bad, message) => {
    const { code, stderr } = await run({ ...BASE_ENV, ...bad }).exited;
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "serves both listeners and exits 0 soon after %s",
    async (signal) => {
      const [appPort, adminPort] = [await reservePort(), await reservePort()];
      const server = run({ ...BASE_ENV, APP_PORT: String(appPort), ADMIN_PORT: String(adminPort) });
      try {
        await waitForHealth(appPort, 10_000);
        expect(JSON.parse((await call(appPort, "/")).body)).toMatchObject({
          service: "swiftdeploy",
          mode: "canary",
        });
        expect((await call(adminPort, "/metrics")).body).toContain("app_mode 1");
        const sent = performance.now();
        server.child.kill(signal);
        const { code, stdout } = await server.exited;
        expect(code).toBe(0);
        expect(performance.now() - sent).toBeLessThan(3000);
        expect(stdout).toContain(`${signal}: shutting down`);
      } finally {
        server.child.kill("SIGKILL");
      }
    },
  );

  it("resets admin connections from another address of this machine, whose public port it serves", async () => {
    // A non-loopback address of this machine stands in for another container: not loopback, and not
    // this machine's default gateway (the one address besides loopback the admin listener admits).
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;
    expect(other, "this machine has no non-loopback IPv4 address").toBeDefined();
    const [appPort, adminPort] = [await reservePort(), await reservePort()];
    const env = {
      ...BASE_ENV,
      LISTEN_HOST: "0.0.0.0",
      APP_PORT: String(appPort),
      ADMIN_PORT: String(adminPort),
    };
    const server = run(env);
    try {
      await waitForHealth(appPort, 10_000);
      expect((await call(appPort, "/", { host: other })).status).toBe(200);
      await expect(call(adminPort, "/metrics", { host: other })).rejects.toMatchObject({
        code: "ECONNRESET",
      });
      const metrics = (await call(adminPort, "/metrics")).body;
      expect(metrics).toMatch(/^app_admin_refusals_total\{reason="peer"\} 1$/m);
    } finally {
      server.child.kill("SIGKILL");
    }
    expect((await server.exited).stdout).toMatch(/admin routes answer loopback( and gateway [\d.]+)* only/);
  });
});
