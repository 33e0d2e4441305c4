// Bundles the service into one file for the image: the container has Debian's Node 18 and no npm
// registry, so every dependency is inlined. The stack hashes the output to decide image rebuilds, so the
// same sources must give the same bytes, whatever the working directory.
import { build } from "esbuild";
import { resolve } from "node:path";

const REPO_ROOT = resolve(__dirname, "..");
const SERVICE_DIR = resolve(REPO_ROOT, "service");

export const DEFAULT_BUNDLE = resolve(SERVICE_DIR, "dist", "server.js");

/** Writes the bundle of service/server.ts to `outFile` (default service/dist/server.js) and returns its path. */
export async function bundleService(outFile: string = DEFAULT_BUNDLE): Promise<string> {
  const outfile = resolve(outFile);
  await build({
    // Paths in the bundle's comments are relative to this, so fix it rather than inherit process.cwd().
    absWorkingDir: REPO_ROOT,
    entryPoints: [resolve(SERVICE_DIR, "server.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    legalComments: "none",
    sourcemap: false,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  return outfile;
}

if (require.main === module) {
  bundleService().then(
    (file) => console.log(file),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
