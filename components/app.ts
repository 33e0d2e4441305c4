import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { appEnvironment } from "../lib/app-environment";
import type { Mode } from "../lib/modes";
import type { ScrapeTargetGroup } from "./ingress-config-provider";
import { Readiness } from "./readiness";
import { SUPERVISED_OPTIONS, supervised } from "./supervised";

export interface AppArgs {
  /** The generation of the containers (program/plan.ts appGeneration): part of their names and alias. */
  generation: string;
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
  /** The public network shared with nginx. */
  publicNetwork: pulumi.Input<string>;
  /** The app's public port inside the container. */
  port: number;
  /** The admin listener's port inside the container; Docker picks its host port on 127.0.0.1. */
  adminPort: number;
  /** canary or stable: in the container's environment, so a promotion starts a new generation. */
  mode: pulumi.Input<Mode>;
  serviceName: string;
  version: string;
  chaosEnabled: boolean;
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
  /** The containers' Docker names: nginx proxies to them by name once they are ready. */
  public readonly containerNames: string[];
  public readonly image: docker.RemoteImage;
  /** Each replica's admin listener as the host reaches it: http://127.0.0.1:<port Docker picked>. */
  public readonly adminUrls: pulumi.Output<string[]>;
  /** The admin listeners as Prometheus file_sd groups, one per replica. */
  public readonly scrapeTargets: pulumi.Output<ScrapeTargetGroup[]>;
  /** Done when every replica answers /healthz on its admin port. */
  public readonly ready: Readiness;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:App", name, {}, opts);

    // One image resource per build, tagged <version>-<content hash>: a new build is a new resource, and the
    // old one (after the containers that use it) is removed only at the end.
    const tag = `${args.imageName}-${args.imageHash.slice(0, 8)}`;
    this.image = new docker.RemoteImage(
      // Named after its whole tag: an input that changed in place would replace the image, and with it,
      // first, every container that runs it.
      `${name}-image-${tag.slice(tag.lastIndexOf(":") + 1)}`,
      { name: tag, build: { context: args.buildContext } },
      { parent: this },
    );

    const labels = { ...args.labels, "swiftdeploy.generation": args.generation };
    this.containerNames = Array.from({ length: args.replicas }, (_, i) =>
      args.containerName(args.generation, i),
    );
    this.containers = Array.from({ length: args.replicas }, (_, replica) => {
      const replicaLabels = { ...labels, "swiftdeploy.replica": String(replica) };
      return new docker.Container(
        `${name}-${args.generation}-${replica}`,
        {
          name: this.containerNames[replica],
          image: this.image.imageId,
          envs: containerEnvironment(args),
          labels: Object.entries(replicaLabels).map(([label, value]) => ({ label, value })),
          networksAdvanced: [{ name: args.publicNetwork }],
          // No external port: Docker picks a free one, so a new generation never waits for an old one's.
          ports: [{ internal: args.adminPort, ip: "127.0.0.1" }],
          ...supervised(appHealthProbe(args.port)),
        },
        { parent: this, ...SUPERVISED_OPTIONS },
      );
    });

    const hostPorts = pulumi.all(this.containers.map((c) => c.ports.apply((ports) => adminHostPort(ports))));
    this.adminUrls = hostPorts.apply((ports) => ports.map((port) => `http://127.0.0.1:${port}`));
    this.scrapeTargets = hostPorts.apply((ports) =>
      ports.map((port, replica) => ({
        targets: [`127.0.0.1:${port}`],
        labels: prometheusLabels({ ...labels, "swiftdeploy.replica": String(replica) }),
      })),
    );

    this.ready = new Readiness(
      `${name}-ready`,
      {
        probes: this.adminUrls.apply((urls) =>
          urls.map((url, replica) => ({ name: `${name}-${replica}`, url: `${url}/healthz` })),
        ),
        containers: this.containers,
      },
      { parent: this },
    );

    this.registerOutputs({ image: this.image.name, adminUrls: this.adminUrls });
  }
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

/** The host port Docker published the admin listener on. */
function adminHostPort(ports: docker.types.output.ContainerPort[] | undefined): number {
  const port = ports?.[0]?.external;
  if (!port)
    throw new Error(`the app container reports no published admin port (ports: ${JSON.stringify(ports)})`);
  return port;
}

/** The service's environment (service/config.ts validates it at start). */
function containerEnvironment(args: AppArgs): pulumi.Output<string[]> {
  return pulumi.output(args.mode).apply((mode) =>
    appEnvironment({
      serviceName: args.serviceName,
      version: args.version,
      mode,
      appPort: args.port,
      adminPort: args.adminPort,
      chaosEnabled: args.chaosEnabled,
    }),
  );
}

/** The app's healthcheck command (also the bench's Compose baseline): /healthz on its public listener. */
export function appHealthProbe(port: number): string[] {
  return ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${port}/healthz`];
}
