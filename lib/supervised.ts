/**
 * What every SwiftDeploy container shares: a healthcheck, a restart policy, and Pulumi waiting for the
 * container to be healthy before the step counts as done. Docker (20.10) runs the first probe one interval
 * after start, and `pulumi up` waits for it, so the interval is short and the probes are cheap (curl).
 * Every field is set: one left out would be read back from the image's HEALTHCHECK (the app image sets a
 * start period), and every `pulumi up` would then see a difference to undo.
 */
export function supervised(probe: string[]) {
  return {
    healthcheck: { tests: ["CMD", ...probe], interval: "1s", timeout: "2s", startPeriod: "1s", retries: 30 },
    restart: "unless-stopped",
    wait: true,
    waitTimeout: 60,
  };
}

/**
 * Docker cannot change a running container's healthcheck, and the provider's in-place update only records
 * the new one in state: replace the container instead, so an edited healthcheck really takes effect.
 */
export const SUPERVISED_REPLACE_ON_CHANGES = ["healthcheck"];
