import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { appEnvironment } from "../lib/app-environment";
import type { Mode } from "../lib/modes";
import type { AdminListener } from "./ingress-config-provider";
import { limitPids } from "./pids-limit";
import { Readiness } from "./readiness";
import { APP_LOCKDOWN, lockedDown, SUPERVISED_OPTIONS, supervised } from "./supervised";

export interface AppArgs {
  /** Docker name of replica i of a generation. */
  containerName: (generation: string, replica: number) => string;
  /** Labels every container carries (stack, role), for Docker's filters and the gates. */
  labels: Record<string, string>;
  /** Image name with the version's tag, e.g. swiftdeploy-dev/swiftdeploy-app:1.0.0. */
  imageName: string;
  /** The service folder (Dockerfile + bundled dist/server.js). */
  buildContext: string;
  /** Hash of the bundle and Dockerfile: the image is tagged with it, a change builds a new image. */
  imageHash: string;
  replicas: number;
  /** The public network shared with nginx (its name as the network resource outputs it: a dependency). */
  publicNetwork: pulumi.Input<string>;
  /** The same network's name as the plan has it, for the generation. */
  publicNetworkName: string;
  /** The app's public port inside the container. */
  port: number;
  /** The admin listener's port inside the container; Docker picks its host port on 127.0.0.1. */
  adminPort: number;
  /** The mode the containers run: the canary gate's output (it changes only once the gate allowed it). */
  mode: pulumi.Input<Mode>;
  /** The mode the stack config asks for, for the generation: the gate lets through this one or none. */
  plannedMode: Mode;
  serviceName: string;
  version: string;
  chaosEnabled: boolean;
  /** Each container's memory limit in MB (manifest app.memory_mb). */
  memoryMb: number;
  /** Each container's limit of processes and threads (manifest app.pids_limit). */
  pidsLimit: number;
}

/**
 * The app: an image built from service/ and one container per replica on the public network. Containers
 * are named by generation: a change starts a new generation beside the running one (scaling adds or
 * removes replicas of it), which nginx keeps serving until the new containers are ready and rotated in
 * (components/ingress-config.ts); containers that left the program are removed by the engine last, each
 * drained by a stop grace (components/supervised.ts).
 */
export class App extends pulumi.ComponentResource {
  public readonly containers: docker.Container[];
  /** A hash of everything the containers are made of (appGeneration): part of their names. */
  public readonly generation: string;
  /** The containers' Docker names: nginx proxies to them by name once they are ready. */
  public readonly containerNames: string[];
  public readonly image: docker.RemoteImage;
  /**
   * Each replica's admin listener: the container port Docker publishes on 127.0.0.1, at a host port it picks
   * again at every restart, so whoever needs the URL asks the engine (components/ingress-config.ts writes
   * them for Prometheus and the stack's outputs).
   */
  public readonly adminListeners: AdminListener[];
  /** Done when every replica answers /healthz on its admin port. */
  public readonly ready: Readiness;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:App", name, {}, opts);

    // One image resource per build, tagged <version>-<content hash>: a new build is a new resource, and the
    // old one (after the containers that use it) is removed only at the end.
    const tag = appImageTag(args);
    this.image = new docker.RemoteImage(
      // Named after its whole tag: an input that changed in place would replace the image, and with it,
      // first, every container that runs it.
      `${name}-image-${tag.slice(tag.lastIndexOf(":") + 1)}`,
      { name: tag, build: { context: args.buildContext } },
      { parent: this },
    );

    this.generation = appGeneration(args);
    const labels = { ...args.labels, "swiftdeploy.generation": this.generation };
    this.containerNames = Array.from({ length: args.replicas }, (_, i) =>
      args.containerName(this.generation, i),
    );
    this.containers = Array.from({ length: args.replicas }, (_, replica) => {
      const replicaLabels = { ...labels, "swiftdeploy.replica": String(replica) };
      return new docker.Container(
        `${name}-${this.generation}-${replica}`,
        {
          name: this.containerNames[replica],
          ...containerSpec(args, {
            image: this.image.imageId,
            envs: containerEnvironment(args),
            network: args.publicNetwork,
            labels: replicaLabels,
          }),
        },
        { parent: this, ...SUPERVISED_OPTIONS },
      );
    });
    this.containers.forEach((container, replica) =>
      limitPids(`${name}-${this.generation}-${replica}`, container, args.pidsLimit, this),
    );

    this.adminListeners = this.containerNames.map((container, replica) => ({
      container,
      port: args.adminPort,
      labels: prometheusLabels({ ...labels, "swiftdeploy.replica": String(replica) }),
    }));

    this.ready = new Readiness(
      `${name}-ready`,
      {
        probes: this.adminListeners.map(({ container, port }, replica) => ({
          name: `${name}-${replica}`,
          url: "http://127.0.0.1/healthz",
          published: { container, port },
        })),
        containers: this.containers,
      },
      { parent: this },
    );

    this.registerOutputs({ image: this.image.name, containers: this.containerNames });
  }
}

/** What a container gets besides its name, given its image, environment, network and labels. */
interface SpecParts {
  image: pulumi.Input<string>;
  envs: pulumi.Input<string[]>;
  network: pulumi.Input<string>;
  labels: Record<string, string>;
}

/**
 * Every input of an app container but its name. The containers are declared from it, and their generation
 * is a hash of it (with plain values for the image, environment and network), so no input can change
 * without starting a new generation: a container whose inputs changed under the same name would be
 * replaced in place, and having an explicit name, removed first.
 */
function containerSpec(args: AppArgs, parts: SpecParts) {
  return {
    image: parts.image,
    envs: parts.envs,
    labels: Object.entries(parts.labels).map(([label, value]) => ({ label, value })),
    networksAdvanced: [{ name: parts.network }],
    // No external port: Docker picks a free one, so a new generation never waits for an old one's.
    ports: [{ internal: args.adminPort, ip: "127.0.0.1" }],
    ...supervised(appHealthProbe(args.port)),
    ...lockedDown(APP_LOCKDOWN, { memoryMb: args.memoryMb, pidsLimit: args.pidsLimit }),
  };
}

/**
 * The generation of the app's containers: 8 hex digits of a hash of their spec, the image by its tag
 * (<version>-<content hash>), the environment with the mode the config asks for. Not the replica count:
 * scaling adds or removes replicas of the running generation. Its pids limit (components/pids-limit.ts)
 * is in the spec too.
 */
export function appGeneration(args: AppArgs): string {
  const spec = containerSpec(args, {
    image: appImageTag(args),
    envs: appEnvironment(environmentOf(args, args.plannedMode)),
    network: args.publicNetworkName,
    labels: args.labels,
  });
  return createHash("sha256")
    .update(JSON.stringify({ spec, pidsLimit: args.pidsLimit }))
    .digest("hex")
    .slice(0, 8);
}

/** The app image's tag: the version's, and the content hash of the bundle and Dockerfile. */
function appImageTag(args: AppArgs): string {
  return `${args.imageName}-${args.imageHash.slice(0, 8)}`;
}

/** Docker's labels as Prometheus label names (no dots): swiftdeploy.stack → stack. */
function prometheusLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [
      k.replace(/^swiftdeploy\./, "").replace(/[^a-zA-Z0-9_]/g, "_"),
      v,
    ]),
  );
}

/** The service's environment (service/config.ts validates it at start), in the mode the gate let through. */
function containerEnvironment(args: AppArgs): pulumi.Output<string[]> {
  return pulumi.output(args.mode).apply((mode) => appEnvironment(environmentOf(args, mode)));
}

function environmentOf(args: AppArgs, mode: Mode) {
  return {
    serviceName: args.serviceName,
    version: args.version,
    mode,
    appPort: args.port,
    adminPort: args.adminPort,
    chaosEnabled: args.chaosEnabled,
  };
}

/** The app's healthcheck command (also the bench's Compose baseline): /healthz on its public listener. */
export function appHealthProbe(port: number): string[] {
  return ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${port}/healthz`];
}
