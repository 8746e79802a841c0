import { resolve } from "node:path";

/** The repository root. */
export const REPO_ROOT = resolve(import.meta.dirname, "../..");
/** The shared historical candles, beside the repository (`../shared/data/candles`), as in CI. */
export const SHARED_CANDLES = process.env.SHARED_CANDLES_DIR ?? resolve(REPO_ROOT, "../shared/data/candles");
