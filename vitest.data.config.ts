import { defineConfig } from "vitest/config";
import { SHARED_DATA_TESTS, sharedTestOptions } from "./vitest.config.js";

/** `npm run test:data`: the tests that need `../shared/data/candles` (or SHARED_CANDLES_DIR). */
export default defineConfig({
  test: { include: SHARED_DATA_TESTS, ...sharedTestOptions },
});
