// SwiftDeploy: manifest.yaml -> networks, OPA, infrastructure gate, canary gate, app sets, nginx.
// The entry point: it validates the config and the manifest, registers the providers (the process the gates
// and readiness probes run in, Docker, Command), and then loads the stack's wiring (program/stack.ts). Their
// plugins take up to ~0.5 s to start, and loading the Pulumi SDK, the providers' SDKs and the components
// takes as long: registered first, they start while those load. Until then only modules the language host
// has already loaded are imported.
import { Config } from "@pulumi/pulumi/config";
import { getProject, getStack } from "@pulumi/pulumi/metadata";
import { output } from "@pulumi/pulumi/output";
// The language host has loaded this one too: its handler of uncaught errors tells RunErrors apart.
import { RunError } from "@pulumi/pulumi/errors";
import { isInputError, loadStackPlan, type StackPlan } from "./program/plan";
import { afterRegistrationsSent, DynamicHost, PackageProvider } from "./components/providers";

// The language host installs source-map-support, and Pulumi formats a full stack trace for every resource
// it registers (its source position): mapping those through the SDK's source maps cost ~0.1 s of every
// run. sucrase keeps this program's lines where they are, so V8's own formatting is exact for them.
Reflect.deleteProperty(Error, "prepareStackTrace");

const config = new Config("swiftdeploy");
const plan = loadPlan();

const providers = {
  dynamicHost: new DynamicHost("dynamic-host"),
  docker: new PackageProvider("docker", "docker"),
  command: new PackageProvider("command", "command"),
};
const stack = afterRegistrationsSent()
  .then(() => import("./program/stack"))
  .then(({ declareStack }) => declareStack(plan, providers));

export const publicUrl = plan.publicUrl;
export const adminUrls = output(stack.then((s) => s.adminUrls));
/** Each admin URL with its labels: `set` (stable or canary), `version`, `replica`, ... */
export const adminTargets = output(stack.then((s) => s.adminTargets));
export const opaSocket = plan.paths.opaSocket;
/** The mode the stack runs: canary while a canary set runs (the config's mode may ask for another). */
export const mode = output(stack.then((s) => s.mode));
/** The release state (program/release.ts): the next update plans from it. */
export const release = output(stack.then((s) => s.release));
/** The stable version (null until a version first becomes stable) and the canary's (null when none runs). */
export const stableVersion = release.apply((r) => r.stable?.version ?? null);
export const canaryVersion = release.apply((r) => r.canary?.version ?? null);
/** Percent of requests to the canary while two sets run; null with one set. */
export const canaryWeight = output(stack.then((s) => s.weight));
/** The last promotion's verdict (null until one was judged). */
export const canaryVerdict = output(stack.then((s) => s.canaryVerdict));
export const historyFile = plan.paths.historyFile;
export const infrastructureVerdict = output(stack.then((s) => s.infrastructureVerdict));

/**
 * An invalid config or manifest stops the program here, before anything is registered. Pulumi prints a
 * RunError as its message alone, which names each bad key and value: no "unhandled exception", no stack
 * trace. Anything else is a bug and keeps its stack.
 */
function loadPlan(): StackPlan {
  try {
    return loadStackPlan({
      project: getProject(),
      stack: getStack(),
      projectDir: __dirname,
      config: (key) => config.get(key),
    });
  } catch (err) {
    throw isInputError(err) ? new RunError(err.message) : err;
  }
}
