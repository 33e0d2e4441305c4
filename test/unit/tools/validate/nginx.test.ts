// `npm run validate`'s nginx check against a stand-in docker CLI: which docker commands it runs, in which
// order, what the user sees while the image builds, and the exact words of every way it can fail.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DockerRun, RunDocker } from "../../../../tools/validate/docker";
import { baseImage, buildStep, checkNginxConfig } from "../../../../tools/validate/nginx";

const IMAGE = "swiftdeploy-dev/nginx";
const CONFIG = "events {}\nhttp { server { listen 8080; } }\n";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function context(dockerfile = "FROM local/debian:bookworm-slim\nRUN true\n"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "validate-nginx-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
  return dir;
}

const ok = (stdout = ""): DockerRun => ({ code: 0, stdout, stderr: "" });
const failed = (code: number, stderr: string, stdout = ""): DockerRun => ({ code, stdout, stderr });

/**
 * A docker CLI whose answers `respond` decides, by command ("version", "image inspect <name>", "build",
 * "run"); it records every command and, for `docker run`, the config file as the container would see it.
 */
function fakeDocker(respond: (command: string, emit: (line: string) => void) => DockerRun) {
  const calls: string[][] = [];
  let mountedConfig: string | null = null;
  const run: RunDocker = async (args, onLine) => {
    calls.push(args);
    const command = args[0] === "image" ? `image inspect ${args[args.length - 1]}` : args[0];
    if (command === "run") {
      const volume = args[args.indexOf("--volume") + 1];
      mountedConfig = fs.readFileSync(path.join(volume.split(":")[0], "nginx.conf"), "utf8");
    }
    return respond(command, (line) => onLine?.(line));
  };
  return { run, calls, mounted: () => mountedConfig };
}

/** The usual answers: engine up, base image present, the stack's image as `imagePresent` says. */
function answers(imagePresent: boolean, overrides: Record<string, DockerRun> = {}) {
  return (command: string): DockerRun =>
    overrides[command] ??
    (command === `image inspect ${IMAGE}` && !imagePresent
      ? failed(1, `Error: No such image: ${IMAGE}`)
      : ok());
}

async function check(docker: ReturnType<typeof fakeDocker>, buildContext = context()) {
  const progress: string[] = [];
  const outcome = await checkNginxConfig({ image: IMAGE, buildContext, config: CONFIG }, docker.run, (l) =>
    progress.push(l),
  );
  return { outcome, progress };
}

describe("checkNginxConfig", () => {
  it("tests the config with the stack's image, in a container with no network, when the image exists", async () => {
    const docker = fakeDocker(answers(true));
    const { outcome, progress } = await check(docker);
    expect(outcome).toEqual({ ok: true, detail: `nginx -t passes with ${IMAGE}` });
    expect(progress).toEqual([]);
    expect(docker.calls.map((c) => c[0])).toEqual(["version", "image", "run"]);
    const [, ...runArgs] = docker.calls[2];
    expect(runArgs.filter((a) => !a.includes(":/etc/nginx/"))).toEqual([
      "--rm",
      "--network",
      "none",
      "--volume",
      IMAGE,
      "nginx",
      "-t",
      "-q",
      "-c",
      "/etc/nginx/swiftdeploy/nginx.conf",
    ]);
    expect(docker.mounted()).toBe(CONFIG);
  });

  it("builds the image when it does not exist yet, showing each build step, then tests the config", async () => {
    const buildContext = context();
    const docker = fakeDocker((command, emit) => {
      if (command === "build") {
        for (const line of [
          "Sending build context to Docker daemon  3.072kB",
          "Step 1/2 : FROM local/debian:bookworm-slim",
          " ---> 9933515aa1b3",
          "Step 2/2 : RUN apt-get update  && apt-get install -y nginx-light",
          "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
          "Successfully tagged swiftdeploy-dev/nginx:latest",
        ])
          emit(line);
        return ok();
      }
      return answers(false)(command);
    });
    const { outcome, progress } = await check(docker, buildContext);
    expect(outcome.ok).toBe(true);
    expect(outcome.detail).toMatch(
      /^nginx -t passes with swiftdeploy-dev\/nginx \(built just now, in \d+ s\)$/,
    );
    expect(progress).toEqual([
      `building ${IMAGE} from ${path.relative(process.cwd(), buildContext)}: it does not exist yet (pulumi up builds it the same way)`,
      "  Step 1/2 : FROM local/debian:bookworm-slim",
      "  Step 2/2 : RUN apt-get update && apt-get install -y nginx-light",
    ]);
    expect(docker.calls).toContainEqual(["build", "--tag", IMAGE, buildContext]);
    expect(docker.calls.map((c) => c[0])).toEqual(["version", "image", "image", "build", "run"]);
  });

  it("says the base image is missing instead of letting docker try to pull it", async () => {
    const docker = fakeDocker(
      answers(false, { "image inspect local/debian:bookworm-slim": failed(1, "Error: No such image") }),
    );
    const { outcome, progress } = await check(docker);
    expect(outcome).toEqual({
      ok: false,
      detail:
        "nginx -t not run: swiftdeploy-dev/nginx is not built yet, and its base image local/debian:bookworm-slim " +
        "is missing (`npm run setup` builds it)",
    });
    expect(progress).toEqual([]);
    expect(docker.calls.map((c) => c[0])).not.toContain("build");
  });

  it("quotes the end of a failed build, both streams in the order they came", async () => {
    const docker = fakeDocker((command, emit) => {
      if (command === "build") {
        ["Step 2/2 : RUN apt-get install -y nginx-light", "E: Unable to locate package nginx-light"].forEach(
          emit,
        );
        emit("The command '/bin/sh -c apt-get install -y nginx-light' returned a non-zero code: 100");
        return failed(100, "The command ... returned a non-zero code: 100", "Step 2/2 : ...");
      }
      return answers(false)(command);
    });
    const { outcome } = await check(docker);
    expect(outcome).toEqual({
      ok: false,
      detail: [
        "nginx -t not run: building swiftdeploy-dev/nginx failed (docker build exited with 100):",
        "Step 2/2 : RUN apt-get install -y nginx-light",
        "E: Unable to locate package nginx-light",
        "The command '/bin/sh -c apt-get install -y nginx-light' returned a non-zero code: 100",
      ].join("\n"),
    });
    expect(docker.calls.map((c) => c[0])).not.toContain("run");
  });

  it("fails with nginx's own words when nginx -t refuses the config", async () => {
    const refusal =
      'nginx: [emerg] unknown directive "lisen" in /etc/nginx/swiftdeploy/nginx.conf:1\n' +
      "nginx: configuration file /etc/nginx/swiftdeploy/nginx.conf test failed";
    const docker = fakeDocker(answers(true, { run: failed(1, refusal) }));
    expect((await check(docker)).outcome).toEqual({
      ok: false,
      detail: `nginx -t failed with ${IMAGE}:\n${refusal}`,
    });
  });

  it("says the Docker engine does not answer, and how to start it, without trying anything else", async () => {
    const down =
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    const docker = fakeDocker(answers(true, { version: failed(1, down, "Client: 20.10.24") }));
    expect((await check(docker)).outcome).toEqual({
      ok: false,
      detail: `nginx -t not run: the Docker engine does not answer (\`docker version\`: ${down}); \`npm run setup\` starts it`,
    });
    expect(docker.calls).toHaveLength(1);
  });

  it("says the docker CLI is not installed", async () => {
    const missing: RunDocker = async () => {
      throw Object.assign(new Error("spawn docker ENOENT"), { code: "ENOENT" });
    };
    const outcome = await checkNginxConfig(
      { image: IMAGE, buildContext: context(), config: CONFIG },
      missing,
      () => {},
    );
    expect(outcome).toEqual({
      ok: false,
      detail:
        "nginx -t not run: the docker CLI is not installed (`npm run setup` installs Debian's docker.io)",
    });
  });
});

describe("buildStep", () => {
  it.each([
    ["Step 1/6 : FROM local/debian:bookworm-slim", "Step 1/6 : FROM local/debian:bookworm-slim"],
    ["#5 [2/3] RUN apt-get update", "#5 [2/3] RUN apt-get update"],
    [
      "#7 [stage-1 3/4] COPY nginx-start.sh /usr/local/bin/",
      "#7 [stage-1 3/4] COPY nginx-start.sh /usr/local/bin/",
    ],
    [" ---> Using cache", null],
    ["Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]", null],
    ["Successfully built 54d720b1fcaa", null],
    [`Step 2/6 : RUN ${"x".repeat(200)}`, `Step 2/6 : RUN ${"x".repeat(84)}…`],
  ])("reads %j as %j", (line, step) => {
    expect(buildStep(line)).toBe(step);
  });
});

describe("baseImage", () => {
  it("is the image of the nginx context's FROM line", () => {
    const shipped = path.resolve(__dirname, "../../../../components/images/nginx");
    expect(baseImage(shipped)).toBe("local/debian:bookworm-slim");
  });

  it.each([
    ["# base\nFROM --platform=linux/amd64 debian:12 AS build\nFROM scratch\n", "debian:12"],
    ["ARG BASE=debian:12\nFROM ${BASE}\n", null],
  ])("reads the first FROM of %j as %j", (dockerfile, base) => {
    expect(baseImage(context(dockerfile))).toBe(base);
  });
});
