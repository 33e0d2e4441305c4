import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MANIFEST_SCHEMA,
  ManifestError,
  adminPorts,
  loadManifest,
  parseManifest,
  type Manifest,
} from "../../../program/manifest";

const REPO = path.resolve(__dirname, "../../..");

// A valid manifest in block style; each malformed case edits one piece of it, so the rest stays valid.
const VALID = `service:
  name: swiftdeploy
  image: swiftdeploy-app
  version: "1.0.0"
app:
  port: 3000
  admin_port: 9100
  replicas: 1
  chaos_enabled: true
ingress:
  port: 8081
  bind: 0.0.0.0
networks:
  public: net
  internal: opa-internal
gates:
  observation_window_s: 30
  opa_timeout_ms: 2000
`;

/** VALID with `from` replaced by `to`; fails loudly if `from` is not there, so a case cannot silently test VALID. */
function edit(from: string, to: string, text = VALID): string {
  if (!text.includes(from)) throw new Error(`test setup: ${JSON.stringify(from)} is not in the manifest`);
  return text.replace(from, to);
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ManifestError) return err.problems;
    throw err;
  }
  throw new Error("expected a ManifestError, but the manifest was accepted");
}

// `text: null` means no file at all; `"<dir>"` means the path is a directory. `<file>` in a problem is the path.
const MALFORMED: Array<{ case: string; text: string | null; problems: string[] }> = [
  { case: "a missing file", text: null, problems: ["<file> does not exist"] },
  { case: "a directory instead of a file", text: "<dir>", problems: ["<file> is a directory, not a file"] },
  {
    case: "an empty file",
    text: "",
    problems: ["the manifest is empty; it needs the sections service, app, ingress, networks, gates"],
  },
  {
    case: "a file with only comments",
    text: "# nothing here yet\n",
    problems: ["the manifest is empty; it needs the sections service, app, ingress, networks, gates"],
  },
  {
    case: "bad indentation",
    text: edit("  port: 3000\n  admin_port", "  port: 3000\n   admin_port"),
    problems: [
      'YAML syntax error at line 7, column 14 ("admin_port: 9100"): bad indentation of a mapping entry',
    ],
  },
  {
    case: "an unclosed flow map",
    text: "service: { name: swiftdeploy\n",
    problems: [
      "YAML syntax error at line 2, column 1: unexpected end of the stream within a flow collection",
    ],
  },
  {
    case: "a duplicated key",
    text: edit("  replicas: 1\n", "  replicas: 1\n  replicas: 2\n"),
    problems: ['YAML syntax error at line 9, column 3 ("replicas: 2"): duplicated mapping key'],
  },
  {
    case: "a YAML list instead of a map",
    text: "- service\n- app\n",
    problems: [
      "manifest must be a map with the keys service, app, canary, ingress, networks, gates, got a list",
    ],
  },
  {
    case: "a plain string instead of a map",
    text: "swiftdeploy\n",
    problems: [
      'manifest must be a map with the keys service, app, canary, ingress, networks, gates, got "swiftdeploy"',
    ],
  },
  {
    case: "a missing section",
    text: edit("gates:\n  observation_window_s: 30\n  opa_timeout_ms: 2000\n", ""),
    problems: ["manifest.gates is required"],
  },
  {
    case: "a section that is a list",
    text: edit(
      "networks:\n  public: net\n  internal: opa-internal\n",
      "networks:\n  - net\n  - opa-internal\n",
    ),
    problems: ["manifest.networks must be a map with the keys public, internal, got a list"],
  },
  {
    case: "an empty section",
    text: edit("ingress:\n  port: 8081\n  bind: 0.0.0.0\n", "ingress:\n"),
    problems: [
      "manifest.ingress must be a map with the keys port, bind, memory_mb, pids_limit, got an empty value",
    ],
  },
  {
    case: "an unknown top-level key",
    text: VALID + "database: postgres\n",
    problems: [
      "manifest.database is not a known key (allowed: service, app, canary, ingress, networks, gates)",
    ],
  },
  {
    case: "an unknown key in service",
    text: edit("  name: swiftdeploy\n", "  name: swiftdeploy\n  owner: ops\n"),
    problems: ["manifest.service.owner is not a known key (allowed: name, image, version)"],
  },
  {
    case: "an unknown key in app",
    text: edit("  replicas: 1\n", "  replicas: 1\n  memory: 512\n"),
    problems: [
      "manifest.app.memory is not a known key (allowed: port, admin_port, replicas, chaos_enabled, memory_mb, pids_limit, retained_versions)",
    ],
  },
  {
    case: "an unknown key in ingress",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  colour: blue\n"),
    problems: ["manifest.ingress.colour is not a known key (allowed: port, bind, memory_mb, pids_limit)"],
  },
  {
    case: "an unknown key in networks",
    text: edit("  internal: opa-internal\n", "  internal: opa-internal\n  external: wan\n"),
    problems: ["manifest.networks.external is not a known key (allowed: public, internal)"],
  },
  {
    case: "an unknown key in gates",
    text: edit("  opa_timeout_ms: 2000\n", "  opa_timeout_ms: 2000\n  retries: 3\n"),
    problems: ["manifest.gates.retries is not a known key (allowed: observation_window_s, opa_timeout_ms)"],
  },
  {
    case: "a key that is not an identifier",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  server name: x\n"),
    problems: [
      'manifest.ingress["server name"] is not a known key (allowed: port, bind, memory_mb, pids_limit)',
    ],
  },
  {
    case: "a missing key",
    text: edit("  image: swiftdeploy-app\n", ""),
    problems: ["manifest.service.image is required"],
  },
  {
    case: "a service name with capitals",
    text: edit("name: swiftdeploy", "name: SwiftDeploy"),
    problems: [
      `manifest.service.name must be lowercase letters, digits and '-', starting with a letter, at most 31 characters, got "SwiftDeploy"`,
    ],
  },
  {
    case: "a service name longer than 31 characters",
    text: edit("name: swiftdeploy", `name: ${"s".repeat(32)}`),
    problems: [
      `manifest.service.name must be lowercase letters, digits and '-', starting with a letter, at most 31 characters, got "${"s".repeat(32)}"`,
    ],
  },
  {
    case: "an image with a tag",
    text: edit("image: swiftdeploy-app", "image: swiftdeploy-app:latest"),
    problems: [
      `manifest.service.image must be a Docker repository name: lowercase letters and digits, separated by single '.', '_' or '-', optionally in '/'-separated parts, no tag, got "swiftdeploy-app:latest"`,
    ],
  },
  {
    case: "an image with a doubled separator",
    text: edit("image: swiftdeploy-app", "image: local//app"),
    problems: [
      `manifest.service.image must be a Docker repository name: lowercase letters and digits, separated by single '.', '_' or '-', optionally in '/'-separated parts, no tag, got "local//app"`,
    ],
  },
  {
    case: "a version YAML reads as a number",
    text: edit('version: "1.0.0"', "version: 1.0"),
    problems: [
      'manifest.service.version must be a string, got 1; YAML read the unquoted value as a number: quote it (e.g. "1.0.0") to keep it text',
    ],
  },
  {
    case: "a version that is not a Docker tag",
    text: edit('version: "1.0.0"', 'version: "-rc1"'),
    problems: [
      `manifest.service.version must be a Docker tag: letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 119 characters (the image's tag adds '-' and an 8-digit content hash), got "-rc1"`,
    ],
  },
  {
    case: "an app port above 65535",
    text: edit("port: 3000", "port: 70000"),
    problems: ["manifest.app.port must be <= 65535, got 70000"],
  },
  {
    case: "an app port of 0",
    text: edit("port: 3000", "port: 0"),
    problems: ["manifest.app.port must be >= 1, got 0"],
  },
  {
    case: "a port given as a quoted string",
    text: edit("port: 3000", 'port: "3000"'),
    problems: ['manifest.app.port must be an integer, got "3000"'],
  },
  {
    case: "a fractional port",
    text: edit("port: 8081", "port: 8081.5"),
    problems: ["manifest.ingress.port must be an integer, got 8081.5"],
  },
  {
    case: "a key with no value",
    text: edit("port: 8081", "port:"),
    problems: ["manifest.ingress.port must be an integer, got an empty value"],
  },
  {
    case: "a privileged admin port",
    text: edit("admin_port: 9100", "admin_port: 80"),
    problems: ["manifest.app.admin_port must be >= 1024, got 80"],
  },
  {
    case: "replicas written as a word",
    text: edit("replicas: 1", "replicas: two"),
    problems: ['manifest.app.replicas must be an integer, got "two"'],
  },
  {
    case: "zero replicas",
    text: edit("replicas: 1", "replicas: 0"),
    problems: ["manifest.app.replicas must be >= 1, got 0"],
  },
  {
    case: "more than 8 replicas",
    text: edit("replicas: 1", "replicas: 9"),
    problems: ["manifest.app.replicas must be <= 8, got 9"],
  },
  {
    case: "chaos_enabled written as yes",
    text: edit("chaos_enabled: true", "chaos_enabled: yes"),
    problems: ['manifest.app.chaos_enabled must be true or false, got "yes"'],
  },
  {
    case: "an app memory limit below 64 MB",
    text: edit("  chaos_enabled: true\n", "  chaos_enabled: true\n  memory_mb: 16\n"),
    problems: ["manifest.app.memory_mb must be >= 64, got 16"],
  },
  {
    case: "an app memory limit written with its unit",
    text: edit("  chaos_enabled: true\n", "  chaos_enabled: true\n  memory_mb: 256m\n"),
    problems: ['manifest.app.memory_mb must be an integer, got "256m"'],
  },
  {
    case: "an app pids limit of 0 (Docker's 'unlimited')",
    text: edit("  chaos_enabled: true\n", "  chaos_enabled: true\n  pids_limit: 0\n"),
    problems: ["manifest.app.pids_limit must be >= 32, got 0"],
  },
  {
    case: "an app pids limit of -1 (Docker's other 'unlimited')",
    text: edit("  chaos_enabled: true\n", "  chaos_enabled: true\n  pids_limit: -1\n"),
    problems: ["manifest.app.pids_limit must be >= 32, got -1"],
  },
  {
    case: "an nginx memory limit above 64 GB",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  memory_mb: 100000\n"),
    problems: ["manifest.ingress.memory_mb must be <= 65536, got 100000"],
  },
  {
    case: "an nginx memory limit with no value",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  memory_mb:\n"),
    problems: ["manifest.ingress.memory_mb must be an integer, got an empty value"],
  },
  {
    case: "a fractional nginx pids limit",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  pids_limit: 64.5\n"),
    problems: ["manifest.ingress.pids_limit must be an integer, got 64.5"],
  },
  {
    case: "an nginx pids limit below 16",
    text: edit("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  pids_limit: 8\n"),
    problems: ["manifest.ingress.pids_limit must be >= 16, got 8"],
  },
  {
    case: "a hostname as the ingress bind address",
    text: edit("bind: 0.0.0.0", "bind: localhost"),
    problems: ['manifest.ingress.bind must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, got "localhost"'],
  },
  {
    case: "an IPv4 address with an octet above 255",
    text: edit("bind: 0.0.0.0", "bind: 10.0.0.256"),
    problems: [
      'manifest.ingress.bind must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, got "10.0.0.256"',
    ],
  },
  {
    case: "an uppercase network name",
    text: edit("public: net", "public: Public"),
    problems: [
      `manifest.networks.public must be lowercase letters, digits, '_', '.' and '-', starting with a letter or digit, at most 41 characters, got "Public"`,
    ],
  },
  {
    case: "the same name for both networks",
    text: edit("internal: opa-internal", "internal: net"),
    problems: ['manifest.networks.public and manifest.networks.internal must differ, got "net" for both'],
  },
  {
    case: "an observation window below 5 s",
    text: edit("observation_window_s: 30", "observation_window_s: 2"),
    problems: ["manifest.gates.observation_window_s must be >= 5, got 2"],
  },
  {
    case: "an OPA timeout above 60 s",
    text: edit("opa_timeout_ms: 2000", "opa_timeout_ms: 120000"),
    problems: ["manifest.gates.opa_timeout_ms must be <= 60000, got 120000"],
  },
  {
    case: "an app port equal to the admin port",
    text: edit("port: 3000", "port: 9100"),
    problems: [
      "manifest.app.port and manifest.app.admin_port must differ (both listen in the app container), got 9100 for both",
    ],
  },
];

describe("loadManifest rejects malformed manifests", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-manifest-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function fileWith(name: string, text: string | null): string {
    const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.yaml`);
    if (text === "<dir>") fs.mkdirSync(file);
    else if (text !== null) fs.writeFileSync(file, text);
    return file;
  }

  it.each(MALFORMED)("$case", ({ case: name, text, problems }) => {
    const file = fileWith(name, text);
    const expected = problems.map((p) => p.replace("<file>", file));
    expect(problemsOf(() => loadManifest(file))).toEqual(expected);
  });

  it("covers at least 30 malformed manifests", () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(30);
  });
});

describe("parseManifest", () => {
  it("reports every schema problem at once", () => {
    const text = VALID.replace("port: 3000", "port: 70000")
      .replace("replicas: 1", "replicas: two")
      .replace("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  colour: blue\n")
      .replace(/gates:\n.*\n.*\n/, "");
    expect(problemsOf(() => parseManifest(text))).toEqual([
      "manifest.gates is required",
      "manifest.app.port must be <= 65535, got 70000",
      'manifest.app.replicas must be an integer, got "two"',
      "manifest.ingress.colour is not a known key (allowed: port, bind, memory_mb, pids_limit)",
    ]);
  });

  it("reports all cross-field problems together once the schema passes", () => {
    const text = VALID.replace("port: 3000", "port: 9100")
      .replace("port: 8081", "port: 9100")
      .replace("internal: opa-internal", "internal: net");
    expect(problemsOf(() => parseManifest(text))).toHaveLength(2);
  });

  // Round one published replica i at admin_port + i; Docker now picks each admin host port.
  it.each([
    ["an ingress port on the admin port", edit("port: 8081", "port: 9100")],
    [
      "an ingress port among the replicas' old admin host ports",
      edit("replicas: 1", "replicas: 4", edit("port: 8081", "port: 9103")),
    ],
    [
      "an admin port near 65535 with several replicas",
      edit("replicas: 1", "replicas: 3", edit("admin_port: 9100", "admin_port: 65534")),
    ],
  ])("accepts %s: no host port derives from the admin port any more", (_, text) => {
    expect(() => parseManifest(text)).not.toThrow();
  });

  it("puts a header naming the source above one indented line per problem", () => {
    const text = VALID.replace("port: 3000", "port: 0").replace("replicas: 1", "replicas: 9");
    expect(() => parseManifest(text, "stacks/test.yaml")).toThrow(
      [
        "stacks/test.yaml is not valid (2 problems):",
        "  - manifest.app.port must be >= 1, got 0",
        "  - manifest.app.replicas must be <= 8, got 9",
      ].join("\n"),
    );
  });

  it("says '1 problem' and names manifest.yaml when no source is given", () => {
    expect(() => parseManifest("")).toThrow(
      /^manifest\.yaml is not valid \(1 problem\):\n {2}- the manifest/,
    );
  });

  it("accepts flow style and the limits of every range", () => {
    const text = [
      "service: { name: a, image: registry.local/team/app_x, version: v1 }",
      "app: { port: 65535, admin_port: 65528, replicas: 8, chaos_enabled: false, retained_versions: 10 }",
      "canary: { weight: 50, replicas: 8 }",
      "ingress: { port: 1, bind: 255.255.255.255 }",
      "networks: { public: p, internal: a.b_c-d }",
      "gates: { observation_window_s: 600, opa_timeout_ms: 100 }",
    ].join("\n");
    const manifest = parseManifest(text);
    expect(manifest.app).toEqual({
      port: 65535,
      admin_port: 65528,
      replicas: 8,
      chaos_enabled: false,
      memory_mb: 256,
      pids_limit: 128,
      retained_versions: 10,
    });
    expect(manifest.canary).toEqual({ weight: 50, replicas: 8 });
  });

  it("fills in the canary section and the retained versions when a manifest leaves them out", () => {
    const manifest = parseManifest(VALID);
    expect(manifest.canary).toEqual({ weight: 10, replicas: 1 });
    expect(manifest.app.retained_versions).toBe(3);
    expect(parseManifest(`${VALID}canary:\n  weight: 25\n`).canary).toEqual({ weight: 25, replicas: 1 });
  });

  it.each([
    ["canary:\n  weight: 0\n", "manifest.canary.weight must be >= 1, got 0"],
    ["canary:\n  weight: 51\n", "manifest.canary.weight must be <= 50, got 51"],
    ['canary:\n  weight: "10%"\n', 'manifest.canary.weight must be an integer, got "10%"'],
    ["canary:\n  replicas: 0\n", "manifest.canary.replicas must be >= 1, got 0"],
    ["canary:\n  share: 10\n", "manifest.canary.share is not a known key (allowed: weight, replicas)"],
  ])("refuses the canary section %j", (section, problem) => {
    expect(problemsOf(() => parseManifest(`${VALID}${section}`))).toEqual([problem]);
  });

  it("refuses to retain no version", () => {
    const text = VALID.replace("  chaos_enabled: true\n", "  chaos_enabled: true\n  retained_versions: 0\n");
    expect(problemsOf(() => parseManifest(text))).toEqual([
      "manifest.app.retained_versions must be >= 1, got 0",
    ]);
  });

  it("fills in the schema's defaults for the limits a manifest leaves out", () => {
    const { app, ingress } = parseManifest(VALID);
    expect([app.memory_mb, app.pids_limit, ingress.memory_mb, ingress.pids_limit]).toEqual([
      256, 128, 128, 64,
    ]);
  });

  it("keeps the limits a manifest gives, at the ends of their ranges", () => {
    const text = VALID.replace(
      "  chaos_enabled: true\n",
      "  chaos_enabled: true\n  memory_mb: 64\n  pids_limit: 32768\n",
    ).replace("  bind: 0.0.0.0\n", "  bind: 0.0.0.0\n  memory_mb: 65536\n  pids_limit: 16\n");
    const { app, ingress } = parseManifest(text);
    expect([app.memory_mb, app.pids_limit, ingress.memory_mb, ingress.pids_limit]).toEqual([
      64, 32768, 65536, 16,
    ]);
  });

  it("reports a bad limit with the other problems, never replaced by its default", () => {
    const text = VALID.replace("  chaos_enabled: true\n", "  chaos_enabled: true\n  memory_mb: 0\n").replace(
      "replicas: 1",
      "replicas: 0",
    );
    expect(problemsOf(() => parseManifest(text))).toEqual([
      "manifest.app.replicas must be >= 1, got 0",
      "manifest.app.memory_mb must be >= 64, got 0",
    ]);
  });
});

describe("the shipped manifest.yaml", () => {
  const file = path.join(REPO, "manifest.yaml");

  it("points editors at the schema on its first line", () => {
    expect(fs.readFileSync(file, "utf8").split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./manifest.schema.json",
    );
  });

  it("loads with the documented values", () => {
    const expected: Manifest = {
      service: { name: "swiftdeploy", image: "swiftdeploy-app", version: "1.0.0" },
      app: {
        port: 3000,
        admin_port: 9100,
        replicas: 1,
        chaos_enabled: true,
        memory_mb: 256,
        pids_limit: 128,
        retained_versions: 3,
      },
      canary: { weight: 10, replicas: 1 },
      ingress: { port: 8081, bind: "0.0.0.0", memory_mb: 128, pids_limit: 64 },
      networks: { public: "net", internal: "opa-internal" },
      gates: { observation_window_s: 30, opa_timeout_ms: 2000 },
    };
    expect(loadManifest(file)).toEqual(expected);
  });

  it("MANIFEST_SCHEMA is the shipped manifest.schema.json", () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(REPO, "manifest.schema.json"), "utf8"));
    expect(MANIFEST_SCHEMA).toEqual(shipped);
  });
});

describe("adminPorts", () => {
  it.each([
    [9100, 1, [9100]],
    [9100, 3, [9100, 9101, 9102]],
    [65528, 8, [65528, 65529, 65530, 65531, 65532, 65533, 65534, 65535]],
  ])("admin_port %i with %i replicas publishes %j", (admin_port, replicas, ports) => {
    const m = parseManifest(VALID.replace("admin_port: 9100", `admin_port: ${admin_port}`));
    expect(adminPorts({ ...m, app: { ...m.app, replicas } })).toEqual(ports);
  });
});
