// What the bench reports of a change that failed (bench/changes.ts errorSummary): Pulumi's diagnostics.
import { describe, expect, it } from "vitest";
import { errorSummary } from "../../../bench/changes";

describe("errorSummary", () => {
  it("keeps the errors of Pulumi's Diagnostics section, one after the other", () => {
    const message = [
      "Command failed with exit code 255: pulumi up --yes --skip-preview",
      "Updating (bench-1-canary):",
      " ~  pulumi:pulumi:Stack swiftdeploy-bench-1-canary updating (0s)",
      "Diagnostics:",
      "  pulumi:pulumi:Stack (swiftdeploy-bench-1-canary):",
      "    error: update failed",
      "",
      "  pulumi-nodejs:dynamic/swiftdeploy:Readiness (app-canary-ready):",
      "    error: app-canary-0: not ready within 60 s",
      "",
      "Resources:",
      "    ~ 1 updated",
      "Duration: 7s",
    ].join("\n");
    expect(errorSummary(message)).toBe(
      "pulumi:pulumi:Stack (swiftdeploy-bench-1-canary): | " +
        "pulumi-nodejs:dynamic/swiftdeploy:Readiness (app-canary-ready): | error: app-canary-0: not ready within 60 s",
    );
  });

  it("falls back to the message's last lines when there is no Diagnostics section", () => {
    expect(errorSummary("a\nb\nc\nd")).toBe("b c d");
  });
});
