// The release model (README, "Releases"): which sets of app containers run, which image each runs and how the
// traffic splits, planned from the stack's last release state (its outputs) and what the stack config and the
// manifest ask for now. Pure: the program declares what this returns, and the canary gate decides whether the
// move from `from` to `to` may happen (components depend on the gate, so a refusal changes nothing).
import type { Mode } from "../lib/modes";
import type { AppSet, Release, ReleaseAction, ReleaseMove, ReleaseState } from "../lib/release-state";

export { EMPTY_RELEASE_STATE } from "../lib/release-state";
export type { AppSet, Judgement, Release, ReleaseAction, ReleaseState } from "../lib/release-state";

/** One set of app containers to run. */
export interface SetPlan {
  set: AppSet;
  version: string;
  /** The image's full tag, <repository>:<version>-<content hash>. */
  image: string;
  replicas: number;
}

/** The move the canary gate carries out, and the sets that run once it has. */
export interface ReleasePlan extends ReleaseMove {
  /** The sets to run, stable first. */
  sets: SetPlan[];
}

export interface ReleaseRequest {
  /** The stack's release state after its last update (EMPTY_RELEASE_STATE on a first deploy). */
  previous: ReleaseState;
  /** The stack config's mode. */
  mode: Mode;
  /** manifest service.version. */
  version: string;
  /** The tag service/ builds to now (<repository>:<version>-<content hash>). */
  builtImage: string;
  appReplicas: number;
  canaryReplicas: number;
  weight: number;
  /** manifest app.retained_versions: stable versions whose images are kept, the running one included. */
  retainedVersions: number;
}

/** A request the release model cannot carry out (the message names the key and says what to do). */
export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

/** The sets, the traffic split, the judgement and the release state after the move. */
export function planRelease(req: ReleaseRequest): ReleasePlan {
  checkSameCode(req);
  const plan = planMove(req);
  // The limit holds after every move: lowering app.retained_versions lets the oldest images go at once.
  const retained = plan.to.retained.slice(0, req.retainedVersions - 1);
  return { ...plan, to: { ...plan.to, retained, built: req.builtImage } };
}

function planMove(req: ReleaseRequest): ReleasePlan {
  const from = req.previous;
  const stable = from.stable;
  const wanted = req.version;
  const release = (version: string): Release => ({ version, image: imageOf(req, version) });

  if (stable === null) {
    if (req.mode === "canary") {
      const canary = release(wanted);
      return only(req, "canary", canary, {
        action: canaryAction(from.canary, canary),
        to: { stable: null, canary, retained: [], built: null },
        judgement: null,
        reason: null,
      });
    }
    if (from.canary?.version === wanted) {
      return only(req, "stable", from.canary, {
        action: "canary_promoted",
        to: { stable: from.canary, canary: null, retained: [], built: null },
        judgement: "canary",
        reason: null,
      });
    }
    const first = release(wanted);
    return only(req, "stable", first, {
      action: "release_unjudged",
      to: { stable: first, canary: null, retained: [], built: null },
      // With a canary-only set running (another version), the release rule decides as for any version
      // that skips the canary; with nothing running, it is the first deploy.
      judgement: from.canary === null ? null : "release",
      reason: from.canary === null ? "first deploy" : `${wanted} has not run as a canary`,
    });
  }

  if (wanted === stable.version) {
    // The stable version asked for in either mode: a running canary leaves (abort), otherwise nothing to do.
    return only(req, "stable", stable, {
      action: from.canary === null ? "none" : "canary_aborted",
      to: { ...from, canary: null },
      judgement: null,
      reason: null,
    });
  }

  if (req.mode === "canary") {
    const canary = release(wanted);
    const to: ReleaseState = { ...from, canary };
    return {
      action: canaryAction(from.canary, canary),
      from,
      to,
      sets: [
        { set: "stable", ...stable, replicas: req.appReplicas },
        { set: "canary", ...canary, replicas: req.canaryReplicas },
      ],
      weight: req.weight,
      judgement: null,
      runningMode: "canary",
      reason: null,
    };
  }

  const retained = from.retained.find((r) => r.version === wanted);
  if (from.canary?.version === wanted) {
    return only(req, "stable", from.canary, {
      action: "canary_promoted",
      to: promoted(from, from.canary, req.retainedVersions),
      judgement: "canary",
      reason: null,
    });
  }
  if (retained !== undefined) {
    return only(req, "stable", retained, {
      action: "rolled_back",
      to: promoted(from, retained, req.retainedVersions),
      judgement: "release",
      reason: `rollback from ${stable.version}`,
    });
  }
  const unjudged = release(wanted);
  return only(req, "stable", unjudged, {
    action: "release_unjudged",
    to: promoted(from, unjudged, req.retainedVersions),
    judgement: "release",
    reason: `${wanted} has not run as a canary`,
  });
}

/** Every image the stack keeps after the move: the running sets' and the retained ones, each tag once. */
export function keptImages(state: ReleaseState): string[] {
  const tags = [state.stable, state.canary, ...state.retained].flatMap((r) => (r === null ? [] : [r.image]));
  return [...new Set(tags)];
}

/** A version's image: the one it ran with when it is known (retained, stable, canary), else service/'s build. */
function imageOf(req: ReleaseRequest, version: string): string {
  const { stable, canary, retained } = req.previous;
  const known = [canary, stable, ...retained].find((r) => r?.version === version);
  return known?.image ?? req.builtImage;
}

/**
 * A version, once deployed, always runs the same image. service/ holds the code of the version it builds:
 * when that version runs (stable or canary) with an image of other code and service/ changed since the last
 * update, the code changed without a new version, and the change would silently not deploy.
 */
function checkSameCode(req: ReleaseRequest) {
  const { stable, canary, built } = req.previous;
  // service/ unchanged since the last update, whatever version its build is tagged with now (e.g. after a
  // rollback, or back to the stable version to abort a canary, while service/ still holds the later code).
  if (built !== null && contentHash(built) === contentHash(req.builtImage)) return;
  // Aborting a canary runs stable's recorded image and builds nothing: service/ may already hold the next version.
  if (canary !== null && req.version === stable?.version) return;
  for (const [role, running] of [
    ["stable", stable],
    ["canary", canary],
  ] as const) {
    if (running === null || running.version !== req.version || running.image === req.builtImage) continue;
    throw new ReleaseError(
      `service.version "${req.version}" is the ${role} version and runs image ${running.image}, but service/ ` +
        `now builds ${req.builtImage}: its code changed. Set a new service.version in manifest.yaml for the ` +
        `changed code (a version always runs the same image).`,
    );
  }
}

/** The content hash a tag ends with (<repository>:<version>-<content hash>; a version may hold "-" too). */
function contentHash(tag: string): string {
  return tag.slice(tag.lastIndexOf("-") + 1);
}

function canaryAction(running: Release | null, wanted: Release): ReleaseAction {
  if (running === null) return "canary_started";
  return running.version === wanted.version ? "none" : "canary_changed";
}

/** `release` becomes stable; the previous stable joins the retained ones, the oldest beyond the limit go. */
function promoted(from: ReleaseState, release: Release, retainedVersions: number): ReleaseState {
  const earlier = [from.stable, ...from.retained].filter(
    (r): r is Release => r !== null && r.version !== release.version,
  );
  return { stable: release, canary: null, retained: earlier.slice(0, retainedVersions - 1), built: null };
}

/** A plan with one set taking every request. */
function only(
  req: ReleaseRequest,
  set: AppSet,
  release: Release,
  rest: Pick<ReleasePlan, "action" | "to" | "judgement" | "reason">,
): ReleasePlan {
  return {
    ...rest,
    from: req.previous,
    sets: [{ set, ...release, replicas: req.appReplicas }],
    weight: null,
    runningMode: rest.to.canary === null ? "stable" : "canary",
  };
}
