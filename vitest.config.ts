import { configDefaults, defineConfig } from "vitest/config";

/**
 * Tests that read the shared historical candles (`../shared/data/candles`, beside a clone; see
 * README "Tests"): `npm run test:data` runs them, `npm test` leaves them out so it passes on a clone
 * of this repository alone. `.ci/run` runs both when `../shared` is there.
 */
export const SHARED_DATA_TESTS = [
  "test/backtest/inference-thread.test.ts",
  "test/backtest/step-parity-shared.test.ts",
  "test/features/chunk-boundaries.test.ts",
  "test/features/finite.test.ts",
  "test/features/live-equals-training.test.ts",
  "test/features/model-input-rows.test.ts",
  "test/features/oracle.test.ts",
  "test/llm/ollama-client.test.ts",
  "test/llm/prompt.test.ts",
  "test/llm/validator-worker.test.ts",
  "test/market-data/ingest.test.ts",
  "test/market-data/replay.test.ts",
  "test/model/evaluate-shared.test.ts",
  "test/steps/validate-recommendation.test.ts",
];

export const sharedTestOptions = {
  globalSetup: ["test/global-setup.ts"],
  setupFiles: ["test/setup-fast-check.ts"],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...SHARED_DATA_TESTS],
    ...sharedTestOptions,
  },
});
