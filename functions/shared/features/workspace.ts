import { FEATURE_COUNT } from "./names.js";

/**
 * Scratch columns reused across calls so computing features allocates nothing per candle and,
 * after the first call of a given size, nothing at all.
 */
export interface Workspace {
  /** the features column-major (feature k of row i at k * n + i) before transposing into the row-major result */
  columns: Float64Array;
  /** typical price (high + low + close) / 3 */
  tp: Float64Array;
  /** square of the one-candle log return, defined from row 1 */
  r1Squared: Float64Array;
  /** free columns an indicator may overwrite */
  tmp: Float64Array[];
}

const TMP_COLUMNS = 8;
let cached: Workspace | undefined;
let cachedCapacity = 0;

export function workspaceFor(n: number): Workspace {
  if (cached === undefined || cachedCapacity < n) {
    const capacity = Math.max(n, 256);
    cached = {
      columns: new Float64Array(capacity * FEATURE_COUNT),
      tp: new Float64Array(capacity),
      r1Squared: new Float64Array(capacity),
      tmp: Array.from({ length: TMP_COLUMNS }, () => new Float64Array(capacity)),
    };
    cachedCapacity = capacity;
  }
  return cached;
}
