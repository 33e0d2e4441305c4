// What a user sees when `pulumi preview` meets bad input (stack config, manifest): the CLI's header, the
// problems, and its summary, nothing else: no "unhandled exception", no stack trace (index.ts turns input
// errors into Pulumi's RunError). A genuine bug still shows its stack. The program stops before it
// registers anything, so these previews need no deploy and touch no Docker object.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestProject } from "./support/project";

let project: TestProject;

beforeAll(async () => {
  project = await TestProject.create({ name: "input" });
});

afterAll(async () => {
  await project?.dispose();
});

interface CliRun {
  code: number;
  output: string;
}

/** `pulumi preview` as a user types it (without a terminal, so the CLI's non-interactive display). */
function preview(): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      "pulumi",
      ["preview", "--stack", project.stackName],
      { cwd: project.dir, env: { ...process.env, ...project.env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/**
 * The preview's output with only what differs from run to run replaced: the throwaway project's folder
 * and stack name, and the progress line the CLI prints while it waits (`@ previewing update....`, as many
 * dots as seconds passed, and only when a step took long enough).
 */
async function normalisedPreview(): Promise<CliRun> {
  const run = await preview();
  const output = run.output
    .split("\n")
    .filter((line) => !/^@ previewing update\.*$/.test(line))
    .join("\n")
    .replaceAll(project.dir, "<project>")
    .replaceAll(project.stackName, "<stack>");
  return { ...run, output };
}

/** The CLI's display of a preview whose program failed before it declared anything. */
function failedPreview(errorLines: string[]): string {
  const [first, ...rest] = errorLines;
  return [
    "Previewing update (<stack>):",
    "",
    " +  pulumi:pulumi:Stack swiftdeploy-<stack> create ",
    ` +  pulumi:pulumi:Stack swiftdeploy-<stack> create error: ${first}`,
    " +  pulumi:pulumi:Stack swiftdeploy-<stack> create 1 error",
    "Diagnostics:",
    "  pulumi:pulumi:Stack (swiftdeploy-<stack>):",
    `    error: ${first}`,
    ...rest.map((line) => `    ${line}`),
    "",
    "Resources:",
    "    + 1 to create",
    "    1 errored",
    "",
    "",
  ].join("\n");
}

describe("pulumi preview with bad input", () => {
  it("shows a bad mode as the problem alone, between the CLI's header and summary", async () => {
    await project.stack.setConfig("swiftdeploy:mode", { value: "blue" });
    try {
      const run = await normalisedPreview();
      expect(run.output).toBe(
        failedPreview([
          "stack config is not valid (1 problem):",
          '  - config swiftdeploy:mode must be one of canary, stable; got "blue"',
        ]),
      );
      expect(run.code).not.toBe(0);
    } finally {
      await project.stack.removeConfig("swiftdeploy:mode");
    }
  });

  it("lists both problems of a manifest with two, and nothing more", async () => {
    const original = editManifest((text) =>
      text.replace(/replicas: 1 /, "replicas: 0 ").replace(/bind: 0\.0\.0\.0 /, 'bind: "0.0.0.999" '),
    );
    try {
      const run = await normalisedPreview();
      expect(run.output).toBe(
        failedPreview([
          "<project>/manifest.yaml is not valid (2 problems):",
          "  - manifest.app.replicas must be >= 1, got 0",
          '  - manifest.ingress.bind must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, got "0.0.0.999"',
        ]),
      );
      expect(run.code).not.toBe(0);
    } finally {
      project.editFile("manifest.yaml", () => original);
    }
  });

  it("names a manifest file that does not exist, and nothing more", async () => {
    await project.stack.setConfig("swiftdeploy:manifest", { value: "stacks/missing.yaml" });
    try {
      const run = await normalisedPreview();
      expect(run.output).toBe(
        failedPreview([
          "the manifest cannot be read (1 problem):",
          "  - <project>/stacks/missing.yaml does not exist",
        ]),
      );
      expect(run.code).not.toBe(0);
    } finally {
      await project.stack.removeConfig("swiftdeploy:manifest");
    }
  });

  it("still shows a genuine bug with its stack trace", async () => {
    // A bug where input errors come from: the same path, but not an input error.
    const original = editFileOfCopy("program/stack-settings.ts", (text) =>
      text.replace(
        /export function readStackSettings\([^)]*\)[^{]*\{\n/,
        (head) => `${head}  throw new TypeError("a bug this test put here");\n`,
      ),
    );
    try {
      const run = await normalisedPreview();
      // Node colours the paths of a stack trace (util.inspect); the words are what this test reads.
      const output = run.output.replace(/\x1b\[[0-9;]*m/g, "");
      expect(output).toContain(
        "error: Running program '<project>/index.ts' failed with an unhandled exception:",
      );
      expect(output).toContain("TypeError: a bug this test put here");
      expect(output).toMatch(/ at readStackSettings \(<project>\/program\/stack-settings\.ts:\d+:\d+\)/);
      expect(output).toMatch(/ at loadStackPlan \(<project>\/program\/plan\.ts:\d+:\d+\)/);
      expect(run.code).not.toBe(0);
    } finally {
      project.editFile("program/stack-settings.ts", () => original);
    }
  });

  it("leaves no Docker object behind", async () => {
    expect(await project.leftovers()).toEqual([]);
  });
});

/** Edits the copy's manifest.yaml; returns the text before, to restore. */
function editManifest(edit: (text: string) => string): string {
  return editFileOfCopy("manifest.yaml", edit);
}

/** Edits a file of the project copy, failing if the edit changed nothing; returns the text before. */
function editFileOfCopy(relative: string, edit: (text: string) => string): string {
  let original = "";
  project.editFile(relative, (text) => {
    original = text;
    const edited = edit(text);
    if (edited === text) throw new Error(`the test's edit of ${relative} changed nothing`);
    return edited;
  });
  return original;
}
