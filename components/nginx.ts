import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { SUPERVISED_OPTIONS, supervised } from "./supervised";
import { Readiness } from "./readiness";

export interface NginxArgs {
  /** Docker name of the nginx container. */
  containerName: string;
  /** Docker name (repository) of the nginx image. */
  imageName: string;
  /** Build context: Dockerfile with Debian's nginx. */
  buildContext: string;
  /** Content hash of the build context; a change rebuilds the image. */
  imageHash: string;
  /** The rendered nginx.conf. */
  config: string;
  /** Host file holding the rendered config, for `nginx -t`. */
  configFile: string;
  /** The public network shared with the app. */
  publicNetwork: pulumi.Input<string>;
  /** Host address and port the ingress is published on. */
  bind: string;
  port: number;
  /** Port nginx listens on inside the container (the template's listen_port). */
  listenPort: number;
  /** The public URL as the host reaches it (127.0.0.1 for a 0.0.0.0 bind). */
  publicUrl: string;
}

/** nginx's own health route (templates/nginx.conf.liquid), answered by nginx without the app. */
const NGINX_HEALTH_PATH = "/nginx-health";

/** The ingress: Debian's nginx with the rendered config, checked with `nginx -t` before it is (re)created. */
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

    // The very nginx that will serve the config checks it, in a throwaway container with no network.
    const configTest = new command.local.Command(
      `${name}-config-test`,
      {
        create: pulumi.interpolate`docker run --rm --network none -v "${args.configFile}:/etc/nginx/nginx.conf:ro" ${image.imageId} nginx -t -q`,
        triggers: [args.config, image.imageId],
        logging: "stderr",
      },
      { parent: this },
    );

    this.container = new docker.Container(
      `${name}-server`,
      {
        name: args.containerName,
        image: image.imageId,
        networksAdvanced: [{ name: args.publicNetwork }],
        ports: [{ internal: args.listenPort, external: args.port, ip: args.bind }],
        uploads: [{ file: "/etc/nginx/nginx.conf", content: args.config }],
        ...supervised(nginxHealthProbe(args.listenPort)),
      },
      { parent: this, dependsOn: [configTest], ...SUPERVISED_OPTIONS },
    );

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
