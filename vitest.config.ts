import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/node-version.ts"],
    // Integration tests drive real containers on a 2-core machine: one file at a time keeps
    // their timing (and so their verdicts) free of each other's load.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
