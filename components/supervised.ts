/**
 * What every SwiftDeploy container shares: a healthcheck and a restart policy. Docker's healthcheck is the
 * steady-state supervisor (`docker ps`, the dashboard); each probe is an exec into the container, ~50 ms of
 * CPU on the Docker side here, so the interval is relaxed. `pulumi up` does not wait on Docker's status
 * (20.10 runs the first probe one interval after start): components/readiness.ts probes the same routes
 * from the host instead.
 * Every healthcheck field is set: one left out would be read back from the image's HEALTHCHECK (the app
 * image sets a start period), and every `pulumi up` would then see a difference to undo.
 */
export const HEALTHCHECK = { interval: "5s", timeout: "2s", startPeriod: "10s", retries: 3 };

export function supervised(probe: string[]) {
  return {
    healthcheck: { tests: ["CMD", ...probe], ...HEALTHCHECK },
    restart: "unless-stopped",
  };
}

/**
 * Resource options of every container. Docker cannot change a running container's healthcheck, and the
 * provider's in-place update only records the new one in state: replace the container instead, so an
 * edited healthcheck really takes effect. Container names are fixed (program/names.ts), so the old container
 * goes before its replacement is created; the provider asks for that itself only for the changes it
 * replaces on, not for a replacement the engine forces.
 */
export const SUPERVISED_OPTIONS = { replaceOnChanges: ["healthcheck"], deleteBeforeReplace: true };
