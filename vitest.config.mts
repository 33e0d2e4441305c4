import { defineConfig } from "vitest/config";

// Unit tests run in parallel; integration tests (test/integration) share one Docker engine and
// are run one file at a time by the "integration" project.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // Removes what a killed earlier run left (Docker objects, project copies, port locks).
          globalSetup: ["test/integration/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
