// Docker names of a stack's objects. Everything derives from the Pulumi project and stack names, so two
// stacks (dev and a test stack, say) run side by side on one host without touching each other.

/** `<project>-<stack>`, lowercased, with characters Docker does not accept in names replaced by `-`. */
export function dockerPrefix(project: string, stack: string): string {
  return `${project}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
}

/** The Docker names of one stack. */
export function stackDockerNames(prefix: string, networks: { public: string; internal: string }) {
  return {
    publicNetwork: `${prefix}-${networks.public}`,
    internalNetwork: `${prefix}-${networks.internal}`,
    opaContainer: `${prefix}-opa`,
    opaImage: `${prefix}/opa`,
    appContainer: (replica: number) => `${prefix}-app-${replica}`,
    appImage: (image: string) => `${prefix}/${image}`,
    nginxContainer: `${prefix}-nginx`,
    nginxImage: `${prefix}/nginx`,
  };
}
export type StackDockerNames = ReturnType<typeof stackDockerNames>;
