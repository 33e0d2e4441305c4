import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_DIR_IN_CONTAINER } from "./ingress-config-provider";
import { limitPids } from "./pids-limit";
import { Readiness } from "./readiness";
import { lockedDown, NGINX_LOCKDOWN, SINGLETON_OPTIONS, supervised } from "./supervised";

export interface NginxArgs {
  /** Docker name of the nginx container. */
  containerName: string;
  /** Docker name (repository) of the nginx image. */
  imageName: string;
  /** Build context: Dockerfile with Debian's nginx, the bootstrap config and the start script. */
  buildContext: string;
  /** Content hash of the build context; a change rebuilds the image. */
  imageHash: string;
  /** Host folder holding the config nginx serves, mounted into the container (a folder: renames show). */
  configDir: string;
  /** The public network shared with the app. */
  publicNetwork: pulumi.Input<string>;
  /** Host address and port the ingress is published on. */
  bind: string;
  port: number;
  /** Port nginx listens on inside the container (the template's listen_port). */
  listenPort: number;
  /** The public URL as the host reaches it (127.0.0.1 for a 0.0.0.0 bind). */
  publicUrl: string;
  /** Labels the container carries (stack, role), for Docker's filters and the recovery. */
  labels: Record<string, string>;
  /** Memory limit in MB (manifest ingress.memory_mb). */
  memoryMb: number;
  /** Limit of processes and threads (manifest ingress.pids_limit). */
  pidsLimit: number;
}

/** nginx's own health route (templates/nginx.conf.liquid), answered by nginx without the app. */
export const NGINX_HEALTH_PATH = "/nginx-health";

/**
 * The ingress: Debian's nginx serving the config in a mounted folder. Config changes never replace it: the
 * rollout step (components/ingress-config.ts) tests the new config and reloads it. It is replaced only when
 * its image, ports or healthcheck change, and then first removed: only one container can hold the port.
 */
export class Nginx extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Done when nginx answers /nginx-health on the public port. */
  public readonly ready: Readiness;

  constructor(name: string, args: NginxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:Nginx", name, {}, opts);

    const image = new docker.RemoteImage(
      `${name}-image`,
      { name: args.imageName, build: { context: args.buildContext }, triggers: { context: args.imageHash } },
      { parent: this },
    );

    this.container = new docker.Container(
      `${name}-server`,
      {
        name: args.containerName,
        image: image.imageId,
        networksAdvanced: [{ name: args.publicNetwork }],
        ports: [{ internal: args.listenPort, external: args.port, ip: args.bind }],
        volumes: [{ hostPath: args.configDir, containerPath: CONFIG_DIR_IN_CONTAINER }],
        labels: Object.entries(args.labels).map(([label, value]) => ({ label, value })),
        ...supervised(nginxHealthProbe(args.listenPort)),
        ...lockedDown(NGINX_LOCKDOWN, { memoryMb: args.memoryMb, pidsLimit: args.pidsLimit }),
      },
      { parent: this, ...SINGLETON_OPTIONS },
    );
    limitPids(`${name}-server`, this.container, args.pidsLimit, this);

    this.ready = new Readiness(
      `${name}-ready`,
      {
        probes: [{ name, url: `${args.publicUrl}${NGINX_HEALTH_PATH}` }],
        containers: [this.container],
      },
      { parent: this },
    );

    this.registerOutputs({ container: this.container.name });
  }
}

/** nginx's healthcheck command (also the bench's Compose baseline): its own health route. */
export function nginxHealthProbe(listenPort: number): string[] {
  return ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${listenPort}${NGINX_HEALTH_PATH}`];
}
