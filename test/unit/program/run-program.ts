// Runs index.ts under Pulumi mocks (no engine, no Docker provider) and records every resource it registers.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { vi } from "vitest";

export const PROJECT = "swiftdeploy";

export interface Registered {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  /** Name of the parent resource, if any. */
  parent?: string;
  /** Names of the resources this one waits for (dependsOn and the outputs its inputs use). */
  dependsOn: string[];
  /** Input names whose change replaces the resource (the replaceOnChanges option). */
  replaceOnChanges: string[];
  /** The deleteBeforeReplace option. */
  deleteBeforeReplace: boolean;
  /** Name of the explicit provider the resource was registered with, if any. */
  provider?: string;
  /** The plugin version the resource asks for (the version option), if any. */
  version?: string;
}

export interface ProgramRun {
  resources: Registered[];
  /** index.ts's exports (the stack outputs), or undefined when the program threw. */
  exports?: Record<string, unknown>;
  error?: Error;
  /** The labels of each listing of running containers the program asked the Docker engine for. */
  dockerQueries: Record<string, string>[];
}

/** A running container as the Docker engine lists it (lib/docker-engine.ts ListedContainer). */
export type ListedContainer = import("../../../lib/docker-engine").ListedContainer;

/** What the canary gate's provider answers for its inputs: its outputs besides the inputs. */
export type CanaryGateAnswer = (inputs: Record<string, any>) => Record<string, unknown>;

/** The last resource index.ts declares; it depends on the app and nginx, so it registers last. */
const LAST_RESOURCE = "audit-events";
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * Imports a fresh copy of `<projectDir>/index.ts` for `stack` with `config` (keys without the
 * "swiftdeploy:" prefix), and waits until the last resource is registered and the stack's outputs resolved.
 * A program that throws, as it loads or later (a rejected promise), gives `error` and whatever it registered
 * meanwhile.
 */
export async function runProgram(opts: {
  projectDir: string;
  stack: string;
  config?: Record<string, string>;
  /** The stack's outputs after its last update, as its StackReference to itself reads them ({} = first deploy). */
  lastOutputs?: Record<string, unknown>;
  /** The running containers the Docker engine lists for a label filter (default: none). */
  running?: (labels: Record<string, string>) => ListedContainer[];
  /** The canary gate's outputs (default: as its provider creates them, the move let through). */
  canaryGate?: CanaryGateAnswer;
}): Promise<ProgramRun> {
  const resources: Registered[] = [];
  const dockerQueries: Record<string, string>[] = [];
  const requests = new Map<string, RequestFacts>();
  let lastRegistered!: () => void;
  const done = new Promise<void>((resolve) => (lastRegistered = resolve));

  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(opts.config ?? {}).map(([k, v]) => [`${PROJECT}:${k}`, v])),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const facts = requests.get(args.name) ?? {
          dependsOn: [],
          replaceOnChanges: [],
          deleteBeforeReplace: false,
        };
        const { type, name, inputs } = args;
        resources.push({ type, name, custom: args.custom ?? true, inputs, ...facts });
        if (args.name === LAST_RESOURCE) lastRegistered();
        return {
          id: `${args.name}-id`,
          state:
            args.type === "pulumi:pulumi:StackReference"
              ? { name: args.inputs.name, outputs: opts.lastOutputs ?? {}, secretOutputNames: [] }
              : { ...args.inputs, ...fakeOutputs(args.type, args.name, args.inputs, opts.canaryGate) },
        };
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    opts.stack,
    false,
    // The file backend's organization: the program's StackReference to itself names it.
    "organization",
  );
  recordRequests(requests);
  // What runs now, as the program reads it from the Docker engine: the run's own answer, each query noted.
  const engine = path.join(opts.projectDir, "lib", "docker-engine.ts");
  vi.doMock(engine, async (importOriginal) => ({
    ...(await importOriginal<typeof import("../../../lib/docker-engine")>()),
    containersByLabels: async (labels: Record<string, string>) => {
      dockerQueries.push(labels);
      return opts.running?.(labels) ?? [];
    },
  }));

  // As the Pulumi language host does, an error the program throws after its module loaded (a rejected
  // promise: the stack's wiring is asynchronous) fails the run. A listener of our own also tells Vitest
  // the rejection is handled.
  let failed!: (error: unknown) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  process.on("unhandledRejection", failed);

  vi.resetModules();
  try {
    const exports = await import(path.join(opts.projectDir, "index.ts"));
    await withTimeout(
      Promise.race([done, failure]),
      `the program did not register ${LAST_RESOURCE}`,
      resources,
    );
    // The engine waits for the stack's outputs too: one that fails fails the update.
    const outputs = Object.values(exports).map((value) => valueOf(value as pulumi.Input<unknown>));
    await Promise.race([Promise.all(outputs), failure]);
    return { resources, exports, dockerQueries };
  } catch (error) {
    // Give any registration already under way the time to reach the mock, so "nothing registered" means it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { resources, error: error as Error, dockerQueries };
  } finally {
    process.off("unhandledRejection", failed);
    vi.doUnmock(engine);
  }
}

interface RegisterRequest {
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getReplaceonchangesList(): string[];
  getDeletebeforereplace(): boolean;
  getProvider(): string;
  getVersion(): string;
}

/** What a register request tells beyond the mocks' arguments. */
type RequestFacts = Omit<Registered, "type" | "name" | "custom" | "inputs">;

/**
 * The mocks' newResource sees neither parent, dependencies nor resource options; the register request
 * carries them. This wraps the mock monitor (installed by setMocks just before) to note them, by resource
 * name.
 */
function recordRequests(into: Map<string, RequestFacts>): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    into.set(req.getName(), {
      parent: req.getParent() ? urnName(req.getParent()) : undefined,
      dependsOn: req.getDependenciesList().map(urnName).sort(),
      replaceOnChanges: req.getReplaceonchangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      // A provider reference is "<urn>::<id>".
      provider: req.getProvider() ? urnName(req.getProvider().replace(/::[^:]*$/, "")) : undefined,
      version: req.getVersion() || undefined,
    });
    return register(req, callback);
  };
}

/** The resource name at the end of a URN (urn:pulumi:stack::project::type::name). */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Outputs the providers compute that the program reads: an image's id, the gate's state, the admin URLs. */
function fakeOutputs(
  type: string,
  name: string,
  inputs: Record<string, any>,
  canaryGate: CanaryGateAnswer = letThrough,
): Record<string, unknown> {
  if (type === "docker:index/remoteImage:RemoteImage") return { imageId: `sha256:${name}` };
  if (type === "pulumi-nodejs:dynamic/swiftdeploy:CanaryGate") return canaryGate(inputs);
  if (type === "pulumi-nodejs:dynamic/swiftdeploy:IngressConfig") {
    // As the rollout step does: each admin listener's URL at the port Docker published it on.
    const admins = (inputs.admins ?? []) as { container: string; labels: Record<string, string> }[];
    const url = (container: string) => `http://127.0.0.1:${fakeHostPort(container)}`;
    return {
      adminUrls: admins.map((a) => url(a.container)),
      adminTargets: admins.map((a) => ({ url: url(a.container), labels: a.labels })),
    };
  }
  if (type === "docker:index/container:Container") {
    // As Docker does: a published port without a host port gets one it picks (here: from the name).
    const ports = (inputs.ports ?? []) as { external?: number }[];
    return { ports: ports.map((p) => ({ ...p, external: p.external ?? fakeHostPort(name) })) };
  }
  return {};
}

/** The canary gate's outputs when it lets the move through (gates/canary-provider.ts, no earlier record). */
const letThrough: CanaryGateAnswer = ({ move }) => ({
  state: move.to,
  previous: move.from,
  mode: move.runningMode,
  verdict: null,
});

/** A stable stand-in for the port Docker would pick for a container. */
export function fakeHostPort(containerResource: string): number {
  let hash = 0;
  for (const c of containerResource) hash = (hash * 31 + c.charCodeAt(0)) % 28_000;
  return 32_768 + hash;
}

/** The value of an Output (or plain value), failing after a timeout rather than hanging the test. */
export function valueOf<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  const resolved = new Promise<pulumi.Unwrap<T>>((resolve) => pulumi.output(value).apply(resolve));
  return withTimeout(resolved, "an output never resolved", []);
}

async function withTimeout<T>(promise: Promise<T>, what: string, resources: Registered[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const seen = resources.map((r) => r.name).join(", ") || "none";
      reject(new Error(`${what} within ${SETTLE_TIMEOUT_MS} ms (registered: ${seen})`));
    }, SETTLE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
