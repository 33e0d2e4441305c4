import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface NetworkPairArgs {
  /** Docker name of the network nginx and the app share. */
  publicName: string;
  /** Docker name of OPA's network: internal (no egress, no published ports) and joined by nothing else. */
  internalName: string;
}

/** The two Docker networks of a stack: a public one for nginx and the app, an internal one for OPA alone. */
export class NetworkPair extends pulumi.ComponentResource {
  public readonly publicNetwork: docker.Network;
  public readonly internalNetwork: docker.Network;

  constructor(name: string, args: NetworkPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swiftdeploy:index:NetworkPair", name, {}, opts);
    this.publicNetwork = new docker.Network(`${name}-public`, { name: args.publicName }, { parent: this });
    this.internalNetwork = new docker.Network(
      `${name}-internal`,
      { name: args.internalName, internal: true },
      { parent: this },
    );
    this.registerOutputs({
      publicNetwork: this.publicNetwork.name,
      internalNetwork: this.internalNetwork.name,
    });
  }
}
