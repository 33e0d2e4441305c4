// The Docker labels of the stack's containers: the program writes them (program/plan.ts, components/app.ts),
// the canary gate's discovery, the dashboard and the recovery filter by them, and the Prometheus file_sd
// targets carry them without the prefix. Written once, here.
export const LABEL = {
  project: "swiftdeploy.project",
  stack: "swiftdeploy.stack",
  role: "swiftdeploy.role",
  /** stable or canary */
  set: "swiftdeploy.set",
  version: "swiftdeploy.version",
  /** The hash of an app container's spec (components/app.ts appGeneration). */
  generation: "swiftdeploy.generation",
  replica: "swiftdeploy.replica",
} as const;
