// Stand-ins for gates/infrastructure.ts and gates/canary.ts in the program's unit tests (vi.doMock).
// The real gates are pulumi.dynamic.Resource: their constructor serializes the provider's closure
// (pulumi.runtime.serializeFunction). Under vitest the modules are Vite-transformed, and that fails
// ("Error serializing '() => provider' ... function 'HideStackFramesError'", tried here): the gates and
// everything that depends on them never register, and the test waits until its timeout. Under mocks the
// provider would never run anyway (PULUMI-NOTES "Testing"; the gates' logic has its own tests). These
// plain CustomResources register the type token the engine would see and the same inputs, minus the
// serialized `__provider`, so the tests still assert what the program hands the gates.
import * as pulumi from "@pulumi/pulumi";
import type { CanaryGateArgs } from "../../../gates/canary";
import type { InfrastructureGateArgs } from "../../../gates/infrastructure";

export class InfrastructureGate extends pulumi.CustomResource {
  declare public readonly verdict: pulumi.Output<unknown>;

  constructor(name: string, args: InfrastructureGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "pulumi-nodejs:dynamic/swiftdeploy:InfrastructureGate",
      name,
      { ...args, verdict: undefined },
      opts,
    );
  }
}

export class CanaryGate extends pulumi.CustomResource {
  declare public readonly mode: pulumi.Output<string>;
  declare public readonly verdict: pulumi.Output<unknown>;

  constructor(name: string, args: CanaryGateArgs, opts?: pulumi.CustomResourceOptions) {
    super("pulumi-nodejs:dynamic/swiftdeploy:CanaryGate", name, { ...args, verdict: undefined }, opts);
  }
}

/** Only called in preview; the tests run the program as an update, where it must not be called. */
export async function previewInfrastructureVerdict(): Promise<void> {
  throw new Error("previewInfrastructureVerdict called outside a preview");
}
