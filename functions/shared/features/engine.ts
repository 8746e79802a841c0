import { computeSupportResistance } from "./levels.js";
import {
  computeCci,
  computeEfficiencyRatio,
  computeMacd,
  computeMfi,
  computeReturns,
  computeRsi,
  computeStochastic,
  computeWaveTrend,
} from "./momentum.js";
import { FEATURE_COUNT, FEATURE_NAMES } from "./names.js";
import { computeRegime } from "./regime.js";
import { assertSeriesShape, type OhlcvSeries, sliceSeries } from "./series.js";
import { computeAtrAdx, computeAverageDistances } from "./trend.js";
import { computeBollinger, computeCandleShape, computeRealizedVolatility } from "./volatility.js";
import { computeVolumeFeatures } from "./volume.js";
import { CHUNK_ROWS, type Workspace, workspaceFor } from "./workspace.js";

/** First row whose 51 features are all defined: SMA(200) needs rows 0..199. */
export const WARMUP_CANDLES = 199;

/**
 * Candles a live caller passes so its latest row equals the full-history row to 1e-9 relative.
 * EMA / Wilder state forgets its seed geometrically; the slowest decays (ADX: Wilder of a Wilder
 * average, and the 26-EMA behind MACD divided by close) need a few hundred candles to fall below
 * 1e-9. Measured on all 19 1h files in test/features/live-equals-training.test.ts; see models/FEATURES.md.
 */
export const SERVING_WINDOW = 500;

/**
 * Computes the n x 51 row-major feature matrix (row i = features of candle i, NaN inside each
 * feature's warm-up). Rows are consecutive candles: fill or reject gaps before calling.
 * chunkRows (rows computed per cache-sized chunk) never changes the result; tests vary it.
 */
export function computeFeatureMatrix(
  series: OhlcvSeries,
  out?: Float64Array,
  chunkRows: number = CHUNK_ROWS,
): Float64Array {
  assertSeriesShape(series);
  assertChunkRows(chunkRows);
  const n = series.length;
  const size = n * FEATURE_COUNT;
  if (out !== undefined && out.length < size) {
    throw new Error(
      `computeFeatureMatrix: out holds ${out.length} values but ${n} candles x ${FEATURE_COUNT} features need ${size}; pass a Float64Array of at least that length or none.`,
    );
  }
  const matrix = out ?? new Float64Array(size);
  const ws = workspaceFor(n);
  for (let from = 0; from < n; from += chunkRows) {
    const to = Math.min(from + chunkRows, n);
    computeChunk(series, ws, from, to);
    transposeInto(ws.chunk, from, to, matrix);
  }
  return matrix;
}

/**
 * The float32 model input of rows [firstRow, n), row-major (n - firstRow) x FEATURE_COUNT: each feature
 * rounded to float32, and anything not finite after rounding (NaN, Infinity, a float64 beyond float32
 * range) stored as NaN. Same values as converting computeFeatureMatrix rows from firstRow on, without
 * building the float64 row-major matrix.
 */
export function computeModelInputRows(
  series: OhlcvSeries,
  firstRow: number,
  out?: Float32Array,
): Float32Array {
  assertSeriesShape(series);
  const n = series.length;
  assertFirstRow("computeModelInputRows", firstRow, n);
  const size = (n - firstRow) * FEATURE_COUNT;
  if (out !== undefined && out.length < size) {
    throw new RangeError(
      `computeModelInputRows: out holds ${out.length} values but rows ${firstRow}..${n - 1} x ${FEATURE_COUNT} features need ${size}; pass a Float32Array of at least that length or none.`,
    );
  }
  const input = out ?? new Float32Array(size);
  // one part holding every row
  const wholeSeries = Math.max(1, Math.ceil(n / CHUNK_ROWS)) * CHUNK_ROWS;
  computeModelInputRowsInParts(series, firstRow, wholeSeries, { take: () => input, done: () => {} });
  return input;
}

/** Buffers for computeModelInputRowsInParts, and what to do with each finished part. */
export interface ModelInputParts {
  /** A buffer for the next part, of at least that part's rows x FEATURE_COUNT values. */
  take(rowCount: number): Float32Array;
  /**
   * Model input rows [fromRow, fromRow + rowCount) are in part[0, rowCount x FEATURE_COUNT): called
   * once per part, in row order, before the next part is computed. It must not compute features
   * itself (the engine is in the middle of this series).
   */
  done(part: Float32Array, fromRow: number, rowCount: number): void;
}

/**
 * computeModelInputRows in parts of at most partRows rows (a multiple of CHUNK_ROWS; parts end at
 * multiples of partRows, so only the first and the last can be shorter): a caller hands each part on (to a model
 * on another thread) while the next is being computed, and reuses a few buffers of one size for series
 * of any length. The rows are the same values, bit for bit, as computeModelInputRows.
 */
export function computeModelInputRowsInParts(
  series: OhlcvSeries,
  firstRow: number,
  partRows: number,
  parts: ModelInputParts,
): void {
  assertSeriesShape(series);
  const n = series.length;
  assertFirstRow("computeModelInputRowsInParts", firstRow, n);
  if (!Number.isInteger(partRows) || partRows <= 0 || partRows % CHUNK_ROWS !== 0) {
    throw new RangeError(
      `computeModelInputRowsInParts: partRows must be a positive multiple of ${CHUNK_ROWS} (rows per chunk), got ${partRows}.`,
    );
  }
  if (firstRow === n) return;
  const ws = workspaceFor(n);
  let part: Float32Array | undefined;
  let partStart = firstRow;
  for (let from = 0; from < n; from += CHUNK_ROWS) {
    const to = Math.min(from + CHUNK_ROWS, n);
    computeChunk(series, ws, from, to);
    if (to <= firstRow) continue;
    if (part === undefined) {
      const rowCount = Math.min((Math.floor(partStart / partRows) + 1) * partRows, n) - partStart;
      part = parts.take(rowCount);
      if (part.length < rowCount * FEATURE_COUNT) {
        throw new RangeError(
          `computeModelInputRowsInParts: take(${rowCount}) gave ${part.length} values; rows ${partStart}..${partStart + rowCount - 1} x ${FEATURE_COUNT} features need ${rowCount * FEATURE_COUNT}.`,
        );
      }
    }
    transposeToModelInput(ws.chunk, Math.max(from, firstRow), from, to, partStart, part);
    if (to === n || to % partRows === 0) {
      parts.done(part, partStart, to - partStart);
      part = undefined;
      partStart = to;
    }
  }
}

function assertFirstRow(caller: string, firstRow: number, n: number): void {
  if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow > n) {
    throw new RangeError(
      `${caller}: firstRow must be an integer in [0, ${n}] for a series of ${n} candles, got ${firstRow}; pass the index of the first candle whose features the model should score.`,
    );
  }
}

/** The smallest chunk that holds every warm-up (200 rows) and starts every sliding-extreme block on a chunk boundary. */
const CHUNK_ALIGNMENT = 168;

function assertChunkRows(chunkRows: number): void {
  if (
    !Number.isInteger(chunkRows) ||
    chunkRows % CHUNK_ALIGNMENT !== 0 ||
    chunkRows <= WARMUP_CANDLES + 1 ||
    chunkRows > CHUNK_ROWS
  ) {
    throw new RangeError(
      `computeFeatureMatrix: chunkRows must be a multiple of ${CHUNK_ALIGNMENT} in (${WARMUP_CANDLES + 1}, ${CHUNK_ROWS}], got ${chunkRows}; omit it to use ${CHUNK_ROWS}.`,
    );
  }
}

/**
 * Runs every indicator over rows [from, to) into ws.chunk (feature k of row i at k * CHUNK_ROWS + i - from).
 * Chunks must come in order from row 0: indicators carry their running state from one chunk to the next.
 */
function computeChunk(series: OhlcvSeries, ws: Workspace, from: number, to: number): void {
  ws.from = from;
  ws.to = to;
  if (from === 0) {
    // Every indicator writes all rows from its first defined row on, so only the warm-up needs NaN.
    const m = ws.chunk;
    const warmup = Math.min(to, WARMUP_CANDLES + 1);
    for (let k = 0; k < FEATURE_COUNT; k++) m.fill(Number.NaN, k * CHUNK_ROWS, k * CHUNK_ROWS + warmup);
  }
  computeReturns(series, ws);
  computeRsi(series, ws);
  computeMacd(series, ws);
  computeBollinger(series, ws);
  computeAtrAdx(series, ws);
  computeStochastic(series, ws);
  computeCci(series, ws);
  computeMfi(series, ws);
  computeVolumeFeatures(series, ws);
  computeRealizedVolatility(ws);
  computeWaveTrend(ws);
  computeSupportResistance(series, ws);
  computeRegime(ws);
  computeCandleShape(series, ws);
  computeAverageDistances(series, ws);
  computeEfficiencyRatio(series, ws);
}

const TRANSPOSE_BLOCK = 64;
/** Columns moved per pass: eight 8-byte values fill one 64-byte cache line of a row. */
const TRANSPOSE_LANES = 8;

/** Copies the chunk's rows [from, to) into the row-major matrix (row i at i * FEATURE_COUNT). */
function transposeInto(columns: Float64Array, from: number, to: number, rows: Float64Array): void {
  const C = CHUNK_ROWS;
  for (let start = from; start < to; start += TRANSPOSE_BLOCK) {
    const end = Math.min(start + TRANSPOSE_BLOCK, to);
    let k = 0;
    for (; k + TRANSPOSE_LANES <= FEATURE_COUNT; k += TRANSPOSE_LANES) {
      for (
        let i = start, j = k * C + start - from, o = start * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        rows[o] = columns[j];
        rows[o + 1] = columns[j + C];
        rows[o + 2] = columns[j + 2 * C];
        rows[o + 3] = columns[j + 3 * C];
        rows[o + 4] = columns[j + 4 * C];
        rows[o + 5] = columns[j + 5 * C];
        rows[o + 6] = columns[j + 6 * C];
        rows[o + 7] = columns[j + 7 * C];
      }
    }
    for (; k < FEATURE_COUNT; k++) {
      for (
        let i = start, j = k * C + start - from, o = start * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        rows[o] = columns[j];
      }
    }
  }
}

/** The model's float32 encoding of a feature: non-finite after rounding (NaN, +-Infinity, overflow) becomes NaN. */
function modelValue(x: number): number {
  const v = Math.fround(x);
  return Number.isFinite(v) ? v : Number.NaN;
}

/** Rows [first, to) of the chunk starting at row `from`, as model input rows (row i at (i - firstRow) * FEATURE_COUNT of `input`). */
function transposeToModelInput(
  columns: Float64Array,
  first: number,
  from: number,
  to: number,
  firstRow: number,
  input: Float32Array,
): void {
  const C = CHUNK_ROWS;
  for (let start = first; start < to; start += TRANSPOSE_BLOCK) {
    const end = Math.min(start + TRANSPOSE_BLOCK, to);
    let k = 0;
    for (; k + TRANSPOSE_LANES <= FEATURE_COUNT; k += TRANSPOSE_LANES) {
      for (
        let i = start, j = k * C + start - from, o = (start - firstRow) * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        input[o] = modelValue(columns[j]);
        input[o + 1] = modelValue(columns[j + C]);
        input[o + 2] = modelValue(columns[j + 2 * C]);
        input[o + 3] = modelValue(columns[j + 3 * C]);
        input[o + 4] = modelValue(columns[j + 4 * C]);
        input[o + 5] = modelValue(columns[j + 5 * C]);
        input[o + 6] = modelValue(columns[j + 6 * C]);
        input[o + 7] = modelValue(columns[j + 7 * C]);
      }
    }
    for (; k < FEATURE_COUNT; k++) {
      for (
        let i = start, j = k * C + start - from, o = (start - firstRow) * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        input[o] = modelValue(columns[j]);
      }
    }
  }
}

/**
 * Features of the last candle, computed from the last SERVING_WINDOW candles only, so the result
 * does not depend on how much older history the caller happened to fetch.
 */
export function latestFeatures(series: OhlcvSeries): Float64Array {
  assertSeriesShape(series);
  if (series.length < SERVING_WINDOW) {
    throw new Error(
      `latestFeatures needs at least SERVING_WINDOW = ${SERVING_WINDOW} consecutive candles to reproduce the training features, got ${series.length}; fetch more history before scoring.`,
    );
  }
  const window = sliceSeries(series, series.length - SERVING_WINDOW);
  const matrix = computeFeatureMatrix(window);
  const row = matrix.slice((SERVING_WINDOW - 1) * FEATURE_COUNT, SERVING_WINDOW * FEATURE_COUNT);
  for (let k = 0; k < FEATURE_COUNT; k++) {
    if (!Number.isFinite(row[k])) {
      throw new Error(
        `latestFeatures: feature ${FEATURE_NAMES[k]} of the candle starting at ${series.start[series.length - 1]} is ${row[k]}; the input candles contain a non-finite or non-positive price. Check the candles.`,
      );
    }
  }
  return row;
}
