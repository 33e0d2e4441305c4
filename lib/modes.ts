// The modes the app runs in: read from the stack config by the program, passed to the containers in their
// environment, read back by the service, and encoded in its `app_mode` gauge. Written once, here.

export const MODES = ["canary", "stable"] as const;
export type Mode = (typeof MODES)[number];

/** The mode of a stack whose config does not say. */
export const DEFAULT_MODE: Mode = "canary";

export function isMode(value: unknown): value is Mode {
  return MODES.some((m) => m === value);
}
