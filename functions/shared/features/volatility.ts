import { featureIndex } from "./names.js";
import { rollingSumChunk } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import { CHUNK_ROWS, type Workspace } from "./workspace.js";

const BB_PCT_B = featureIndex("bb_pct_b_20");
const BB_WIDTH = featureIndex("bb_width_20");

/**
 * Bollinger(20, 2) on close with the population standard deviation, computed from the window itself
 * (not running sums of squares, which cancel catastrophically at high prices). Zero deviation: %B 0.5, width 0.
 */
export function computeBollinger(s: OhlcvSeries, ws: Workspace): void {
  const period = 20;
  const { from, to, chunk: m } = ws;
  const close = s.close;
  const pctB = BB_PCT_B * CHUNK_ROWS - from;
  const width = BB_WIDTH * CHUNK_ROWS - from;
  for (let i = Math.max(from, period - 1); i < to; i++) {
    // Four independent accumulators break the add dependency chain; the 20-candle window is unrolled
    // (the chains start at their first term: 0 + x is x for these positive prices and squares).
    const b = i - 19;
    const c0 = close[b];
    const c1 = close[b + 1];
    const c2 = close[b + 2];
    const c3 = close[b + 3];
    const c4 = close[b + 4];
    const c5 = close[b + 5];
    const c6 = close[b + 6];
    const c7 = close[b + 7];
    const c8 = close[b + 8];
    const c9 = close[b + 9];
    const c10 = close[b + 10];
    const c11 = close[b + 11];
    const c12 = close[b + 12];
    const c13 = close[b + 13];
    const c14 = close[b + 14];
    const c15 = close[b + 15];
    const c16 = close[b + 16];
    const c17 = close[b + 17];
    const c18 = close[b + 18];
    const c19 = close[i];
    const s0 = c0 + c4 + c8 + c12 + c16;
    const s1 = c1 + c5 + c9 + c13 + c17;
    const s2 = c2 + c6 + c10 + c14 + c18;
    const s3 = c3 + c7 + c11 + c15 + c19;
    const mean = (s0 + s1 + (s2 + s3)) / period;
    let d0 = c0 - mean;
    let d1 = c1 - mean;
    let d2 = c2 - mean;
    let d3 = c3 - mean;
    let q0 = d0 * d0;
    let q1 = d1 * d1;
    let q2 = d2 * d2;
    let q3 = d3 * d3;
    d0 = c4 - mean;
    d1 = c5 - mean;
    d2 = c6 - mean;
    d3 = c7 - mean;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
    d0 = c8 - mean;
    d1 = c9 - mean;
    d2 = c10 - mean;
    d3 = c11 - mean;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
    d0 = c12 - mean;
    d1 = c13 - mean;
    d2 = c14 - mean;
    d3 = c15 - mean;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
    d0 = c16 - mean;
    d1 = c17 - mean;
    d2 = c18 - mean;
    d3 = c19 - mean;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
    const squares = q0 + q1 + (q2 + q3);
    const sd = Math.sqrt(squares / period);
    const lower = mean - 2 * sd;
    const upper = mean + 2 * sd;
    m[pctB + i] = sd === 0 ? 0.5 : (c19 - lower) / (upper - lower);
    m[width + i] = (upper - lower) / mean;
  }
}

const RV_WINDOWS = [12, 24, 72, 168] as const;
const RV_COLUMNS = RV_WINDOWS.map((w) => featureIndex(`rv_${w}` as "rv_12"));
const RV_RATIO = featureIndex("rv_ratio_24_168");
const RV_24 = featureIndex("rv_24");
const RV_168 = featureIndex("rv_168");

/** Realized volatility sqrt(mean(r1^2)) over 12/24/72/168 candles (not annualised), and rv_24 / rv_168. Needs ws.r1Squared. */
export function computeRealizedVolatility(ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const squared = ws.r1Squared;
  for (let k = 0; k < RV_WINDOWS.length; k++) {
    realizedVolatilityChunk(
      squared,
      RV_WINDOWS[k],
      from,
      to,
      m,
      RV_COLUMNS[k] * CHUNK_ROWS - from,
      ws.tmp[0],
      3 * k,
    );
  }
  const ratio = RV_RATIO * CHUNK_ROWS - from;
  const short = RV_24 * CHUNK_ROWS - from;
  const long = RV_168 * CHUNK_ROWS - from;
  for (let i = Math.max(from, 168); i < to; i++) {
    const weekly = m[long + i];
    m[ratio + i] = weekly === 0 ? 1 : m[short + i] / weekly;
  }
}

/** Window-sum state [sum, compensation, non-zero inputs] of each RV window, carried between chunks. */
const realizedVolatilityState = new Float64Array(3 * RV_WINDOWS.length);

/**
 * m[out + i] = sqrt(sum / window) for the window of squared returns ending at row i (from row `window` on),
 * for rows [from, to); `sum` receives the window sums (rollingSumChunk).
 */
function realizedVolatilityChunk(
  squared: Float64Array,
  window: number,
  from: number,
  to: number,
  m: Float64Array,
  out: number,
  sum: Float64Array,
  slot: number,
): void {
  rollingSumChunk(squared, 1, window, from, to, sum, realizedVolatilityState, slot);
  for (let i = Math.max(from, window); i < to; i++) m[out + i] = Math.sqrt(sum[i - from] / window);
}

const BODY = featureIndex("body_ratio");
const UPPER = featureIndex("upper_shadow_ratio");
const LOWER = featureIndex("lower_shadow_ratio");
const RANGE = featureIndex("range_pct");

/** Candle anatomy as fractions of the high-low range (all 0 for a zero-range candle), and range / close. */
export function computeCandleShape(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const { open, high, low, close } = s;
  const rangeCol = RANGE * CHUNK_ROWS - from;
  const bodyCol = BODY * CHUNK_ROWS - from;
  const upperCol = UPPER * CHUNK_ROWS - from;
  const lowerCol = LOWER * CHUNK_ROWS - from;
  for (let i = from; i < to; i++) {
    const o = open[i];
    const h = high[i];
    const l = low[i];
    const c = close[i];
    const range = h - l;
    m[rangeCol + i] = range / c;
    if (range > 0) {
      // Branch-free Math.max / Math.min of two positive prices (o * 0 + c is c exactly).
      const openAbove = Number(o > c);
      const top = o * openAbove + c * (1 - openAbove);
      const bottom = c * openAbove + o * (1 - openAbove);
      m[bodyCol + i] = (c - o) / range;
      m[upperCol + i] = (h - top) / range;
      m[lowerCol + i] = (bottom - l) / range;
    } else {
      m[bodyCol + i] = 0;
      m[upperCol + i] = 0;
      m[lowerCol + i] = 0;
    }
  }
}
