// manifest.yaml: what SwiftDeploy runs. manifest.schema.json is the single statement of the per-key rules
// (editors read it too); this module parses the YAML, validates it against that schema, turns ajv's errors into
// sentences that name the key path and the bad value, and adds the rules a schema cannot express (port clashes,
// distinct networks). Every problem is reported at once. Optional keys take the schema's `default`.
import * as fs from "node:fs";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import * as yaml from "js-yaml";
import manifestSchema from "../manifest.schema.json";

export interface Manifest {
  service: { name: string; image: string; version: string };
  app: {
    port: number;
    admin_port: number;
    replicas: number;
    chaos_enabled: boolean;
    /** Optional in the file (manifest.schema.json's default fills it in). */
    memory_mb: number;
    pids_limit: number;
    /** Stable versions whose images stay on the host, the running one included (rollback targets). */
    retained_versions: number;
  };
  /** The canary set (optional section; the schema's defaults fill it in). */
  canary: { weight: number; replicas: number };
  ingress: { port: number; bind: string; memory_mb: number; pids_limit: number };
  networks: { public: string; internal: string };
  gates: { observation_window_s: number; opa_timeout_ms: number };
}

/** The JSON Schema of manifest.yaml, as shipped in manifest.schema.json. */
export const MANIFEST_SCHEMA: object = manifestSchema;

// The sections a manifest must have (canary is optional: the schema fills in its defaults).
const SECTIONS = manifestSchema.required;

/**
 * An unusable manifest. `problems` holds one sentence per problem; the message lists them all under a
 * heading that names the manifest (`<source> is not valid` unless given).
 */
export class ManifestError extends Error {
  readonly problems: string[];

  constructor(source: string, problems: string[], heading = `${source} is not valid`) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super([`${heading} (${count}):`, ...problems.map((p) => `  - ${p}`)].join("\n"));
    this.name = "ManifestError";
    this.problems = problems;
  }
}

/** Parses and validates manifest text; `source` names it in the error header. */
export function parseManifest(text: string, source = "manifest.yaml"): Manifest {
  const doc = parseYaml(text, source);
  const problems = manifestProblems(doc);
  if (problems.length > 0) throw new ManifestError(source, problems);
  return doc as Manifest;
}

/** Reads, parses and validates a manifest file. */
export function loadManifest(file: string): Manifest {
  return parseManifest(readManifestText(file), file);
}

/** Fixed admin host ports admin_port, admin_port + 1, ...: the bench's Compose baseline publishes them so. */
export function adminPorts(m: Manifest): number[] {
  return Array.from({ length: m.app.replicas }, (_, i) => m.app.admin_port + i);
}

/** Every problem of a parsed document: schema problems first; the cross-field rules only once those pass. */
export function manifestProblems(doc: unknown): string[] {
  const validate = manifestValidator();
  if (!validate(doc)) return (validate.errors ?? []).map(describeSchemaError);
  return crossFieldProblems(doc as Manifest);
}

/** The rules that relate two keys, which the JSON Schema cannot state. */
export function crossFieldProblems(m: Manifest): string[] {
  // No rule ties the admin port to host ports: Docker publishes each container's on a port it picks.
  return [...appPortProblems(m), ...networkProblems(m)];
}

function appPortProblems(m: Manifest): string[] {
  if (m.app.port !== m.app.admin_port) return [];
  return [
    `manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), got ${m.app.port} for both`,
  ];
}

function networkProblems(m: Manifest): string[] {
  if (m.networks.public !== m.networks.internal) return [];
  return [
    `manifest.networks.public and manifest.networks.internal must differ, got ${JSON.stringify(m.networks.public)} for both`,
  ];
}

function readManifestText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    // The reason names the file: "<file> is not valid" above it would say nothing more.
    throw new ManifestError(
      file,
      [unreadableReason(file, err as NodeJS.ErrnoException)],
      "the manifest cannot be read",
    );
  }
}

function unreadableReason(file: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOENT":
      return `${file} does not exist`;
    case "EISDIR":
      return `${file} is a directory, not a file`;
    case "EACCES":
      return `${file} cannot be read (permission denied)`;
    default:
      return `${file} cannot be read: ${err.message}`;
  }
}

// The core schema (YAML 1.2): no timestamps, and `yes`/`no` stay strings, so only true/false are booleans.
function parseYaml(text: string, source: string): unknown {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    throw new ManifestError(source, [describeYamlError(err)]);
  }
  if (doc === undefined || doc === null) {
    throw new ManifestError(source, [`the manifest is empty; it needs the sections ${SECTIONS.join(", ")}`]);
  }
  return doc;
}

function describeYamlError(err: yaml.YAMLException): string {
  if (!err.mark) return `YAML syntax error: ${err.reason}`;
  const { line, column, buffer } = err.mark;
  const text = buffer.split("\n")[line]?.trim() ?? "";
  const shown = text === "" ? "" : ` (${JSON.stringify(text)})`;
  return `YAML syntax error at line ${line + 1}, column ${column + 1}${shown}: ${err.reason}`;
}

// Compiled once: compiling costs milliseconds, validating microseconds.
let cachedValidator: ValidateFunction | undefined;

function manifestValidator(): ValidateFunction {
  cachedValidator ??= compileValidator();
  return cachedValidator;
}

// Same rule as ajv-formats' "ipv4": four decimal octets 0-255, no leading zeros.
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function compileValidator(): ValidateFunction {
  // verbose: errors carry the offending value and the schema around it, which the sentences quote.
  // useDefaults: an optional key the file leaves out gets the schema's default, so the program sees it.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, useDefaults: true });
  // A VS Code schema extension (yaml-language-server shows it for a failed pattern); the sentences quote it too.
  ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
  ajv.addFormat("ipv4", IPV4);
  return ajv.compile(manifestSchema);
}

const FORMAT_WORDS: Record<string, string> = {
  ipv4: "an IPv4 address such as 0.0.0.0 or 127.0.0.1",
};

/** The one place that turns an ajv error into a sentence naming the key path and the bad value. */
function describeSchemaError(e: ErrorObject): string {
  const path = keyPath(e.instancePath);
  const got = `got ${showValue(e.data)}`;
  switch (e.keyword) {
    case "required":
      return `${childPath(path, e.params.missingProperty)} is required`;
    case "additionalProperties": {
      const allowed = Object.keys(e.parentSchema?.properties ?? {}).join(", ");
      return `${childPath(path, e.params.additionalProperty)} is not a known key (allowed: ${allowed})`;
    }
    case "type":
      return `${path} must be ${typeWords(e)}, ${got}${quoteHint(e)}`;
    case "minimum":
      return `${path} must be >= ${e.params.limit}, ${got}`;
    case "maximum":
      return `${path} must be <= ${e.params.limit}, ${got}`;
    case "pattern":
      return `${path} must be ${e.parentSchema?.patternErrorMessage ?? `match ${e.params.pattern}`}, ${got}`;
    case "format":
      return `${path} must be ${FORMAT_WORDS[e.params.format] ?? `a valid ${e.params.format}`}, ${got}`;
    default:
      return `${path} ${e.message ?? `fails ${e.keyword}`}, ${got}`;
  }
}

function typeWords(e: ErrorObject): string {
  switch (e.params.type) {
    case "object": {
      const keys = Object.keys(e.parentSchema?.properties ?? {});
      return keys.length > 0 ? `a map with the keys ${keys.join(", ")}` : "a map";
    }
    case "integer":
      return "an integer";
    case "boolean":
      return "true or false";
    default:
      return `a ${e.params.type}`;
  }
}

// YAML turns an unquoted 1.0 into the number 1 and true into a boolean; the fix is quoting, so say so.
function quoteHint(e: ErrorObject): string {
  if (e.params.type !== "string" || !["number", "boolean"].includes(typeof e.data)) return "";
  return `; YAML read the unquoted value as a ${typeof e.data}: quote it (e.g. "1.0.0") to keep it text`;
}

function keyPath(instancePath: string): string {
  const keys = instancePath === "" ? [] : instancePath.slice(1).split("/").map(unescapePointer);
  return keys.reduce(childPath, "manifest");
}

function childPath(parent: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}
