// The toolchain npm run setup builds, end to end: the Pulumi CLI and Node.js language host run a program
// whose Docker provider (our bridge build of the upstream Terraform provider) creates a network, an image
// built from the local base image, and a container on that network; destroy then leaves nothing.
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, TOOLS } from "./support/project";

const run = promisify(execFile);
const id = crypto.randomBytes(3).toString("hex");
const NAME = `sdtest-toolchain-${id}`;

const PROGRAM = `
const docker = require("@pulumi/docker");
const network = new docker.Network("net", { name: "${NAME}-net" });
const image = new docker.RemoteImage("image", {
  name: "${NAME}-image:latest",
  build: { context: __dirname + "/image" },
});
const container = new docker.Container("box", {
  name: "${NAME}-box",
  image: image.imageId,
  networksAdvanced: [{ name: network.name }],
  command: ["sleep", "infinity"],
});
exports.containerName = container.name;
`;

let dir: string;
let stack: Stack;

const docker = async (...args: string[]) => (await run("docker", args, { timeout: 60_000 })).stdout.trim();
const leftovers = async () =>
  [
    await docker("ps", "-a", "--format", "{{.Names}}"),
    await docker("network", "ls", "--format", "{{.Name}}"),
    await docker("images", "--format", "{{.Repository}}"),
  ]
    .join("\n")
    .split("\n")
    .filter((name) => name.startsWith(NAME));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `${NAME}-`));
  fs.mkdirSync(path.join(dir, "image"));
  fs.mkdirSync(path.join(dir, "state"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: sdtest-toolchain\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, "package.json"), '{ "name": "sdtest-toolchain", "main": "index.js" }\n');
  fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
  fs.writeFileSync(
    path.join(dir, "image", "Dockerfile"),
    'FROM local/debian:bookworm-slim\nCMD ["sleep", "infinity"]\n',
  );
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "toolchain", workDir: dir },
    {
      pulumiCommand: await PulumiCommand.get({ root: TOOLS, skipVersionCheck: true }),
      envVars: {
        PATH: `${path.join(TOOLS, "bin")}:${process.env.PATH ?? ""}`,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      },
    },
  );
});

afterAll(async () => {
  await stack?.destroy().catch(() => undefined);
  for (const name of await leftovers().catch(() => [] as string[])) {
    await run("docker", ["rm", "-f", name]).catch(() => undefined);
    await run("docker", ["network", "rm", name]).catch(() => undefined);
    await run("docker", ["rmi", "-f", name]).catch(() => undefined);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the toolchain setup builds", () => {
  it("shows the pinned versions in pulumi version, opa version and pulumi plugin ls", async () => {
    const bin = path.join(TOOLS, "bin");
    expect((await run(path.join(bin, "pulumi"), ["version"])).stdout.trim()).toBe("v3.274.1");
    expect((await run(path.join(bin, "opa"), ["version"])).stdout).toMatch(/^Version: 1\.22\.2$/m);
    const plugins = JSON.parse((await run(path.join(bin, "pulumi"), ["plugin", "ls", "--json"])).stdout) as {
      name: string;
      version: string;
    }[];
    const versions = Object.fromEntries(plugins.map((p) => [p.name, p.version]));
    expect(versions).toMatchObject({ docker: "5.2.0", command: "1.2.1" });
  });

  it("runs pulumi up of a network, a locally built image and a container, and destroy leaves nothing", async () => {
    let output = "";
    const result = await stack.up({ onOutput: (s) => (output += s) });
    expect(result.summary.resourceChanges).toMatchObject({ create: 4 });
    // No warning about plugins or the language host found in unexpected places.
    expect(output).not.toMatch(/warning: using pulumi-/);
    const state = await docker(
      "inspect",
      "--format",
      "{{.State.Status}} {{range $n, $_ := .NetworkSettings.Networks}}{{$n}}{{end}}",
      `${NAME}-box`,
    );
    expect(state).toBe(`running ${NAME}-net`);

    await stack.destroy();
    expect(await leftovers()).toEqual([]);
  });
});
