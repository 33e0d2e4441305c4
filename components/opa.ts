import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { limitPids } from "./pids-limit";
import { lockedDown, opaLockdown, SINGLETON_OPTIONS, supervised } from "./supervised";
import { Readiness } from "./readiness";

export interface OpaServerArgs {
  /** Docker name of the OPA container. */
  containerName: string;
  /** Docker name (repository) of the OPA image. */
  imageName: string;
  /** Build context prepared by the program: Dockerfile + the opa binary setup built. */
  buildContext: string;
  /** Content hash of the build context; a change rebuilds the image. */
  imageHash: string;
  /** The internal network, OPA's only network. */
  internalNetwork: pulumi.Input<string>;
  /** The policies/ folder: `opa check --strict` and `opa test` run on it before OPA serves it. */
  policiesDir: string;
  /** The policy and data files OPA serves (tests excluded), uploaded into the container. */
  policyFiles: { name: string; content: string }[];
  /** Content hash of policies/; a change re-runs the policy tests. */
  policiesHash: string;
  /** The host folder mounted at /run/opa; OPA's REST API listens on opa.sock in it. */
  socketDir: string;
  /** The opa binary on the host, for the policy tests. */
  opaBinary: string;
  /** uid:gid OPA runs as, so the socket belongs to the user running Pulumi. */
  user: string;
  /** Labels the container carries (stack, role), for Docker's filters and the recovery. */
  labels: Record<string, string>;
  /** Memory limit in MB. */
  memoryMb: number;
  /** Limit of processes and threads. */
  pidsLimit: number;
}

const SOCKET_IN_CONTAINER = "/run/opa/opa.sock";
const POLICIES_IN_CONTAINER = "/policies";

/**
 * The OPA server: reachable from nothing on any network (its only network is internal, it publishes no
 * port); the host talks to it through a Unix socket in the stack's state folder.
 */
export class OpaServer extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Host path of the REST API's Unix socket. */
  public readonly socketPath: string;
  /** Done when OPA answers /health on the socket. */
  public readonly ready: Readiness;

  constructor(name: string, args: OpaServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:OpaServer", name, {}, opts);
    this.socketPath = path.join(args.socketDir, "opa.sock");

    const policyTests = new command.local.Command(
      `${name}-policy-tests`,
      {
        create: `"${args.opaBinary}" check --strict . && "${args.opaBinary}" test .`,
        dir: args.policiesDir,
        triggers: [args.policiesHash],
        logging: "stderr",
      },
      { parent: this },
    );

    const image = new docker.RemoteImage(
      `${name}-image`,
      {
        name: args.imageName,
        build: { context: args.buildContext },
        triggers: { context: args.imageHash },
      },
      { parent: this },
    );

    this.container = new docker.Container(
      `${name}-server`,
      {
        name: args.containerName,
        image: image.imageId,
        // The policies travel in the command (an edit replaces the container, as any change of it does).
        command: opaContainerCommand(SOCKET_IN_CONTAINER, POLICIES_IN_CONTAINER, args.policyFiles),
        networksAdvanced: [{ name: args.internalNetwork }],
        volumes: [{ hostPath: args.socketDir, containerPath: path.dirname(SOCKET_IN_CONTAINER) }],
        labels: Object.entries(args.labels).map(([label, value]) => ({ label, value })),
        ...supervised(opaHealthProbe(SOCKET_IN_CONTAINER)),
        ...lockedDown(opaLockdown(args.user), { memoryMb: args.memoryMb, pidsLimit: args.pidsLimit }),
      },
      { parent: this, dependsOn: [policyTests], ...SINGLETON_OPTIONS },
    );
    limitPids(`${name}-server`, this.container, args.pidsLimit, this);

    this.ready = new Readiness(
      `${name}-ready`,
      {
        probes: [{ name, url: "http://opa/health", socketPath: this.socketPath }],
        containers: [this.container],
      },
      { parent: this },
    );

    this.registerOutputs({ socketPath: this.socketPath, container: this.container.name });
  }
}

/**
 * `opa run` as a server on the Unix socket only, with decision logs (every answer has a decision_id), and
 * with OPA's own authorization: `system.authz` (policies/authz.rego, loaded with the other policies at
 * start) lets through `GET /health` and `POST` to the gates' decisions and refuses everything else with
 * 401, writes of data and policies included. The socket itself is the owner's only (0600).
 */
export function opaRunArgs(socket = SOCKET_IN_CONTAINER, policiesDir = POLICIES_IN_CONTAINER): string[] {
  return [
    "run",
    "--server",
    "--addr",
    `unix://${socket}`,
    "--authorization=basic",
    "--unix-socket-perm",
    "0600",
    "--set",
    "decision_logs.console=true",
    policiesDir,
  ];
}

/** Linux's limit on one argument of a command (MAX_ARG_STRLEN): a policy file travels as one. */
const LARGEST_ARGUMENT = 128 * 1024 - 1;

/**
 * The OPA container's command: remove a socket a previous container left (OPA's listen would fail on it),
 * make the socket folder the owner's only (0700: the host folder is mounted, and OPA runs as the user
 * who runs Pulumi, its owner), write the policy files given after the script into `policiesDir`, then run
 * OPA. The container's root filesystem is read-only and `policiesDir` a tmpfs: the Docker provider's
 * `uploads` copy through "/", which Docker refuses on a read-only root. (The bench's Compose baseline mounts
 * the files instead and passes none.)
 */
export function opaContainerCommand(
  socket = SOCKET_IN_CONTAINER,
  policiesDir = POLICIES_IN_CONTAINER,
  policies: { name: string; content: string }[] = [],
): string[] {
  for (const { name, content } of policies) {
    if (Buffer.byteLength(content) > LARGEST_ARGUMENT)
      throw new Error(
        `policy file ${name} is larger than the ${LARGEST_ARGUMENT} bytes one argument may hold`,
      );
  }
  const quoted = opaRunArgs(socket, policiesDir).map(shellQuote).join(" ");
  const writePolicies = `while [ $# -gt 0 ]; do printf '%s' "$2" >${shellQuote(policiesDir)}/"$1" || exit 1; shift 2; done`;
  return [
    "/bin/sh",
    "-c",
    `rm -f ${shellQuote(socket)} && chmod 0700 ${shellQuote(path.dirname(socket))} && ${writePolicies} && exec opa ${quoted}`,
    "opa-start",
    ...policies.flatMap(({ name, content }) => [name, content]),
  ];
}

/** Paths in tests can hold anything; the container's never need quoting, so they stay readable. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** OPA's healthcheck command (also the bench's Compose baseline): /health over its socket. */
export function opaHealthProbe(socket: string): string[] {
  return ["curl", "-fsS", "--unix-socket", socket, "http://opa/health"];
}
