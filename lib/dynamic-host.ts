// The process that runs the stack's dynamic resources (gates, readiness probes): Pulumi's dynamic-provider
// host (plugin pulumi-resource-pulumi-nodejs), declared as an explicit provider. Left to the engine, it
// would start when the first of them registers, after OPA is up, and its ~0.5 s start-up would sit on the
// path of every `pulumi up`; declared first (index.ts), it starts while the program is still evaluated.
import * as pulumi from "@pulumi/pulumi";

export class DynamicHost extends pulumi.ProviderResource {
  constructor(name: string, opts?: pulumi.ResourceOptions) {
    super("pulumi-nodejs", name, {}, opts);
  }
}

/**
 * Resolves once the SDK has had the turn of the event loop it needs to send the registrations declared so
 * far, so the engine works on them while the caller goes on with synchronous work.
 */
export function afterRegistrationsSent(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}
