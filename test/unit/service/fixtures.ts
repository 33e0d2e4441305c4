// Shared set-up for the service tests: an app on a fresh registry, and readers for its metrics.
import { Registry } from "prom-client";
import { createApp, type AppOptions, type ServiceApps } from "../../../service/app";

export interface TestApp extends ServiceApps {
  registry: Registry;
}

export function makeApp(overrides: Partial<AppOptions> = {}): TestApp {
  const registry = new Registry();
  const apps = createApp({
    serviceName: "swiftdeploy",
    version: "1.2.3",
    mode: "canary",
    hostname: "test-host",
    registry,
    // Process metrics are tested once; elsewhere they would only add observers per test app.
    defaultMetrics: false,
    ...overrides,
  });
  return { ...apps, registry };
}

export interface Sample {
  labels: Record<string, string | number>;
  value: number;
}

/** The current samples of one metric, read from the registry (not parsed from text). */
export async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return values.map(({ labels, value }) => ({ labels: labels as Sample["labels"], value }));
}

/** http_requests_total as "METHOD path status" -> count. */
export async function requestCounts(registry: Registry): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { labels, value } of await samples(registry, "http_requests_total")) {
    counts[`${labels.method} ${labels.path} ${labels.status_code}`] = value;
  }
  return counts;
}
