import { describe, expect, it } from "vitest";
import type { PulumiUpdate } from "../../../../tools/audit/pulumi-history";
import { newMessages, resourceChanges, updateDuration } from "../../../../tools/audit/pulumi-updates";

function update(fields: Partial<PulumiUpdate>): PulumiUpdate {
  return {
    number: 1,
    kind: "update",
    startTime: "2025-11-24T10:00:00Z",
    endTime: "2025-11-24T10:00:05Z",
    result: "succeeded",
    message: "",
    resourceChanges: {},
    ...fields,
  };
}

describe("updateDuration", () => {
  it.each([
    ["2025-11-24T10:00:00Z", "0 s"],
    ["2025-11-24T10:00:00.600Z", "1 s"],
    ["2025-11-24T10:00:59Z", "59 s"],
    ["2025-11-24T10:01:00Z", "1 min 00 s"],
    ["2025-11-24T10:12:07Z", "12 min 07 s"],
    ["2025-11-24T11:03:00Z", "1 h 03 min"],
  ])("an update that ended at %s took %j", (endTime, shown) => {
    expect(updateDuration(update({ startTime: "2025-11-24T10:00:00Z", endTime }))).toBe(shown);
  });

  it.each([
    ["still running", { endTime: null }],
    ["an unreadable start", { startTime: "soon" }],
    ["an end before its start", { endTime: "2025-11-24T09:59:00Z" }],
  ])("is empty for %s", (_case, fields) => {
    expect(updateDuration(update(fields))).toBe("");
  });
});

describe("resourceChanges", () => {
  it.each([
    [{ create: 14 }, "14 created"],
    [{ same: 12, update: 1 }, "1 updated, 12 unchanged"],
    [{ same: 6, update: 0, delete: 0 }, "6 unchanged"],
    [{ delete: 2, replace: 1, create: 3, update: 4 }, "3 created, 4 updated, 1 replaced, 2 deleted"],
    [{ "create-replacement": 1, same: 2, discard: 1 }, "2 unchanged, 1 create-replacement, 1 discard"],
    [{}, ""],
  ])("describes %j as %j", (changes, shown) => {
    expect(resourceChanges(update({ resourceChanges: changes }))).toBe(shown);
  });
});

describe("newMessages", () => {
  it("keeps a message only where it differs from the update before", () => {
    const messages = ["Layout", "Layout", "", "", "Layout", "Fix", "Fix"];
    expect(newMessages(messages.map((message) => update({ message })))).toEqual([
      "Layout",
      "",
      "",
      "",
      "Layout",
      "Fix",
      "",
    ]);
  });
});
