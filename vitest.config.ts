import { defineConfig } from "vitest/config";

// One runner for every tier: unit tests are pure, the rest start real servers, a real
// database (PGlite, or PostgreSQL when TEST_DATABASE_URL is set) and the Lark emulator.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The suite-wide secret scan and the egress guard (tests/setup/suite-scan.ts), in every file.
    setupFiles: ["tests/setup/suite-scan.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
