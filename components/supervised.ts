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
 * Resource options of the app's containers. Docker cannot change a running container's healthcheck or
 * tmpfs mounts, and the provider's in-place update only records the new ones in state: replace the
 * container instead, so an edit really takes effect. (Both are part of the app's generation, so a change
 * starts new containers under new names anyway; this only guards a replacement the engine would force.)
 */
export const SUPERVISED_OPTIONS = { replaceOnChanges: ["healthcheck", "tmpfs"] };

/**
 * Resource options of a container with a fixed name that holds something only one container can hold: OPA's
 * socket path, nginx's host port. Its successor cannot start while it runs, so it goes first.
 */
export const SINGLETON_OPTIONS = { ...SUPERVISED_OPTIONS, deleteBeforeReplace: true };

/** Memory and process limits of one container (manifest keys for the app and nginx, fixed for OPA). */
export interface ContainerLimits {
  /** Memory in MB, swap included (none beyond it). */
  memoryMb: number;
  /** Processes and threads, the healthcheck's and `docker exec`'s included (components/pids-limit.ts). */
  pidsLimit: number;
}

/**
 * The least a container runs with. Every Linux capability is dropped but the ones `keep` names, each with
 * the reason it is needed; no process can gain privileges (setuid binaries, file capabilities); the root
 * filesystem is read-only and only the `writable` paths (tmpfs) can be written; logs rotate.
 */
export interface Lockdown {
  /** uid:gid every process runs as; the images' own users (or the user running Pulumi, for OPA). */
  user: string;
  /** Capabilities kept, by Docker's name (e.g. NET_BIND_SERVICE), each with the reason. */
  keep: Record<string, string>;
  /** tmpfs mounts on the read-only root: path → mount options (size, owner, mode). */
  writable: Record<string, string>;
}

/** At most 3 log files of 10 MB per container: nginx's access log and OPA's decision log included. */
export const LOG_ROTATION = { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } };

/**
 * Docker 20.10 stores the option as given and applies both spellings; `docker inspect` shows this one, so a
 * reader (and the lockdown test) sees what it means.
 */
export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/** The app: Node as the image's user (service/Dockerfile). It writes nothing to disk. */
export const APP_LOCKDOWN: Lockdown = {
  user: "10001:10001",
  // None: it only listens, and Docker (>= 20.10) opens every port of a container's own network namespace to
  // unprivileged users (net.ipv4.ip_unprivileged_port_start=0), so even a port below 1024 needs no
  // NET_BIND_SERVICE.
  keep: {},
  writable: {},
};

/** nginx's uid:gid, made by its image (components/images/nginx/Dockerfile). */
export const NGINX_USER = "10002:10002";
const NGINX_TMPFS = "rw,noexec,nosuid,nodev,uid=10002,gid=10002";

/**
 * nginx, master included, as its image's unprivileged user: it listens on 8080 and reads a config anyone may
 * read, so it needs no root (a root master would need SETUID and SETGID to start its workers as another
 * user, and CHOWN for its temp folders). It writes its pid file and the link to the config it serves in
 * /run, and buffers large request and response bodies in /var/lib/nginx (Debian's compiled-in temp paths).
 */
export const NGINX_LOCKDOWN: Lockdown = {
  user: NGINX_USER,
  keep: {},
  writable: {
    "/run": `${NGINX_TMPFS},size=1m,mode=0755`,
    "/var/lib/nginx": `${NGINX_TMPFS},size=32m,mode=0700`,
  },
};

/**
 * OPA as the user running Pulumi, so the socket it creates in the mounted folder is that user's (the
 * folder is theirs and 0700): unprivileged unless Pulumi itself runs as root, and then root without a
 * single capability. It needs none: it removes a stale socket and sets the folder's mode as the folder's
 * owner, and listens on a Unix socket only. Its start writes the policies into /policies
 * (components/opa.ts opaContainerCommand), which only that user may read.
 */
export function opaLockdown(user: string): Lockdown {
  const [uid, gid] = user.split(":");
  return {
    user,
    keep: {},
    writable: { "/policies": `rw,noexec,nosuid,nodev,uid=${uid},gid=${gid},size=4m,mode=0700` },
  };
}

/**
 * The container args of a locked-down container. Memory swap equals memory: the limit is the whole of
 * what the container may use (Docker's default would add as much swap again).
 */
export function lockedDown(lockdown: Lockdown, limits: ContainerLimits) {
  const adds = Object.keys(lockdown.keep).sort();
  return {
    user: lockdown.user,
    capabilities: adds.length > 0 ? { drops: ["ALL"], adds } : { drops: ["ALL"] },
    securityOpts: [NO_NEW_PRIVILEGES],
    readOnly: true,
    ...(Object.keys(lockdown.writable).length > 0 ? { tmpfs: lockdown.writable } : {}),
    memory: limits.memoryMb,
    memorySwap: limits.memoryMb,
    ...LOG_ROTATION,
  };
}
