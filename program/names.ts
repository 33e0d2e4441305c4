// Docker names of a stack's objects. Everything derives from the Pulumi project and stack names, so two
// stacks (dev and a test stack, say) run side by side on one host without touching each other.
import { createHash } from "node:crypto";

/**
 * `<project>-<stack>` in the alphabet every Docker name accepts (lowercase letters and digits joined by
 * single dashes). When that changed the name (`Dev`, `feature.x`), a short hash of the original keeps
 * stacks that differ only in such characters apart.
 */
export function dockerPrefix(project: string, stack: string): string {
  const raw = `${project}-${stack}`;
  const safe = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (safe === raw) return safe;
  return `${safe}-${createHash("sha256").update(raw).digest("hex").slice(0, 6)}`;
}

/** The Docker names of one stack. */
export function stackDockerNames(prefix: string, networks: { public: string; internal: string }) {
  return {
    publicNetwork: `${prefix}-${networks.public}`,
    internalNetwork: `${prefix}-${networks.internal}`,
    opaContainer: `${prefix}-opa`,
    opaImage: `${prefix}/opa`,
    /** Replica `replica` of app generation `generation` (program/plan.ts appGeneration). */
    appContainer: (generation: string, replica: number) => `${prefix}-app-${generation}-${replica}`,
    appImage: (image: string) => `${prefix}/${image}`,
    nginxContainer: `${prefix}-nginx`,
    nginxImage: `${prefix}/nginx`,
  };
}
