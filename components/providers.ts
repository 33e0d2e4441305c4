// The providers the stack declares itself: the process its dynamic resources (gates, readiness probes) run
// in, and the Docker and Command providers, all registered before anything else (index.ts) so that their
// plugins start while the program loads; and the dynamic resources' provider code.
//
// Pulumi's dynamic-provider host (plugin pulumi-resource-pulumi-nodejs) runs a dynamic resource's provider
// from the resource's `__provider` input: the text of a CommonJS module whose `handler()` returns the
// provider object. `pulumi.dynamic.Resource` makes that text with Pulumi's closure serializer, which walks
// the provider's closures through the inspector and parses every function with the TypeScript compiler:
// ~0.3 s of CPU per `pulumi up` here, plus loading TypeScript. HostedResource makes the same kind of module
// with esbuild instead, from the module that exports the provider: ~40 ms in esbuild's own process for all
// of them, the same bytes for the same sources (paths in it are relative to the project), and the provider
// code runs exactly as written. Provider modules import @pulumi/pulumi for types only; everything else they
// use from node_modules is required from the project at run time, as Pulumi's own serializer does.
// Imported by index.ts before the SDK's index is loaded: only the SDK modules the language host has loaded.
import {
  CustomResource,
  ProviderResource,
  type CustomResourceOptions,
  type ResourceOptions,
} from "@pulumi/pulumi/resource";
import { secret, type Inputs } from "@pulumi/pulumi/output";
import { allConfig } from "@pulumi/pulumi/runtime/config";
import * as path from "node:path";

/** The project folder: bundles name provider modules relative to it. */
const PROJECT_DIR = path.resolve(__dirname, "..");

/** Where a provider comes from: a module of the project and the name it exports the provider under. */
export interface ProviderSource {
  /** Absolute path of the module, resolved by the resource from its own folder. */
  file: string;
  exportName: string;
}

/**
 * The provider module beside a resource: `file` resolved from the resource's own folder (`__dirname`), and
 * an export the type checker knows module `M` has, e.g.
 * `providerSource<typeof import("./canary-provider")>(path.join(__dirname, "canary-provider.ts"), "canaryGateProvider")`.
 */
export function providerSource<M>(file: string, exportName: Extract<keyof M, string>): ProviderSource {
  return { file, exportName };
}

const bundles = new Map<string, Promise<string>>();

/** The `__provider` text for a provider: bundled once per program run, shared by every resource using it. */
export function providerModuleText(source: ProviderSource, projectDir = PROJECT_DIR): Promise<string> {
  const key = `${projectDir}\0${source.file}\0${source.exportName}`;
  let text = bundles.get(key);
  if (text === undefined) {
    text = bundleProvider(source, projectDir);
    bundles.set(key, text);
  }
  return text;
}

async function bundleProvider(source: ProviderSource, projectDir: string): Promise<string> {
  const { build } = await import("esbuild");
  const entry = `./${path.relative(projectDir, source.file).replace(/\\/g, "/")}`;
  const result = await build({
    stdin: {
      contents: `import { ${source.exportName} } from ${JSON.stringify(entry)};\nexport const handler = () => ${source.exportName};\n`,
      resolveDir: projectDir,
      sourcefile: "dynamic-provider.ts",
      loader: "ts",
    },
    // Paths in the bundle's comments are relative to this: the text does not depend on the checkout's place.
    absWorkingDir: projectDir,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node18",
    format: "cjs",
    legalComments: "none",
    sourcemap: false,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/**
 * A dynamic resource of type `pulumi-nodejs:dynamic/swiftdeploy:<type>` whose provider is bundled from
 * `provider` (what `pulumi.dynamic.Resource` does, minus the closure serializer).
 */
export class HostedResource extends CustomResource {
  constructor(
    type: string,
    provider: ProviderSource,
    name: string,
    props: Inputs,
    opts?: CustomResourceOptions,
  ) {
    super(
      `pulumi-nodejs:dynamic/swiftdeploy:${type}`,
      name,
      { ...props, __provider: providerModuleText(provider) },
      opts,
    );
  }
}

/**
 * The process the dynamic resources run in, declared as an explicit provider. Left to the engine, it would
 * start when the first of them registers, after OPA is up, and its ~0.5 s start-up would sit on the path of
 * every `pulumi up`; declared first (index.ts), it starts while the program is still evaluated.
 */
export class DynamicHost extends ProviderResource {
  constructor(name: string, opts?: ResourceOptions) {
    super("pulumi-nodejs", name, {}, opts);
  }
}

/**
 * The provider of an SDK package (`@pulumi/docker`, `@pulumi/command`), declared explicitly for the same
 * reason: the engine would start its plugin only when the first resource of the package registers, with
 * everything after it waiting. It is what the package's default provider would be: the plugin version the
 * package asks for (read from its package.json: the SDK itself is not loaded yet) and the package's keys
 * of the stack config (`pulumi config set docker:host ...`), all kept secret: the SDK does not tell which
 * of them were set with --secret, and a provider's inputs are written to the state.
 */
export class PackageProvider extends ProviderResource {
  constructor(pkg: "docker" | "command", name: string, opts?: ResourceOptions) {
    const { version } = require(`@pulumi/${pkg}/package.json`) as { version: string };
    super(pkg, name, packageConfig(pkg), { version, ...opts });
  }
}

/** The stack config under `<pkg>:` as secret provider inputs; structured values (JSON) parsed. */
export function packageConfig(pkg: string, config: Record<string, string> = allConfig()): Inputs {
  const inputs: Inputs = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(`${pkg}:`)) continue;
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      // a plain string
    }
    inputs[key.slice(pkg.length + 1)] = secret(parsed);
  }
  return inputs;
}

/**
 * Resolves once the SDK has had the turn of the event loop it needs to send the registrations declared so
 * far, so the engine works on them while the caller goes on with synchronous work.
 */
export function afterRegistrationsSent(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}
