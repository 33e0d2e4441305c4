import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { appEnvironment } from "../lib/app-environment";
import { LABEL } from "../lib/labels";
import type { AppSet } from "../lib/release-state";
import type { AdminListener } from "./ingress-config-provider";
import { limitPids } from "./pids-limit";
import { Readiness } from "./readiness";
import { APP_LOCKDOWN, lockedDown, SUPERVISED_OPTIONS, supervised } from "./supervised";

export interface AppArgs {
  /** Docker name of replica i of a generation. */
  containerName: (generation: string, replica: number) => string;
  /** Labels every container carries (stack, role, set, version), for Docker's filters and the gates. */
  labels: Record<string, string>;
  /** The set these containers form: stable, or the canary beside it. Their APP_MODE says it. */
  set: AppSet;
  /** The image's full tag, <repository>:<version>-<content hash> (the release records it). */
  image: string;
  /** The image resource's id: the containers depend on it. */
  imageId: pulumi.Input<string>;
  replicas: number;
  /** The public network shared with nginx (its name as the network resource outputs it: a dependency). */
  publicNetwork: pulumi.Input<string>;
  /** The same network's name as the plan has it, for the generation. */
  publicNetworkName: string;
  /** The app's public port inside the container. */
  port: number;
  /** The admin listener's port inside the container; Docker picks its host port on 127.0.0.1. */
  adminPort: number;
  serviceName: string;
  version: string;
  chaosEnabled: boolean;
  /** Each container's memory limit in MB (manifest app.memory_mb). */
  memoryMb: number;
  /** Each container's limit of processes and threads (manifest app.pids_limit). */
  pidsLimit: number;
}

/**
 * One set of the app (stable or canary): one container per replica on the public network, running the
 * set's image (components/app-image.ts). Containers are named by generation: a change starts a new
 * generation beside the running one (scaling adds or removes replicas of it), which nginx keeps serving
 * until the new containers are ready and rotated in (components/ingress-config.ts); containers that left
 * the program are removed by the engine last, each drained by a stop grace (components/supervised.ts).
 */
export class App extends pulumi.ComponentResource {
  public readonly containers: docker.Container[];
  /** A hash of everything the containers are made of (appGeneration): part of their names. */
  public readonly generation: string;
  /** The containers' Docker names: nginx proxies to them by name once they are ready. */
  public readonly containerNames: string[];
  public readonly set: AppSet;
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
    this.set = args.set;
    this.generation = appGeneration(args);
    const labels = { ...args.labels, [LABEL.generation]: this.generation };
    this.containerNames = Array.from({ length: args.replicas }, (_, i) =>
      args.containerName(this.generation, i),
    );
    this.containers = Array.from({ length: args.replicas }, (_, replica) => {
      const replicaLabels = { ...labels, [LABEL.replica]: String(replica) };
      return new docker.Container(
        `${name}-${this.generation}-${replica}`,
        {
          name: this.containerNames[replica],
          ...containerSpec(args, {
            image: args.imageId,
            envs: appEnvironment(environmentOf(args)),
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
      labels: prometheusLabels({ ...labels, [LABEL.replica]: String(replica) }),
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

    this.registerOutputs({ image: args.image, containers: this.containerNames });
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
 * is a hash of it (with plain values for the image and network), so no input can change
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
 * (<version>-<content hash>), the environment with the set's mode, the labels with the set and version.
 * Not the replica count: scaling adds or removes replicas of the running generation. Its pids limit
 * (components/pids-limit.ts) is in the spec too.
 */
export function appGeneration(args: AppArgs): string {
  const spec = containerSpec(args, {
    image: args.image,
    envs: appEnvironment(environmentOf(args)),
    network: args.publicNetworkName,
    labels: args.labels,
  });
  return createHash("sha256")
    .update(JSON.stringify({ spec, pidsLimit: args.pidsLimit }))
    .digest("hex")
    .slice(0, 8);
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

/** The service's environment (service/config.ts validates it at start): its mode is its set. */
function environmentOf(args: AppArgs) {
  return {
    serviceName: args.serviceName,
    version: args.version,
    mode: args.set,
    appPort: args.port,
    adminPort: args.adminPort,
    chaosEnabled: args.chaosEnabled,
  };
}

/** The app's healthcheck command (also the bench's Compose baseline): /healthz on its public listener. */
export function appHealthProbe(port: number): string[] {
  return ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${port}/healthz`];
}
