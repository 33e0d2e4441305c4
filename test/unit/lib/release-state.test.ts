// The release state as the program, the canary gate and the tools read it back from Pulumi: whatever shape
// comes back, one normalized state; two states compare by versions and images, not by key order or `built`.
import { describe, expect, it } from "vitest";
import {
  EMPTY_RELEASE_STATE,
  releaseStateOf,
  sameRelease,
  type Release,
  type ReleaseState,
} from "../../../lib/release-state";

const rel = (version: string, hash = "aaaaaaaa"): Release => ({
  version,
  image: `swiftdeploy/app:${version}-${hash}`,
});

const STATE: ReleaseState = {
  stable: rel("1.1.0"),
  canary: rel("1.2.0", "bbbbbbbb"),
  retained: [rel("1.0.0"), rel("0.9.0")],
  built: "swiftdeploy/app:1.2.0-bbbbbbbb",
};

/** The same state as Pulumi may hand it back: every object's keys in another order. */
const REORDERED = {
  built: STATE.built,
  retained: STATE.retained.map((r) => ({ image: r.image, version: r.version })),
  canary: { image: STATE.canary!.image, version: STATE.canary!.version },
  stable: { image: STATE.stable!.image, version: STATE.stable!.version },
};

describe("EMPTY_RELEASE_STATE", () => {
  it("runs nothing, keeps nothing and has built nothing", () => {
    expect(EMPTY_RELEASE_STATE).toEqual({ stable: null, canary: null, retained: [], built: null });
  });
});

describe("releaseStateOf", () => {
  it.each([
    ["undefined (a stack without the output)", undefined],
    ["null", null],
    ["a string", "stable 1.0.0"],
    ["a number", 3],
    ["an empty object", {}],
    ["an array", [STATE]],
  ])("reads %s as the empty state", (_what, value) => {
    expect(releaseStateOf(value)).toEqual(EMPTY_RELEASE_STATE);
  });

  it("keeps a well-formed state as it is", () => {
    expect(releaseStateOf(STATE)).toEqual(STATE);
  });

  it("gives every object its keys in one order, whatever order Pulumi handed back", () => {
    const state = releaseStateOf(REORDERED);
    expect(JSON.stringify(state)).toBe(JSON.stringify(STATE));
  });

  it("drops keys it does not know, at every level", () => {
    const state = releaseStateOf({
      ...STATE,
      mode: "canary",
      stable: { ...STATE.stable, replicas: 3 },
      retained: [{ ...rel("1.0.0"), weight: 20 }],
    });
    expect(state).toEqual({ ...STATE, retained: [rel("1.0.0")] });
  });

  it.each([
    ["without an image", { version: "1.0.0" }],
    ["without a version", { image: "swiftdeploy/app:1.0.0-aaaaaaaa" }],
    ["with a numeric version", { version: 1, image: "swiftdeploy/app:1-aaaaaaaa" }],
    ["that is a string", "1.0.0"],
    ["that is null", null],
  ])("reads a release %s as none, and leaves it out of the retained ones", (_what, release) => {
    const state = releaseStateOf({ stable: release, canary: release, retained: [rel("1.0.0"), release] });
    expect(state).toEqual({ stable: null, canary: null, retained: [rel("1.0.0")], built: null });
  });

  it.each([
    ["not a list", { retained: rel("1.0.0") }, { retained: [] }],
    ["a number as built", { built: 42 }, { built: null }],
  ])("reads %s as nothing", (_what, value, expected) => {
    expect(releaseStateOf({ ...STATE, ...value })).toEqual({ ...STATE, ...expected });
  });
});

describe("sameRelease", () => {
  it("holds for the same state whatever the order of its keys", () => {
    expect(sameRelease(STATE, REORDERED as ReleaseState)).toBe(true);
    expect(sameRelease(REORDERED as ReleaseState, STATE)).toBe(true);
  });

  it("ignores built: it follows service/, not the release", () => {
    expect(sameRelease(STATE, { ...STATE, built: "swiftdeploy/app:1.2.0-cccccccc" })).toBe(true);
    expect(sameRelease(STATE, { ...STATE, built: null })).toBe(true);
  });

  it("holds for the empty state and anything read as empty", () => {
    expect(sameRelease(EMPTY_RELEASE_STATE, releaseStateOf(undefined))).toBe(true);
    expect(sameRelease(EMPTY_RELEASE_STATE, undefined as unknown as ReleaseState)).toBe(true);
  });

  it.each<[string, Partial<ReleaseState>]>([
    ["another stable version", { stable: rel("1.3.0") }],
    ["another stable image of the same version", { stable: rel("1.1.0", "cccccccc") }],
    ["no stable version", { stable: null }],
    ["no canary", { canary: null }],
    ["another canary version", { canary: rel("1.3.0", "bbbbbbbb") }],
    ["another canary image", { canary: rel("1.2.0", "cccccccc") }],
    ["one retained version fewer", { retained: [rel("1.0.0")] }],
    ["the retained versions in another order", { retained: [rel("0.9.0"), rel("1.0.0")] }],
    ["another retained image", { retained: [rel("1.0.0", "cccccccc"), rel("0.9.0")] }],
  ])("fails for %s", (_what, change) => {
    expect(sameRelease(STATE, { ...STATE, ...change })).toBe(false);
    expect(sameRelease({ ...STATE, ...change }, STATE)).toBe(false);
  });

  it("fails between the empty state and a canary-only one", () => {
    expect(sameRelease(EMPTY_RELEASE_STATE, { ...EMPTY_RELEASE_STATE, canary: rel("1.0.0") })).toBe(false);
  });
});
