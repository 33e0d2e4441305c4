/**
 * What every SwiftDeploy container shares: a healthcheck running `probe` every 2 s, a restart policy, and
 * Pulumi waiting for the container to be healthy before the step counts as done.
 */
export function supervised(probe: string[]) {
  return {
    healthcheck: { tests: ["CMD", ...probe], interval: "2s", timeout: "2s", startPeriod: "1s", retries: 15 },
    restart: "unless-stopped",
    wait: true,
    waitTimeout: 60,
  };
}
