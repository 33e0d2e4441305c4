// The stack's release state: which version is stable, which runs as the canary, which earlier stable
// versions keep their image. The program plans from it (program/release.ts), the canary gate records it and
// the stack exports it (outputs `release`, `stableVersion`, `canaryVersion`); status and audit read it.
import type { Mode } from "./modes";

/** The two sets of app containers: the stable one and, while a new version is tried, the canary. */
export const APP_SETS = ["stable", "canary"] as const;
export type AppSet = (typeof APP_SETS)[number];

/** A version and the image it runs, kept for as long as the version may run again. */
export interface Release {
  version: string;
  /** Full tag, <repository>:<version>-<content hash>. */
  image: string;
}

export interface ReleaseState {
  /** null until a version first becomes stable (and after `pulumi destroy`). */
  stable: Release | null;
  canary: Release | null;
  /** Earlier stable versions whose images are kept for a rollback, newest first. */
  retained: Release[];
  /** The tag service/ built to at the last update: a change of the code under a running version shows against it. */
  built: string | null;
}

export const EMPTY_RELEASE_STATE: ReleaseState = { stable: null, canary: null, retained: [], built: null };

/** What a move from one release state to the next is, as history.jsonl records it. */
export const RELEASE_ACTIONS = [
  "none",
  "canary_started",
  "canary_changed",
  "canary_aborted",
  "canary_promoted",
  "release_unjudged",
  "rolled_back",
] as const;
export type ReleaseAction = (typeof RELEASE_ACTIONS)[number];

/** What the canary gate must decide before a move happens; null when nothing needs a decision. */
export type Judgement = "canary" | "release" | null;

/** A move of the release state as the program plans it (program/release.ts) and the canary gate carries it out. */
export interface ReleaseMove {
  action: ReleaseAction;
  from: ReleaseState;
  to: ReleaseState;
  judgement: Judgement;
  /** Percent of requests to the canary while two sets run; null with one set. */
  weight: number | null;
  /** The mode the stack runs once the move is done: canary while a canary set runs, stable otherwise. */
  runningMode: Mode;
  /** Why a release moves without the canary judgement (recorded with it), e.g. "first deploy". */
  reason: string | null;
}

/** Two states name the same versions and images (`built` aside: it follows service/, not the release). */
export function sameRelease(a: ReleaseState, b: ReleaseState): boolean {
  // Normalized first: Pulumi hands a state back with its keys in another order.
  const key = (s: ReleaseState) => {
    const n = releaseStateOf(s);
    return JSON.stringify([n.stable, n.canary, n.retained]);
  };
  return key(a) === key(b);
}

/** A state read back from a stack output or a gate's record; anything else is the empty state. */
export function releaseStateOf(value: unknown): ReleaseState {
  if (typeof value !== "object" || value === null) return EMPTY_RELEASE_STATE;
  const v = value as Partial<ReleaseState>;
  const release = (r: unknown): Release | null =>
    typeof r === "object" &&
    r !== null &&
    typeof (r as Release).version === "string" &&
    typeof (r as Release).image === "string"
      ? { version: (r as Release).version, image: (r as Release).image }
      : null;
  return {
    stable: release(v.stable),
    canary: release(v.canary),
    retained: Array.isArray(v.retained) ? v.retained.flatMap((r) => release(r) ?? []) : [],
    built: typeof v.built === "string" ? v.built : null,
  };
}
