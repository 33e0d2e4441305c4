// The release model's planning (README, "Releases"): from the stack's last release state and what the
// config and the manifest ask for now, which sets run with which image, how the traffic splits, what the
// canary gate must decide and the state after the move. Every row of the lifecycle, one table.
import { describe, expect, it } from "vitest";
import {
  EMPTY_RELEASE_STATE,
  keptImages,
  planRelease,
  ReleaseError,
  type Release,
  type ReleasePlan,
  type ReleaseRequest,
  type ReleaseState,
} from "../../../program/release";

/** <repository>:<version>-<content hash>, as the program tags service/'s build. */
const tag = (version: string, hash: string) => `swiftdeploy/app:${version}-${hash}`;
const rel = (version: string, hash: string): Release => ({ version, image: tag(version, hash) });
const state = (s: Partial<ReleaseState>): ReleaseState => ({ ...EMPTY_RELEASE_STATE, ...s });

// Each version ran with code of its own; "cccccccc" is code that never ran.
const Q = rel("0.8.0", "88888888");
const R = rel("0.9.0", "99999999");
const V = rel("1.0.0", "aaaaaaaa");
const W = rel("1.1.0", "bbbbbbbb");
const X = rel("1.2.0", "eeeeeeee");

/** app.replicas 3, canary.replicas 1, weight 20, retained_versions 3 unless a row says otherwise. */
function request(
  r: Pick<ReleaseRequest, "previous" | "mode" | "version" | "builtImage"> & Partial<ReleaseRequest>,
) {
  return { appReplicas: 3, canaryReplicas: 1, weight: 20, retainedVersions: 3, ...r };
}

type Expected = Omit<ReleasePlan, "from">;

/** A plan with one set taking every request. */
const onlySet = (
  set: "stable" | "canary",
  release: Release,
  rest: Pick<ReleasePlan, "action" | "to" | "judgement" | "reason">,
): Expected => ({
  ...rest,
  sets: [{ set, ...release, replicas: 3 }],
  weight: null,
  runningMode: rest.to.canary === null ? "stable" : "canary",
});

/** stable `stable` (app.replicas) and canary `canary` (canary.replicas) at weight 20. */
const twoSets = (stable: Release, canary: Release, rest: Pick<ReleasePlan, "action" | "to">): Expected => ({
  ...rest,
  sets: [
    { set: "stable", ...stable, replicas: 3 },
    { set: "canary", ...canary, replicas: 1 },
  ],
  weight: 20,
  judgement: null,
  runningMode: "canary",
  reason: null,
});

const build = (version: string) => tag(version, "cccccccc");

const LIFECYCLE: [string, ReleaseRequest, Expected][] = [
  // No stable version yet.
  [
    "no stable yet, mode canary: runs the version alone as a canary of app.replicas",
    request({ previous: EMPTY_RELEASE_STATE, mode: "canary", version: "1.0.0", builtImage: build("1.0.0") }),
    onlySet("canary", rel("1.0.0", "cccccccc"), {
      action: "canary_started",
      to: state({ canary: rel("1.0.0", "cccccccc"), built: build("1.0.0") }),
      judgement: null,
      reason: null,
    }),
  ],
  [
    "no stable yet, mode canary, the same canary running: nothing to do",
    request({
      previous: state({ canary: V, built: V.image }),
      mode: "canary",
      version: "1.0.0",
      builtImage: V.image,
    }),
    onlySet("canary", V, {
      action: "none",
      to: state({ canary: V, built: V.image }),
      judgement: null,
      reason: null,
    }),
  ],
  [
    "no stable yet, mode canary, another canary running: the canary changes",
    request({
      previous: state({ canary: V, built: V.image }),
      mode: "canary",
      version: "1.1.0",
      builtImage: build("1.1.0"),
    }),
    onlySet("canary", rel("1.1.0", "cccccccc"), {
      action: "canary_changed",
      to: state({ canary: rel("1.1.0", "cccccccc"), built: build("1.1.0") }),
      judgement: null,
      reason: null,
    }),
  ],
  [
    "no stable yet, mode stable, nothing running: the first deploy, unjudged",
    request({ previous: EMPTY_RELEASE_STATE, mode: "stable", version: "1.0.0", builtImage: build("1.0.0") }),
    onlySet("stable", rel("1.0.0", "cccccccc"), {
      action: "release_unjudged",
      to: state({ stable: rel("1.0.0", "cccccccc"), built: build("1.0.0") }),
      judgement: null,
      reason: "first deploy",
    }),
  ],
  [
    "no stable yet, mode stable, its canary the only set: promoted on the canary judgement (no baseline)",
    request({
      previous: state({ canary: V, built: V.image }),
      mode: "stable",
      version: "1.0.0",
      builtImage: V.image,
    }),
    onlySet("stable", V, {
      action: "canary_promoted",
      to: state({ stable: V, built: V.image }),
      judgement: "canary",
      reason: null,
    }),
  ],
  [
    "no stable yet, mode stable, a canary of another version the only set: the release rule decides",
    request({
      previous: state({ canary: V, built: V.image }),
      mode: "stable",
      version: "1.1.0",
      builtImage: build("1.1.0"),
    }),
    onlySet("stable", rel("1.1.0", "cccccccc"), {
      action: "release_unjudged",
      to: state({ stable: rel("1.1.0", "cccccccc"), built: build("1.1.0") }),
      judgement: "release",
      reason: "1.1.0 has not run as a canary",
    }),
  ],

  // Stable V runs, mode canary with another version W: two sets.
  [
    "stable runs, mode canary with a new version: a canary set beside stable, split by the weight",
    request({
      previous: state({ stable: V, retained: [R, Q], built: V.image }),
      mode: "canary",
      version: "1.1.0",
      builtImage: build("1.1.0"),
    }),
    twoSets(V, rel("1.1.0", "cccccccc"), {
      action: "canary_started",
      to: state({ stable: V, canary: rel("1.1.0", "cccccccc"), retained: [R, Q], built: build("1.1.0") }),
    }),
  ],
  [
    "stable runs, mode canary with the running canary's version: nothing to do",
    request({
      previous: state({ stable: V, canary: W, retained: [R], built: W.image }),
      mode: "canary",
      version: "1.1.0",
      builtImage: W.image,
    }),
    twoSets(V, W, { action: "none", to: state({ stable: V, canary: W, retained: [R], built: W.image }) }),
  ],
  [
    "stable runs, mode canary with a third version: the canary changes, stable stays",
    request({
      previous: state({ stable: V, canary: W, retained: [R], built: W.image }),
      mode: "canary",
      version: "1.2.0",
      builtImage: build("1.2.0"),
    }),
    twoSets(V, rel("1.2.0", "cccccccc"), {
      action: "canary_changed",
      to: state({ stable: V, canary: rel("1.2.0", "cccccccc"), retained: [R], built: build("1.2.0") }),
    }),
  ],
  [
    "stable runs, mode canary with a retained version: the canary runs its recorded image, not the build",
    request({
      previous: state({ stable: V, retained: [R, Q], built: V.image }),
      mode: "canary",
      version: "0.9.0",
      // service/ still holds 1.0.0's code, tagged with the version asked for.
      builtImage: tag("0.9.0", "aaaaaaaa"),
    }),
    twoSets(V, R, {
      action: "canary_started",
      to: state({ stable: V, canary: R, retained: [R, Q], built: tag("0.9.0", "aaaaaaaa") }),
    }),
  ],

  // The stable version asked for again, in either mode.
  ...(["canary", "stable"] as const).flatMap((mode): [string, ReleaseRequest, Expected][] => [
    [
      `stable runs with a canary, mode ${mode} with the stable version: the canary is aborted`,
      request({
        previous: state({ stable: V, canary: W, retained: [R], built: W.image }),
        mode,
        version: "1.0.0",
        // service/ still holds the canary's code: stable keeps its own image.
        builtImage: tag("1.0.0", "bbbbbbbb"),
      }),
      onlySet("stable", V, {
        action: "canary_aborted",
        to: state({ stable: V, retained: [R], built: tag("1.0.0", "bbbbbbbb") }),
        judgement: null,
        reason: null,
      }),
    ],
    [
      `stable runs alone, mode ${mode} with the stable version: nothing to do, the stack runs stable`,
      request({
        previous: state({ stable: V, retained: [R], built: V.image }),
        mode,
        version: "1.0.0",
        builtImage: V.image,
      }),
      onlySet("stable", V, {
        action: "none",
        to: state({ stable: V, retained: [R], built: V.image }),
        judgement: null,
        reason: null,
      }),
    ],
  ]),

  // Mode stable with another version: promotion, rollback or an unjudged release.
  [
    "stable runs, mode stable with the canary's version: the canary is promoted, stable is retained",
    request({
      previous: state({ stable: V, canary: W, retained: [R], built: W.image }),
      mode: "stable",
      version: "1.1.0",
      builtImage: W.image,
    }),
    onlySet("stable", W, {
      action: "canary_promoted",
      to: state({ stable: W, retained: [V, R], built: W.image }),
      judgement: "canary",
      reason: null,
    }),
  ],
  [
    "stable runs, mode stable with a retained version running as the canary: a promotion, not a rollback",
    request({
      previous: state({ stable: V, canary: R, retained: [R, Q], built: tag("0.9.0", "aaaaaaaa") }),
      mode: "stable",
      version: "0.9.0",
      builtImage: tag("0.9.0", "aaaaaaaa"),
    }),
    onlySet("stable", R, {
      action: "canary_promoted",
      to: state({ stable: R, retained: [V, Q], built: tag("0.9.0", "aaaaaaaa") }),
      judgement: "canary",
      reason: null,
    }),
  ],
  [
    "stable runs, mode stable with a retained version: a rollback to its recorded image, judged by the release rule",
    request({
      previous: state({ stable: V, retained: [R, Q], built: V.image }),
      mode: "stable",
      version: "0.9.0",
      // service/ still holds 1.0.0's code: the rollback runs 0.9.0's own image all the same.
      builtImage: tag("0.9.0", "aaaaaaaa"),
    }),
    onlySet("stable", R, {
      action: "rolled_back",
      to: state({ stable: R, retained: [V, Q], built: tag("0.9.0", "aaaaaaaa") }),
      judgement: "release",
      reason: "rollback from 1.0.0",
    }),
  ],
  [
    "stable runs with a canary, mode stable with a retained version: a rollback, the canary leaves",
    request({
      previous: state({ stable: V, canary: W, retained: [R], built: W.image }),
      mode: "stable",
      version: "0.9.0",
      builtImage: tag("0.9.0", "bbbbbbbb"),
    }),
    onlySet("stable", R, {
      action: "rolled_back",
      to: state({ stable: R, retained: [V], built: tag("0.9.0", "bbbbbbbb") }),
      judgement: "release",
      reason: "rollback from 1.0.0",
    }),
  ],
  [
    "stable runs, mode stable with a version that never ran: released unjudged by the canary, the release rule decides",
    request({
      previous: state({ stable: V, retained: [R, Q], built: V.image }),
      mode: "stable",
      version: "1.2.0",
      builtImage: build("1.2.0"),
    }),
    onlySet("stable", rel("1.2.0", "cccccccc"), {
      action: "release_unjudged",
      to: state({ stable: rel("1.2.0", "cccccccc"), retained: [V, R], built: build("1.2.0") }),
      judgement: "release",
      reason: "1.2.0 has not run as a canary",
    }),
  ],
  [
    "stable runs with a canary, mode stable with a third version: released unjudged, the canary leaves",
    request({
      previous: state({ stable: V, canary: W, retained: [], built: W.image }),
      mode: "stable",
      version: "1.2.0",
      builtImage: X.image,
    }),
    onlySet("stable", X, {
      action: "release_unjudged",
      to: state({ stable: X, retained: [V], built: X.image }),
      judgement: "release",
      reason: "1.2.0 has not run as a canary",
    }),
  ],
];

describe("planRelease", () => {
  it.each(LIFECYCLE)("%s", (_row, req, expected) => {
    expect(planRelease(req)).toEqual({ from: req.previous, ...expected });
  });

  it("records the tag service/ builds to as to.built on every move, whichever image runs", () => {
    for (const [, req] of LIFECYCLE) expect(planRelease(req).to.built).toBe(req.builtImage);
  });

  it("takes the replicas and the weight from the request", () => {
    const plan = planRelease(
      request({
        previous: state({ stable: V, built: V.image }),
        mode: "canary",
        version: "1.1.0",
        builtImage: W.image,
        appReplicas: 5,
        canaryReplicas: 2,
        weight: 35,
      }),
    );
    expect(plan.sets.map((s) => [s.set, s.replicas])).toEqual([
      ["stable", 5],
      ["canary", 2],
    ]);
    expect(plan.weight).toBe(35);
    const alone = planRelease(
      request({
        previous: EMPTY_RELEASE_STATE,
        mode: "canary",
        version: "1.0.0",
        builtImage: V.image,
        appReplicas: 5,
      }),
    );
    expect(alone.sets.map((s) => [s.set, s.replicas])).toEqual([["canary", 5]]);
  });

  describe("keeps retained_versions stable versions, the new one included, newest first", () => {
    const promote = (retainedVersions: number) =>
      planRelease(
        request({
          previous: state({ stable: V, canary: W, retained: [R, Q], built: W.image }),
          mode: "stable",
          version: "1.1.0",
          builtImage: W.image,
          retainedVersions,
        }),
      ).to.retained;

    it.each([
      [1, []],
      [2, [V]],
      [3, [V, R]],
      [4, [V, R, Q]],
      [10, [V, R, Q]],
    ])("retained_versions %i retains %j", (retainedVersions, retained) => {
      expect(promote(retainedVersions)).toEqual(retained);
    });

    it("caps a rollback and an unjudged release the same way", () => {
      const previous = state({ stable: V, retained: [R, Q], built: V.image });
      const rollback = planRelease(
        request({
          previous,
          mode: "stable",
          version: "0.8.0",
          builtImage: tag("0.8.0", "aaaaaaaa"),
          retainedVersions: 2,
        }),
      );
      expect(rollback.to).toMatchObject({ stable: Q, retained: [V] });
      const unjudged = planRelease(
        request({ previous, mode: "stable", version: "1.2.0", builtImage: X.image, retainedVersions: 2 }),
      );
      expect(unjudged.to).toMatchObject({ stable: X, retained: [V] });
    });
  });

  it("holds a lowered app.retained_versions after any move, not only after a promotion", () => {
    const previous = state({ stable: V, retained: [R, Q], built: V.image });
    const canary = planRelease(
      request({ previous, mode: "canary", version: W.version, builtImage: W.image, retainedVersions: 2 }),
    );
    expect(canary.to.retained).toEqual([R]);
    expect(keptImages(canary.to)).not.toContain(Q.image);
    const nothing = planRelease(
      request({ previous, mode: "stable", version: V.version, builtImage: V.image, retainedVersions: 1 }),
    );
    expect(nothing.action).toBe("none");
    expect(nothing.to.retained).toEqual([]);
  });

  describe("refuses code changed under a running version", () => {
    const message = (role: string, version: string, running: string, built: string) =>
      `service.version "${version}" is the ${role} version and runs image ${running}, but service/ now builds ` +
      `${built}: its code changed. Set a new service.version in manifest.yaml for the changed code (a version ` +
      `always runs the same image).`;

    it.each([
      ["stable", "canary", state({ stable: V, retained: [R], built: V.image }), V],
      ["stable", "stable", state({ stable: V, retained: [R], built: V.image }), V],
      ["canary", "canary", state({ stable: V, canary: W, built: W.image }), W],
      ["canary", "stable", state({ stable: V, canary: W, built: W.image }), W],
      ["canary", "canary", state({ canary: V, built: V.image }), V],
      ["canary", "stable", state({ canary: V, built: V.image }), V],
    ] as const)(
      "names service.version and both images when the %s version is asked for in mode %s",
      (role, mode, previous, running) => {
        const changed = tag(running.version, "dddddddd");
        const plan = () =>
          planRelease(request({ previous, mode, version: running.version, builtImage: changed }));
        expect(plan).toThrow(ReleaseError);
        expect(plan).toThrow(message(role, running.version, running.image, changed));
      },
    );

    it("is a ReleaseError by name, for the program to show as the message alone", () => {
      const previous = state({ stable: V, built: V.image });
      const err = (() => {
        try {
          planRelease(
            request({ previous, mode: "stable", version: "1.0.0", builtImage: tag("1.0.0", "dddddddd") }),
          );
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ReleaseError);
      expect((err as Error).name).toBe("ReleaseError");
    });

    it.each([
      [
        "after a rollback, service/ unchanged since (the build is the last one)",
        state({ stable: R, retained: [V], built: tag("0.9.0", "aaaaaaaa") }),
        "0.9.0",
        tag("0.9.0", "aaaaaaaa"),
      ],
      [
        "back to the stable version to abort a canary, service/ still holding the canary's code",
        state({ stable: V, canary: W, built: W.image }),
        "1.0.0",
        tag("1.0.0", "bbbbbbbb"),
      ],
      [
        "service/ changed back to the code the running version runs",
        state({ stable: V, built: tag("1.0.0", "bbbbbbbb") }),
        "1.0.0",
        V.image,
      ],
      ["service/ changed for a new version", state({ stable: V, built: V.image }), "1.1.0", build("1.1.0")],
      [
        "back to the stable version to abort a canary, service/ already holding the next version's code",
        state({ stable: V, canary: W, built: W.image }),
        "1.0.0",
        tag("1.0.0", "dddddddd"),
      ],
    ])("lets it through %s", (_what, previous, version, builtImage) => {
      for (const mode of ["canary", "stable"] as const) {
        expect(() => planRelease(request({ previous, mode, version, builtImage }))).not.toThrow();
      }
    });
  });
});

describe("keptImages", () => {
  it.each<[string, ReleaseState, string[]]>([
    ["nothing for the empty state", EMPTY_RELEASE_STATE, []],
    ["a canary-only set's image", state({ canary: V, built: build("2.0.0") }), [V.image]],
    [
      "stable's, the canary's and the retained ones' images, not the build's",
      state({ stable: V, canary: W, retained: [R, Q], built: build("2.0.0") }),
      [V.image, W.image, R.image, Q.image],
    ],
    [
      "a retained version running as the canary's image once",
      state({ stable: V, canary: R, retained: [R, Q] }),
      [V.image, R.image, Q.image],
    ],
  ])("keeps %s", (_what, s, images) => {
    expect(keptImages(s)).toEqual(images);
  });
});
