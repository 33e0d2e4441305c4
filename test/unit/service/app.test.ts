import request from "supertest";
import { describe, expect, it } from "vitest";
import { DURATION_BUCKETS } from "../../../service/metrics";
import { makeApp, requestCounts, samples } from "./fixtures";

describe("public listener", () => {
  it.each(["stable", "canary"] as const)(
    "answers GET / with the service, its set (%s, its mode), version and hostname",
    async (mode) => {
      const { publicApp } = makeApp({ mode });
      const res = await request(publicApp.callback()).get("/").expect(200);
      expect(res.type).toBe("application/json");
      expect(res.body).toEqual({
        service: "swiftdeploy",
        set: mode,
        mode,
        version: "1.2.3",
        hostname: "test-host",
      });
    },
  );

  it("answers GET /healthz with 200 ok while serving", async () => {
    const { publicApp } = makeApp();
    const res = await request(publicApp.callback()).get("/healthz").expect(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("answers an unknown path with a JSON 404", async () => {
    const { publicApp } = makeApp();
    const res = await request(publicApp.callback()).get("/nope").expect(404);
    expect(res.body).toEqual({ error: "no route for GET /nope" });
  });

  it("does not serve the admin routes", async () => {
    const { publicApp } = makeApp();
    const app = publicApp.callback();
    await request(app).get("/metrics").expect(404);
    await request(app).get("/chaos").expect(404);
    await request(app).post("/chaos").send({ mode: "none" }).expect(404);
  });
});

describe("admin listener", () => {
  it("answers GET /healthz with 200 ok while serving", async () => {
    const { adminApp } = makeApp();
    const res = await request(adminApp.callback()).get("/healthz").expect(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("serves /metrics in the registry's content type", async () => {
    const { adminApp, registry } = makeApp();
    const res = await request(adminApp.callback()).get("/metrics").expect(200);
    expect(res.headers["content-type"]).toBe(registry.contentType);
    expect(res.text).toContain("# TYPE http_requests_total counter");
    expect(res.text).toContain("# TYPE http_request_duration_seconds histogram");
  });

  it("reports the chaos state on GET /chaos and changes it on POST /chaos", async () => {
    const { adminApp, state } = makeApp();
    const admin = adminApp.callback();
    expect((await request(admin).get("/chaos").expect(200)).body).toEqual({ mode: "none" });
    const posted = await request(admin).post("/chaos").send({ mode: "slow", duration_ms: 250 }).expect(200);
    expect(posted.body).toEqual({ mode: "slow", duration_ms: 250 });
    expect(state.chaos).toEqual({ mode: "slow", duration_ms: 250 });
    expect((await request(admin).get("/chaos").expect(200)).body).toEqual({ mode: "slow", duration_ms: 250 });
  });

  it("does not serve the public root", async () => {
    const { adminApp } = makeApp();
    await request(adminApp.callback()).get("/").expect(404);
  });
});

describe("metrics", () => {
  it("counts public requests by method, route template and status", async () => {
    const { publicApp, registry } = makeApp();
    const app = publicApp.callback();
    await request(app).get("/");
    await request(app).get("/");
    await request(app).get("/healthz");
    await request(app).head("/");
    expect(await requestCounts(registry)).toEqual({
      "GET / 200": 2,
      "GET /healthz 200": 1,
      "HEAD / 200": 1,
    });
  });

  it("labels every unknown path and method with the one path value 'unmatched'", async () => {
    const { publicApp, registry } = makeApp();
    const app = publicApp.callback();
    await request(app).get("/nope");
    await request(app).get("/a/b/c?x=1");
    await request(app).delete("/");
    expect(await requestCounts(registry)).toEqual({
      "GET unmatched 404": 2,
      "DELETE unmatched 404": 1,
    });
  });

  it("never records the admin listener's requests", async () => {
    const { adminApp, registry } = makeApp();
    const admin = adminApp.callback();
    await request(admin).get("/metrics");
    await request(admin).get("/healthz");
    await request(admin).get("/chaos");
    await request(admin).post("/chaos").send({ mode: "none" });
    await request(admin).get("/nope");
    expect(await requestCounts(registry)).toEqual({});
  });

  it("counts as traffic exactly the public requests other than /healthz, the sum the canary gate takes", async () => {
    const { publicApp, adminApp, registry } = makeApp();
    const app = publicApp.callback();
    const admin = adminApp.callback();
    for (let i = 0; i < 5; i++) await request(app).get("/healthz");
    for (let i = 0; i < 3; i++) await request(app).get("/");
    await request(app).get("/missing");
    await request(admin).get("/metrics");
    await request(admin).get("/healthz");
    const traffic = (await samples(registry, "http_requests_total"))
      .filter((s) => s.labels.path !== "/healthz")
      .reduce((sum, s) => sum + s.value, 0);
    expect(traffic).toBe(4);
  });

  it("observes durations in the histogram with the agreed buckets", async () => {
    const { publicApp, adminApp } = makeApp();
    await request(publicApp.callback()).get("/");
    const text = (await request(adminApp.callback()).get("/metrics")).text;
    const bounds = [
      ...text.matchAll(/^http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",path="\/"/gm),
    ];
    expect(bounds.map((m) => m[1])).toEqual([...DURATION_BUCKETS.map(String), "+Inf"]);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",path="\/",status_code="200"\} 1$/m,
    );
  });

  it.each([
    ["canary", 1],
    ["stable", 0],
  ] as const)("sets app_mode for %s to %d", async (mode, value) => {
    const { registry } = makeApp({ mode });
    expect(await samples(registry, "app_mode")).toEqual([{ labels: {}, value }]);
  });

  it("reports chaos_active 0 for none, 1 for slow, 2 for error", async () => {
    const { adminApp, registry } = makeApp();
    const admin = adminApp.callback();
    const level = async () => (await samples(registry, "chaos_active"))[0].value;
    expect(await level()).toBe(0);
    await request(admin).post("/chaos").send({ mode: "slow", duration_ms: 10 }).expect(200);
    expect(await level()).toBe(1);
    await request(admin).post("/chaos").send({ mode: "error", rate: 0.5 }).expect(200);
    expect(await level()).toBe(2);
    await request(admin).post("/chaos").send({ mode: "none" }).expect(200);
    expect(await level()).toBe(0);
  });

  it("reports a growing app_uptime_seconds", async () => {
    const { registry } = makeApp();
    const first = (await samples(registry, "app_uptime_seconds"))[0].value;
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = (await samples(registry, "app_uptime_seconds"))[0].value;
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second - first).toBeGreaterThanOrEqual(0.025);
  });

  it("includes prom-client's default process metrics unless switched off", async () => {
    const withDefaults = makeApp({ defaultMetrics: true });
    const text = (await request(withDefaults.adminApp.callback()).get("/metrics")).text;
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
    const without = makeApp({ defaultMetrics: false });
    expect(await without.registry.metrics()).not.toContain("process_cpu_user_seconds_total");
  });

  it("still registers every metric when the HTTP middleware is switched off, and records nothing", async () => {
    const { publicApp, registry } = makeApp({ httpMetrics: false });
    await request(publicApp.callback()).get("/").expect(200);
    expect(await requestCounts(registry)).toEqual({});
    expect(await samples(registry, "app_mode")).toHaveLength(1);
  });
});

describe("shutdown state", () => {
  it("turns /healthz to 503 on both listeners once shutting down", async () => {
    const { publicApp, adminApp, state } = makeApp();
    state.shuttingDown = true;
    for (const app of [publicApp, adminApp]) {
      const res = await request(app.callback()).get("/healthz").expect(503);
      expect(res.body).toEqual({ status: "shutting_down" });
    }
  });

  it("keeps answering other requests while shutting down, asking the client to close the connection", async () => {
    const { publicApp, state } = makeApp();
    const app = publicApp.callback();
    const serving = await request(app).get("/").set("Connection", "keep-alive").expect(200);
    expect(serving.headers.connection).toBe("keep-alive");
    state.shuttingDown = true;
    const draining = await request(app).get("/").set("Connection", "keep-alive").expect(200);
    expect(draining.headers.connection).toBe("close");
  });

  it("records the 503 health answers under /healthz, so they never count as traffic", async () => {
    const { publicApp, registry, state } = makeApp();
    state.shuttingDown = true;
    await request(publicApp.callback()).get("/healthz");
    expect(await requestCounts(registry)).toEqual({ "GET /healthz 503": 1 });
  });
});
