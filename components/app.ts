import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { appEnvironment } from "../lib/app-environment";
import type { Mode } from "../lib/modes";
import { SUPERVISED_OPTIONS, supervised } from "./supervised";
import { Readiness } from "./readiness";

export interface AppArgs {
  /** Docker name of replica i's container. */
  containerName: (replica: number) => string;
  /** Image name with tag, e.g. swiftdeploy-dev/swiftdeploy-app:1.0.0. */
  imageName: string;
  /** The service folder (Dockerfile + bundled dist/server.js). */
  buildContext: string;
  /** Hash of the bundle and Dockerfile; a change rebuilds the image. */
  imageHash: pulumi.Input<string>;
  replicas: number;
  /** The public network shared with nginx. */
  publicNetwork: pulumi.Input<string>;
  /** Name every replica answers to on the public network (nginx proxies to it). */
  networkAlias: string;
  /** The app's public port inside the container. */
  port: number;
  /** The admin listener's port inside the container. */
  adminPort: number;
  /** Host ports on 127.0.0.1 for each replica's admin listener. */
  adminHostPorts: number[];
  /** canary or stable: in the container's environment, so a promotion replaces the containers. */
  mode: pulumi.Input<Mode>;
  serviceName: string;
  version: string;
  chaosEnabled: boolean;
}

/** The app: an image built from service/ and one container per replica on the public network. */
export class App extends pulumi.ComponentResource {
  public readonly containers: docker.Container[];
  public readonly image: docker.RemoteImage;
  /** Done when every replica answers /healthz on its admin port. */
  public readonly ready: Readiness;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:App", name, {}, opts);

    this.image = new docker.RemoteImage(
      `${name}-image`,
      { name: args.imageName, build: { context: args.buildContext }, triggers: { build: args.imageHash } },
      { parent: this },
    );

    this.containers = args.adminHostPorts.map(
      (hostPort, replica) =>
        new docker.Container(
          `${name}-${replica}`,
          {
            name: args.containerName(replica),
            image: this.image.imageId,
            envs: containerEnvironment(args),
            networksAdvanced: [{ name: args.publicNetwork, aliases: [args.networkAlias] }],
            ports: [{ internal: args.adminPort, external: hostPort, ip: "127.0.0.1" }],
            ...supervised(appHealthProbe(args.port)),
          },
          { parent: this, ...SUPERVISED_OPTIONS },
        ),
    );

    this.ready = new Readiness(
      `${name}-ready`,
      {
        probes: args.adminHostPorts.map((hostPort, replica) => ({
          name: `${name}-${replica}`,
          url: `http://127.0.0.1:${hostPort}/healthz`,
        })),
        containers: this.containers,
      },
      { parent: this },
    );

    this.registerOutputs({ image: this.image.name, containers: this.containers.map((c) => c.name) });
  }
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
