// The rendered nginx.conf checked by nginx itself: `nginx -t` in a throwaway container of the stack's own
// nginx image, with no network (the upstream is named by an address, as the rollout step writes it, so the
// test looks nothing up). Before the first deploy that image does not exist yet: it is built here, from the
// same context and under the same name as `pulumi up` builds it (components/nginx.ts), so the first deploy
// finds Docker's layer cache warm. When nginx cannot be run, the outcome says exactly why.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DockerRun, RunDocker } from "./docker";

/** Where the nginx container reads its config (components/images/nginx/nginx-start.sh). */
const CONFIG_DIR_IN_CONTAINER = "/etc/nginx/swiftdeploy";
/** Lines of a failed build quoted in the outcome. */
const BUILD_TAIL_LINES = 15;
/** A build step line is cut to this many characters (a RUN step is one long shell line). */
const STEP_WIDTH = 100;

export interface Outcome {
  ok: boolean;
  detail: string;
}

export interface NginxCheck {
  /** The stack's nginx image (plan.names.nginxImage). */
  image: string;
  /** Its build context, components/images/nginx. */
  buildContext: string;
  /** The rendered nginx.conf. */
  config: string;
}

/** `nginx -t` of the config; builds the image first when it is missing, reporting the build's steps. */
export async function checkNginxConfig(
  check: NginxCheck,
  docker: RunDocker,
  progress: (line: string) => void,
): Promise<Outcome> {
  const engine = await engineProblem(docker);
  if (engine) return { ok: false, detail: `nginx -t not run: ${engine}` };
  let built = "";
  if (!(await imageExists(docker, check.image))) {
    const started = Date.now();
    const failure = await buildImage(check, docker, progress);
    if (failure) return { ok: false, detail: `nginx -t not run: ${failure}` };
    built = ` (built just now, in ${Math.round((Date.now() - started) / 1000)} s)`;
  }
  const test = await nginxTest(check, docker);
  return test.code === 0
    ? { ok: true, detail: `nginx -t passes with ${check.image}${built}` }
    : { ok: false, detail: `nginx -t failed with ${check.image}${built}:\n${output(test)}` };
}

/** Why Docker cannot run anything here, or null when its engine answers. */
async function engineProblem(docker: RunDocker): Promise<string | null> {
  let run: DockerRun;
  try {
    run = await docker(["version", "--format", "{{.Server.Version}}"]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? "the docker CLI is not installed (`npm run setup` installs Debian's docker.io)"
      : `docker could not be started: ${(err as Error).message}`;
  }
  if (run.code === 0) return null;
  return `the Docker engine does not answer (\`docker version\`: ${firstLine(run)}); \`npm run setup\` starts it`;
}

async function imageExists(docker: RunDocker, image: string): Promise<boolean> {
  return (await docker(["image", "inspect", "--format", "{{.Id}}", image])).code === 0;
}

/** Builds the image, showing each build step; returns why it failed, or null. */
async function buildImage(
  check: NginxCheck,
  docker: RunDocker,
  progress: (line: string) => void,
): Promise<string | null> {
  const base = baseImage(check.buildContext);
  if (base && !(await imageExists(docker, base))) {
    return `${check.image} is not built yet, and its base image ${base} is missing (\`npm run setup\` builds it)`;
  }
  const context = path.relative(process.cwd(), check.buildContext) || ".";
  progress(
    `building ${check.image} from ${context}: it does not exist yet (pulumi up builds it the same way)`,
  );
  // Both streams in the order they came: a failed step's error follows its output.
  const lines: string[] = [];
  const build = await docker(["build", "--tag", check.image, check.buildContext], (line) => {
    lines.push(line);
    const step = buildStep(line);
    if (step) progress(`  ${step}`);
  });
  if (build.code === 0) return null;
  const tail = lines.slice(-BUILD_TAIL_LINES).join("\n").trim() || "no output";
  return `building ${check.image} failed (docker build exited with ${build.code}):\n${tail}`;
}

/** The image the Dockerfile starts FROM (its first FROM line); null when it has none or names it by an ARG. */
export function baseImage(buildContext: string): string | null {
  const dockerfile = fs.readFileSync(path.join(buildContext, "Dockerfile"), "utf8");
  const base = /^FROM\s+(?:--\S+\s+)*(\S+)/im.exec(dockerfile)?.[1];
  return base === undefined || base.includes("$") ? null : base;
}

/**
 * A build step's heading, in the classic builder's words ("Step 2/7 : RUN …") or BuildKit's plain ones
 * ("#5 [2/3] RUN …"); null for every other line (a step's own output: apt's, for one).
 */
export function buildStep(line: string): string | null {
  const step = /^(Step \d+\/\d+ : .*|#\d+ \[[^\]]*\d+\/\d+\] .*)$/.exec(line.trim())?.[1];
  if (!step) return null;
  const oneLine = step.replace(/\s+/g, " ");
  return oneLine.length > STEP_WIDTH ? `${oneLine.slice(0, STEP_WIDTH - 1)}…` : oneLine;
}

async function nginxTest(check: NginxCheck, docker: RunDocker): Promise<DockerRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "swiftdeploy-validate-"));
  try {
    fs.writeFileSync(path.join(dir, "nginx.conf"), check.config);
    return await docker([
      "run",
      "--rm",
      "--network",
      "none",
      "--volume",
      `${dir}:${CONFIG_DIR_IN_CONTAINER}:ro`,
      check.image,
      "nginx",
      "-t",
      "-q",
      "-c",
      `${CONFIG_DIR_IN_CONTAINER}/nginx.conf`,
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What docker said, its errors first. */
function output(run: DockerRun): string {
  return [run.stderr.trim(), run.stdout.trim()].filter(Boolean).join("\n") || "no output";
}

function firstLine(run: DockerRun): string {
  return output(run).split("\n")[0];
}
