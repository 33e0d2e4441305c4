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
}

/** The last resource index.ts declares; it depends on the app and nginx, so it registers last. */
const LAST_RESOURCE = "audit-events";
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * Imports a fresh copy of `<projectDir>/index.ts` for `stack` with `config` (keys without the
 * "swiftdeploy:" prefix), and waits until the last
 * resource is registered. A program that throws gives `error` and whatever it registered meanwhile.
 */
export async function runProgram(opts: {
  projectDir: string;
  stack: string;
  config?: Record<string, string>;
  /** The stack's outputs after its last update, as its StackReference to itself reads them ({} = first deploy). */
  lastOutputs?: Record<string, unknown>;
}): Promise<ProgramRun> {
  const resources: Registered[] = [];
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
              : { ...args.inputs, ...fakeOutputs(args.type, args.name, args.inputs) },
        };
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    opts.stack,
    false,
  );
  recordRequests(requests);

  vi.resetModules();
  try {
    const exports = await import(path.join(opts.projectDir, "index.ts"));
    await withTimeout(done, `the program did not register ${LAST_RESOURCE}`, resources);
    return { resources, exports };
  } catch (error) {
    // Give any registration already under way the time to reach the mock, so "nothing registered" means it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { resources, error: error as Error };
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

/** Outputs the Docker provider computes that the program reads: an image's id. */
function fakeOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "docker:index/remoteImage:RemoteImage") return { imageId: `sha256:${name}` };
  if (type === "pulumi-nodejs:dynamic/swiftdeploy:IngressConfig") {
    // As the rollout step does: each admin listener's URL at the port Docker published it on.
    const admins = (inputs.admins ?? []) as { container: string }[];
    return { adminUrls: admins.map((a) => `http://127.0.0.1:${fakeHostPort(a.container)}`) };
  }
  if (type === "docker:index/container:Container") {
    // As Docker does: a published port without a host port gets one it picks (here: from the name).
    const ports = (inputs.ports ?? []) as { external?: number }[];
    return { ports: ports.map((p) => ({ ...p, external: p.external ?? fakeHostPort(name) })) };
  }
  return {};
}

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
