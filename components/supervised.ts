import { CONTAINER_STOP_GRACE_S } from "../lib/drain";

/**
 * What every SwiftDeploy container shares: a healthcheck, a restart policy and a stop grace. Docker's healthcheck is the
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
    // How it leaves: SIGTERM (nginx: SIGQUIT), then this long before SIGKILL, on `pulumi up` (an old
    // generation), `pulumi destroy` and `docker stop` alike (lib/drain.ts says why it is this long).
    destroyGraceSeconds: CONTAINER_STOP_GRACE_S,
    stopTimeout: CONTAINER_STOP_GRACE_S,
  };
}

/**
 * Resource options of the app's containers. Docker cannot change a running container's healthcheck, and the
 * provider's in-place update only records the new one in state: replace the container instead, so an
 * edited healthcheck really takes effect. (The healthcheck is part of the app's generation, so a change
 * starts new containers under new names anyway; this only guards a replacement the engine would force.)
 */
export const SUPERVISED_OPTIONS = { replaceOnChanges: ["healthcheck"] };

/**
 * Resource options of a container with a fixed name that holds something only one container can hold: OPA's
 * socket path, nginx's host port. Its successor cannot start while it runs, so it goes first.
 */
export const SINGLETON_OPTIONS = { ...SUPERVISED_OPTIONS, deleteBeforeReplace: true };
