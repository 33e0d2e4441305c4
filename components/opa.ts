import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { SUPERVISED_OPTIONS, supervised } from "./supervised";
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
}

const SOCKET_IN_CONTAINER = "/run/opa/opa.sock";

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
        user: args.user,
        // A socket left by a previous container would make OPA's listen fail.
        command: ["/bin/sh", "-c", `rm -f ${SOCKET_IN_CONTAINER} && exec opa ${opaRunArgs().join(" ")}`],
        networksAdvanced: [{ name: args.internalNetwork }],
        volumes: [{ hostPath: args.socketDir, containerPath: path.dirname(SOCKET_IN_CONTAINER) }],
        uploads: args.policyFiles.map((f) => ({ file: `/policies/${f.name}`, content: f.content })),
        ...supervised(opaHealthProbe(SOCKET_IN_CONTAINER)),
      },
      { parent: this, dependsOn: [policyTests], ...SUPERVISED_OPTIONS },
    );

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

/** `opa run` as a server on the Unix socket only, with decision logs (every answer has a decision_id). */
export function opaRunArgs(): string[] {
  return [
    "run",
    "--server",
    "--addr",
    `unix://${SOCKET_IN_CONTAINER}`,
    "--set",
    "decision_logs.console=true",
    "/policies",
  ];
}

/** OPA's healthcheck command (also the bench's Compose baseline): /health over its socket. */
export function opaHealthProbe(socket: string): string[] {
  return ["curl", "-fsS", "--unix-socket", socket, "http://opa/health"];
}
