import request from "supertest";
import { describe, expect, it } from "vitest";
import { makeApp, requestCounts } from "./fixtures";
import { call, listenLocal } from "./sockets";

async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await action();
  return { ms: performance.now() - start, result };
}

describe("POST /chaos with a bad body", () => {
  const oneKilobyte = JSON.stringify({ mode: "none", pad: "x".repeat(1100) });
  it.each([
    ["no content type", undefined, '{"mode":"none"}', "content-type must be application/json"],
    [
      "a text/plain body",
      "text/plain",
      '{"mode":"none"}',
      'content-type must be application/json, got "text/plain"',
    ],
    [
      "a form body",
      "application/x-www-form-urlencoded",
      "mode=none",
      "content-type must be application/json",
    ],
    ["an empty body", "application/json", "", "body is not valid JSON"],
    ["malformed JSON", "application/json", '{"mode":', "body is not valid JSON"],
    ["a body over 1 KB", "application/json", oneKilobyte, "body is larger than 1024 bytes"],
    ["a JSON array", "application/json", '[{"mode":"none"}]', "body must be a JSON object"],
    ["JSON null", "application/json", "null", "body must be a JSON object, got null"],
    ["a missing mode", "application/json", "{}", "mode must be one of none, slow, error, got undefined"],
    [
      "an unknown mode",
      "application/json",
      '{"mode":"fast"}',
      'mode must be one of none, slow, error, got "fast"',
    ],
    [
      "an extra key",
      "application/json",
      '{"mode":"none","force":true}',
      'unknown key(s) for mode "none": force',
    ],
    ["a key of another mode", "application/json", '{"mode":"slow","duration_ms":5,"rate":1}', "rate"],
    ["a zero duration", "application/json", '{"mode":"slow","duration_ms":0}', "got 0"],
    ["a duration over 10 s", "application/json", '{"mode":"slow","duration_ms":10001}', "got 10001"],
    ["a fractional duration", "application/json", '{"mode":"slow","duration_ms":2.5}', "got 2.5"],
    ["a duration as a string", "application/json", '{"mode":"slow","duration_ms":"100"}', 'got "100"'],
    ["a rate above 1", "application/json", '{"mode":"error","rate":1.5}', "got 1.5"],
    ["a negative rate", "application/json", '{"mode":"error","rate":-0.1}', "got -0.1"],
    [
      "a rate that overflows to Infinity",
      "application/json",
      '{"mode":"error","rate":1e400}',
      "got Infinity",
    ],
    ["a missing rate", "application/json", '{"mode":"error"}', "rate must be a number with 0 <= rate <= 1"],
  ])("answers 400 with the reason for %s and leaves the state alone", async (_what, type, body, reason) => {
    const { adminApp, state } = makeApp();
    const admin = adminApp.callback();
    await request(admin).post("/chaos").send({ mode: "error", rate: 0.2 }).expect(200);
    let req = request(admin).post("/chaos");
    if (type !== undefined) req = req.set("Content-Type", type);
    const res = await req.send(body).expect(400);
    expect(res.body.error).toContain(reason);
    expect(state.chaos).toEqual({ mode: "error", rate: 0.2 });
    expect((await request(admin).get("/chaos")).body).toEqual({ mode: "error", rate: 0.2 });
  });

  it("answers 400 to a chunked body that grows past 1 KB without announcing its length", async () => {
    const { adminApp, state } = makeApp();
    const { server, port } = await listenLocal(adminApp);
    try {
      const chunks = ['{"mode":"none","pad":"', ..."x".repeat(1200).match(/.{1,100}/g)!, '"}'];
      const res = await call(port, "/chaos", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        chunks,
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ error: "body is larger than 1024 bytes" });
      expect(state.chaos).toEqual({ mode: "none" });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("accepts a JSON content type with a charset", async () => {
    const { adminApp } = makeApp();
    await request(adminApp.callback())
      .post("/chaos")
      .set("Content-Type", "application/json; charset=utf-8")
      .send('{"mode":"none"}')
      .expect(200, { mode: "none" });
  });
});

describe("chaos mode error", () => {
  // 2000 requests at rate 0.3: the observed fraction has a standard deviation of about 0.0102, so a
  // tolerance of ±0.05 (about 5 sigma) fails by chance less than once in a million runs.
  it("answers about the requested fraction of public requests with a JSON 500", async () => {
    const { publicApp, state, registry } = makeApp();
    state.chaos = { mode: "error", rate: 0.3 };
    const app = publicApp.callback();
    const total = 2000;
    const statuses: number[] = [];
    for (let batch = 0; batch < total / 100; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => request(app).get("/")));
      statuses.push(...answers.map((res) => res.status));
      const failed = answers.find((res) => res.status === 500);
      if (failed) expect(failed.body.error).toContain("injected failure");
    }
    const errors = statuses.filter((status) => status === 500).length;
    expect(errors + statuses.filter((status) => status === 200).length).toBe(total);
    expect(Math.abs(errors / total - 0.3)).toBeLessThan(0.05);
    // The failures are traffic of the matched route, so the canary gate sees them.
    expect(await requestCounts(registry)).toEqual({ "GET / 200": total - errors, "GET / 500": errors });
  });

  it.each([
    [0, 0],
    [1, 50],
  ])("with rate %d fails exactly %d of 50 requests", async (rate, expected) => {
    const { publicApp, state } = makeApp();
    state.chaos = { mode: "error", rate };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => request(publicApp.callback()).get("/")),
    );
    expect(answers.filter((res) => res.status === 500)).toHaveLength(expected);
  });

  it("fails the requests for which the random source falls below the rate", async () => {
    const draws = [0.1, 0.9, 0.49, 0.5];
    const { publicApp, state } = makeApp({ random: () => draws.shift() ?? 1 });
    state.chaos = { mode: "error", rate: 0.5 };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(publicApp.callback()).get("/")).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
  });

  it("also fails unknown paths, labelled unmatched", async () => {
    const { publicApp, state, registry } = makeApp();
    state.chaos = { mode: "error", rate: 1 };
    await request(publicApp.callback()).get("/nope").expect(500);
    expect(await requestCounts(registry)).toEqual({ "GET unmatched 500": 1 });
  });

  it("never touches /healthz, /metrics or /chaos", async () => {
    const { publicApp, adminApp, state } = makeApp();
    state.chaos = { mode: "error", rate: 1 };
    const app = publicApp.callback();
    const admin = adminApp.callback();
    for (let i = 0; i < 20; i++) {
      await request(app).get("/healthz").expect(200);
      await request(admin).get("/healthz").expect(200);
      await request(admin).get("/metrics").expect(200);
      await request(admin).get("/chaos").expect(200);
    }
    await request(app).get("/").expect(500);
  });
});

describe("chaos mode slow", () => {
  it("delays public requests by the requested time", async () => {
    const { publicApp, state } = makeApp();
    state.chaos = { mode: "slow", duration_ms: 300 };
    const { ms, result } = await timed(() => request(publicApp.callback()).get("/"));
    expect(result.status).toBe(200);
    // Timers may fire up to a millisecond early by rounding; the upper bound only rules out a runaway.
    expect(ms).toBeGreaterThanOrEqual(299);
    expect(ms).toBeLessThan(1300);
  });

  it("records the delay in the duration histogram", async () => {
    const { publicApp, state, registry } = makeApp();
    state.chaos = { mode: "slow", duration_ms: 300 };
    await request(publicApp.callback()).get("/");
    const text = await registry.metrics();
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0.25",method="GET",path="\/",status_code="200"\} 0$/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0.5",method="GET",path="\/",status_code="200"\} 1$/m,
    );
  });

  it("never delays /healthz, /metrics or /chaos", async () => {
    const { publicApp, adminApp, state } = makeApp();
    state.chaos = { mode: "slow", duration_ms: 2000 };
    const app = publicApp.callback();
    const admin = adminApp.callback();
    const { ms } = await timed(async () => {
      await request(app).get("/healthz").expect(200);
      await request(app).get("/healthz/").expect(200);
      await request(admin).get("/healthz").expect(200);
      await request(admin).get("/metrics").expect(200);
      await request(admin).get("/chaos").expect(200);
    });
    expect(ms).toBeLessThan(1000);
  });

  it("stops delaying once chaos is set back to none", async () => {
    const { publicApp, adminApp } = makeApp();
    const admin = adminApp.callback();
    await request(admin).post("/chaos").send({ mode: "slow", duration_ms: 2000 }).expect(200);
    await request(admin).post("/chaos").send({ mode: "none" }).expect(200);
    const { ms } = await timed(() => request(publicApp.callback()).get("/").expect(200));
    expect(ms).toBeLessThan(1000);
  });
});

describe("chaos switched off by configuration", () => {
  it("answers 403 with the reason on GET and POST /chaos and keeps the state at none", async () => {
    const { adminApp, state, registry } = makeApp({ chaosEnabled: false });
    const admin = adminApp.callback();
    const reason = "chaos injection is disabled on this instance (CHAOS_ENABLED=false)";
    expect((await request(admin).get("/chaos").expect(403)).body).toEqual({ error: reason });
    const res = await request(admin).post("/chaos").send({ mode: "error", rate: 1 }).expect(403);
    expect(res.body).toEqual({ error: reason });
    expect(state.chaos).toEqual({ mode: "none" });
    expect(await registry.metrics()).toMatch(/^chaos_active 0$/m);
  });
});
