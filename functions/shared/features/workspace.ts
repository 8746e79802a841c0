import { FEATURE_COUNT } from "./names.js";

/**
 * Rows per chunk: the engine runs every indicator over one chunk of rows, then transposes it, so the chunk's
 * feature columns stay in cache. A multiple of 168 = lcm(14, 24, 168), so the sliding-extreme blocks of
 * every window start at a chunk boundary; larger than every warm-up (200 rows), so warm-ups end in chunk 0.
 */
export const CHUNK_ROWS = 1008;

/** Full-length columns an indicator keeps for the rows of later chunks (window history). */
export const HISTORY = {
  stochHighPrefix: 0,
  stochHighSuffix: 1,
  stochLowPrefix: 2,
  stochLowSuffix: 3,
  stochK: 4,
  highPrefix24: 5,
  highSuffix24: 6,
  lowPrefix24: 7,
  lowSuffix24: 8,
  highPrefix168: 9,
  highSuffix168: 10,
  lowPrefix168: 11,
  lowSuffix168: 12,
  mfiPositive: 13,
  mfiNegative: 14,
  cmfFlow: 15,
  obvFlow: 16,
  pvtFlow: 17,
  priceVolume: 18,
  path: 19,
} as const;
const HISTORY_COLUMNS = 20;

/**
 * Scratch reused across calls so computing features allocates nothing per candle and, after the first
 * call of a given size, nothing at all. Indicators process rows [from, to) of one chunk per call and carry
 * their running state (EMAs, window sums) in module-level state arrays from one chunk to the next.
 */
export interface Workspace {
  /** the chunk's features column-major: feature k of row i (from <= i < to) at k * CHUNK_ROWS + i - from */
  chunk: Float64Array;
  /** first row of the current chunk */
  from: number;
  /** end (exclusive) of the current chunk */
  to: number;
  /** typical price (high + low + close) / 3, filled up to `to` by the CCI */
  tp: Float64Array;
  /** square of the one-candle log return, defined from row 1, filled up to `to` by the returns */
  r1Squared: Float64Array;
  /** full-length columns, indexed by HISTORY */
  history: Float64Array[];
  /** chunk-length columns an indicator may overwrite within its call (row i at i - from) */
  tmp: Float64Array[];
}

const TMP_COLUMNS = 8;
let cached: Workspace | undefined;
let cachedCapacity = 0;

export function workspaceFor(n: number): Workspace {
  if (cached === undefined || cachedCapacity < n) {
    // grows by at least half: a caller going through series of rising lengths (the backtest, smallest
    // first) reallocates a few times, not once per series (each time ~22 full-length columns)
    const capacity = Math.max(n, 256, Math.ceil(cachedCapacity * 1.5));
    cached = {
      chunk: new Float64Array(CHUNK_ROWS * FEATURE_COUNT),
      from: 0,
      to: 0,
      tp: new Float64Array(capacity),
      r1Squared: new Float64Array(capacity),
      history: Array.from({ length: HISTORY_COLUMNS }, () => new Float64Array(capacity)),
      tmp: Array.from({ length: TMP_COLUMNS }, () => new Float64Array(CHUNK_ROWS)),
    };
    cachedCapacity = capacity;
  }
  return cached;
}
