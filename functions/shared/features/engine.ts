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
import { workspaceFor } from "./workspace.js";

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
 */
export function computeFeatureMatrix(series: OhlcvSeries, out?: Float64Array): Float64Array {
  assertSeriesShape(series);
  const n = series.length;
  const size = n * FEATURE_COUNT;
  if (out !== undefined && out.length < size) {
    throw new Error(
      `computeFeatureMatrix: out holds ${out.length} values but ${n} candles x ${FEATURE_COUNT} features need ${size}; pass a Float64Array of at least that length or none.`,
    );
  }
  const matrix = out ?? new Float64Array(size);
  transposeInto(computeColumns(series), n, matrix);
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
  if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow > n) {
    throw new RangeError(
      `computeModelInputRows: firstRow must be an integer in [0, ${n}] for a series of ${n} candles, got ${firstRow}; pass the index of the first candle whose features the model should score.`,
    );
  }
  const size = (n - firstRow) * FEATURE_COUNT;
  if (out !== undefined && out.length < size) {
    throw new RangeError(
      `computeModelInputRows: out holds ${out.length} values but rows ${firstRow}..${n - 1} x ${FEATURE_COUNT} features need ${size}; pass a Float32Array of at least that length or none.`,
    );
  }
  const input = out ?? new Float32Array(size);
  if (size === 0) return input;
  transposeToModelInput(computeColumns(series), n, firstRow, input);
  return input;
}

/** Runs every indicator into the workspace's column-major matrix (feature k of row i at k * n + i). */
function computeColumns(series: OhlcvSeries): Float64Array {
  const n = series.length;
  const ws = workspaceFor(n);
  // Indicators write column-major (contiguous, cache-friendly passes); one blocked transpose at the end.
  const m = ws.columns;
  // Every indicator writes all rows from its first defined row on, so only the warm-up needs NaN.
  const warmup = Math.min(n, WARMUP_CANDLES + 1);
  for (let k = 0; k < FEATURE_COUNT; k++) m.fill(Number.NaN, k * n, k * n + warmup);

  computeReturns(series, m, ws);
  computeRsi(series, m);
  computeMacd(series, m, ws);
  computeBollinger(series, m);
  computeAtrAdx(series, m);
  computeStochastic(series, m, ws);
  computeCci(series, m, ws);
  computeMfi(series, m, ws);
  computeVolumeFeatures(series, m, ws);
  computeRealizedVolatility(series, m, ws);
  computeWaveTrend(series, m, ws);
  computeSupportResistance(series, m, ws);
  computeRegime(series, m);
  computeCandleShape(series, m);
  computeAverageDistances(series, m, ws);
  computeEfficiencyRatio(series, m, ws);
  return m;
}

const TRANSPOSE_BLOCK = 64;
/** Columns moved per pass: eight 8-byte values fill one 64-byte cache line of a row. */
const TRANSPOSE_LANES = 8;

function transposeInto(columns: Float64Array, n: number, rows: Float64Array): void {
  for (let start = 0; start < n; start += TRANSPOSE_BLOCK) {
    const end = Math.min(start + TRANSPOSE_BLOCK, n);
    let k = 0;
    for (; k + TRANSPOSE_LANES <= FEATURE_COUNT; k += TRANSPOSE_LANES) {
      for (
        let i = start, j = k * n + start, o = start * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        rows[o] = columns[j];
        rows[o + 1] = columns[j + n];
        rows[o + 2] = columns[j + 2 * n];
        rows[o + 3] = columns[j + 3 * n];
        rows[o + 4] = columns[j + 4 * n];
        rows[o + 5] = columns[j + 5 * n];
        rows[o + 6] = columns[j + 6 * n];
        rows[o + 7] = columns[j + 7 * n];
      }
    }
    for (; k < FEATURE_COUNT; k++) {
      for (
        let i = start, j = k * n + start, o = start * FEATURE_COUNT + k;
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

function transposeToModelInput(
  columns: Float64Array,
  n: number,
  firstRow: number,
  input: Float32Array,
): void {
  for (let start = firstRow; start < n; start += TRANSPOSE_BLOCK) {
    const end = Math.min(start + TRANSPOSE_BLOCK, n);
    let k = 0;
    for (; k + TRANSPOSE_LANES <= FEATURE_COUNT; k += TRANSPOSE_LANES) {
      for (
        let i = start, j = k * n + start, o = (start - firstRow) * FEATURE_COUNT + k;
        i < end;
        i++, j++, o += FEATURE_COUNT
      ) {
        input[o] = modelValue(columns[j]);
        input[o + 1] = modelValue(columns[j + n]);
        input[o + 2] = modelValue(columns[j + 2 * n]);
        input[o + 3] = modelValue(columns[j + 3 * n]);
        input[o + 4] = modelValue(columns[j + 4 * n]);
        input[o + 5] = modelValue(columns[j + 5 * n]);
        input[o + 6] = modelValue(columns[j + 6 * n]);
        input[o + 7] = modelValue(columns[j + 7 * n]);
      }
    }
    for (; k < FEATURE_COUNT; k++) {
      for (
        let i = start, j = k * n + start, o = (start - firstRow) * FEATURE_COUNT + k;
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
