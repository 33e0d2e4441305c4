// program/build-context.ts: content hashes that decide rebuilds, build contexts copied only when changed, and
// finding the tools setup built on PATH.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { findTool, hashFiles, listFiles, prepareBuildContext } from "../../../program/build-context";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-build-context-"));
let dir: string;
let counter = 0;

beforeEach(() => {
  dir = path.join(root, String(counter++));
  fs.mkdirSync(dir);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function write(name: string, content: string, mode = 0o644): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
  return file;
}

/** Sets a file's modification time to a fixed moment, as a copy that keeps it would. */
function touch(file: string, seconds: number): void {
  fs.utimesSync(file, seconds, seconds);
}

describe("hashFiles", () => {
  it("gives 16 hex digits, the same whatever the order of the files", () => {
    const files = [write("a", "alpha"), write("b", "beta"), write("c/d", "delta")];
    const hash = hashFiles(files, dir);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(hashFiles([...files].reverse(), dir)).toBe(hash);
    expect(hashFiles(files, dir)).toBe(hash);
  });

  it.each<[string, (files: string[]) => string[]]>([
    ["one file's content changes", (files) => (write("a", "alphA"), files)],
    ["one file's content grows", (files) => (write("b", "beta\n"), files)],
    ["a file is added", (files) => [...files, write("e", "")]],
    ["a file is left out", (files) => files.slice(1)],
    [
      "a file is renamed",
      (files) => (fs.renameSync(files[0], path.join(dir, "z")), [path.join(dir, "z"), files[1]]),
    ],
  ])("changes when %s", (_, change) => {
    const files = [write("a", "alpha"), write("b", "beta")];
    const before = hashFiles(files, dir);
    expect(hashFiles(change(files), dir)).not.toBe(before);
  });

  it("is the same for the same files in a moved folder", () => {
    const files = [write("a", "alpha"), write("c/d", "delta")];
    const before = hashFiles(files, dir);
    const moved = `${dir}-moved`;
    fs.cpSync(dir, moved, { recursive: true });
    const movedFiles = files.map((f) => path.join(moved, path.relative(dir, f)));
    expect(hashFiles(movedFiles, moved)).toBe(before);
  });

  it("does not depend on modification times", () => {
    const file = write("a", "alpha");
    const before = hashFiles([file], dir);
    touch(file, 1_000_000);
    expect(hashFiles([file], dir)).toBe(before);
  });

  describe("with statAbove", () => {
    it("counts a file above the limit by size and modification time, not content", () => {
      const [small, big] = [write("Dockerfile", "FROM x"), write("opa", "0123456789")];
      touch(big, 1_000_000);
      const hash = (files = [small, big]) => hashFiles(files, dir, { statAbove: 5 });
      const before = hash();
      expect(before).not.toBe(hashFiles([small, big], dir));
      write("opa", "9876543210");
      touch(big, 1_000_000);
      expect(hash()).toBe(before);
      touch(big, 2_000_000);
      expect(hash()).not.toBe(before);
      write("opa", "01234567890");
      touch(big, 1_000_000);
      expect(hash()).not.toBe(before);
    });

    it("still reads files up to the limit", () => {
      const file = write("Dockerfile", "FROM x");
      const before = hashFiles([file], dir, { statAbove: 6 });
      expect(before).toBe(hashFiles([file], dir));
      write("Dockerfile", "FROM y");
      expect(hashFiles([file], dir, { statAbove: 6 })).not.toBe(before);
    });
  });
});

describe("listFiles", () => {
  it("lists every regular file under a folder, recursively, as absolute paths", () => {
    const files = [write("Dockerfile", "FROM x"), write("sub/deep/file", "y")];
    fs.symlinkSync(files[0], path.join(dir, "link"));
    expect(listFiles(dir).sort()).toEqual(files.sort());
  });
});

describe("prepareBuildContext", () => {
  function sources() {
    const dockerfile = write(
      "src/Dockerfile",
      "FROM local/debian:bookworm-slim\nCOPY opa /usr/local/bin/opa\n",
    );
    const binary = write("src/opa", "#!/bin/sh\necho opa\n", 0o755);
    touch(dockerfile, 1_700_000_000);
    touch(binary, 1_700_000_100);
    return { dockerfile, binary, context: path.join(dir, "context") };
  }

  it("copies the Dockerfile and the named files, keeping their modes and modification times", () => {
    const { dockerfile, binary, context } = sources();
    expect(prepareBuildContext(context, dockerfile, { opa: binary })).toBe(context);
    expect(fs.readdirSync(context).sort()).toEqual(["Dockerfile", "opa"]);
    expect(fs.readFileSync(path.join(context, "opa"), "utf8")).toBe("#!/bin/sh\necho opa\n");
    const copied = fs.statSync(path.join(context, "opa"));
    expect(copied.mode & 0o777).toBe(0o755);
    expect(copied.mtimeMs).toBe(fs.statSync(binary).mtimeMs);
  });

  it("leaves a copied file alone while the source keeps its size and modification time", () => {
    const { dockerfile, binary, context } = sources();
    prepareBuildContext(context, dockerfile, { opa: binary });
    // Same size and mtime, other bytes: only a copy would bring the source's bytes back.
    const target = path.join(context, "opa");
    fs.writeFileSync(target, "#!/bin/sh\necho OPA\n");
    touch(target, 1_700_000_100);
    prepareBuildContext(context, dockerfile, { opa: binary });
    expect(fs.readFileSync(target, "utf8")).toBe("#!/bin/sh\necho OPA\n");
  });

  it.each<[string, (binary: string) => void]>([
    ["its modification time changes", (binary) => touch(binary, 1_700_000_200)],
    [
      "its size changes",
      (binary) => (fs.writeFileSync(binary, "#!/bin/sh\necho opa 2\n"), touch(binary, 1_700_000_100)),
    ],
  ])("copies a file again when %s", (_, change) => {
    const { dockerfile, binary, context } = sources();
    prepareBuildContext(context, dockerfile, { opa: binary });
    change(binary);
    prepareBuildContext(context, dockerfile, { opa: binary });
    expect(fs.readFileSync(path.join(context, "opa"), "utf8")).toBe(fs.readFileSync(binary, "utf8"));
    expect(fs.statSync(path.join(context, "opa")).mtimeMs).toBe(fs.statSync(binary).mtimeMs);
  });

  it("keeps the context's hash when nothing changed, so the image is not rebuilt", () => {
    const { dockerfile, binary, context } = sources();
    const first = hashFiles(listFiles(prepareBuildContext(context, dockerfile, { opa: binary })), context);
    expect(hashFiles(listFiles(prepareBuildContext(context, dockerfile, { opa: binary })), context)).toBe(
      first,
    );
  });
});

describe("findTool", () => {
  it("returns the first executable of that name on PATH, with links resolved", () => {
    const real = write("tools/v1/opa", "#!/bin/sh\n", 0o755);
    fs.mkdirSync(path.join(dir, "bin"));
    fs.symlinkSync(real, path.join(dir, "bin", "opa"));
    write("later/opa", "#!/bin/sh\n", 0o755);
    const PATH = [path.join(dir, "missing"), path.join(dir, "bin"), path.join(dir, "later")].join(
      path.delimiter,
    );
    expect(findTool("opa", { PATH })).toBe(real);
  });

  it("skips a file of that name that is not executable", () => {
    write("plain/opa", "not a program");
    const tool = write("exec/opa", "#!/bin/sh\n", 0o755);
    const PATH = [path.join(dir, "plain"), path.join(dir, "exec")].join(path.delimiter);
    expect(findTool("opa", { PATH })).toBe(tool);
  });

  it.each([
    ["an empty PATH", { PATH: "" }],
    ["no PATH at all", {}],
    ["a PATH without it", { PATH: os.tmpdir() }],
  ])("with %s says the tool is missing and how to get it", (_, env) => {
    expect(() => findTool("opa-not-installed", env)).toThrow(
      "opa-not-installed is not on PATH: run `npm run setup` and `source scripts/env` first",
    );
  });
});
