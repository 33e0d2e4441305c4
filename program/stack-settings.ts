// The Pulumi stack config SwiftDeploy reads (declared in Pulumi.yaml), validated without @pulumi/pulumi so the
// program, `npm run validate` and tests share one set of rules. The caller passes a getter such as
// `(key) => new pulumi.Config().get(key)`; keys are unqualified ("mode"), messages name them qualified.
import { ManifestError, manifestProblems, type Manifest } from "./manifest";
import { DEFAULT_MODE, MODES, type Mode } from "../lib/modes";

export interface StackSettings {
  mode: "canary" | "stable";
  /** Overrides manifest.ingress.port, so a second stack can run beside the first. */
  ingressPort?: number;
  /** Overrides manifest.app.admin_port, for the same reason. */
  adminPort?: number;
}

export const CONFIG_NAMESPACE = "swiftdeploy";

/** Invalid stack config. `problems` holds one sentence per bad key; the message lists them all. */
export class StackSettingsError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super([`stack config is not valid (${count}):`, ...problems.map((p) => `  - ${p}`)].join("\n"));
    this.name = "StackSettingsError";
    this.problems = problems;
  }
}

/** Reads and checks every stack config key; throws StackSettingsError listing all bad ones. */
export function readStackSettings(get: (key: string) => string | undefined): StackSettings {
  const problems: string[] = [];
  const settings: StackSettings = { mode: readMode(get("mode"), problems) };
  const ingressPort = readPort("ingressPort", get("ingressPort"), 1, problems);
  const adminPort = readPort("adminPort", get("adminPort"), 1024, problems);
  if (problems.length > 0) throw new StackSettingsError(problems);
  // Unset overrides stay absent rather than `undefined`, so settings compare equal to what a caller writes.
  if (ingressPort !== undefined) settings.ingressPort = ingressPort;
  if (adminPort !== undefined) settings.adminPort = adminPort;
  return settings;
}

/**
 * The manifest with the stack's host-port overrides applied. The result is validated again (schema and
 * cross-field rules), since an override can clash with a port the manifest file itself got right.
 */
export function applyPortOverrides(m: Manifest, s: StackSettings): Manifest {
  const next: Manifest = {
    ...m,
    app: { ...m.app, admin_port: s.adminPort ?? m.app.admin_port },
    ingress: { ...m.ingress, port: s.ingressPort ?? m.ingress.port },
  };
  const problems = manifestProblems(next);
  if (problems.length > 0) throw new ManifestError(`manifest with ${describeOverrides(s)}`, problems);
  return next;
}

function readMode(raw: string | undefined, problems: string[]): Mode {
  if (raw === undefined) return DEFAULT_MODE;
  const mode = MODES.find((m) => m === raw);
  if (mode !== undefined) return mode;
  problems.push(`config ${qualified("mode")} must be one of ${MODES.join(", ")}; got ${JSON.stringify(raw)}`);
  return DEFAULT_MODE;
}

// Pulumi hands config values over as strings; only plain decimal digits count as a port. 0 is Pulumi.yaml's
// default for these keys (a key without a default would be required): the manifest's port applies.
function readPort(key: string, raw: string | undefined, min: number, problems: string[]): number | undefined {
  if (raw === undefined || raw === "0") return undefined;
  const port = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (port >= min && port <= 65535) return port;
  problems.push(`config ${qualified(key)} must be an integer ${min}-65535; got ${JSON.stringify(raw)}`);
  return undefined;
}

function describeOverrides(s: StackSettings): string {
  const set = [
    s.ingressPort === undefined ? "" : `${qualified("ingressPort")}=${s.ingressPort}`,
    s.adminPort === undefined ? "" : `${qualified("adminPort")}=${s.adminPort}`,
  ].filter((part) => part !== "");
  return set.length === 0 ? "no stack config overrides" : `stack config ${set.join(", ")}`;
}

function qualified(key: string): string {
  return `${CONFIG_NAMESPACE}:${key}`;
}
