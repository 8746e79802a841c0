import { featureIndex } from "./names.js";
import { rollingSumInto } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import type { Workspace } from "./workspace.js";

const BB_PCT_B = featureIndex("bb_pct_b_20");
const BB_WIDTH = featureIndex("bb_width_20");

/**
 * Bollinger(20, 2) on close with the population standard deviation, computed from the window itself
 * (not running sums of squares, which cancel catastrophically at high prices). Zero deviation: %B 0.5, width 0.
 */
export function computeBollinger(s: OhlcvSeries, m: Float64Array): void {
  const period = 20;
  const n = s.length;
  const close = s.close;
  for (let i = period - 1; i < n; i++) {
    // Four independent accumulators break the add dependency chain (period is a multiple of 4).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = i - period + 1; j <= i; j += 4) {
      s0 += close[j];
      s1 += close[j + 1];
      s2 += close[j + 2];
      s3 += close[j + 3];
    }
    const mean = (s0 + s1 + (s2 + s3)) / period;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    for (let j = i - period + 1; j <= i; j += 4) {
      const d0 = close[j] - mean;
      const d1 = close[j + 1] - mean;
      const d2 = close[j + 2] - mean;
      const d3 = close[j + 3] - mean;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    const squares = q0 + q1 + (q2 + q3);
    const sd = Math.sqrt(squares / period);
    const lower = mean - 2 * sd;
    const upper = mean + 2 * sd;
    m[BB_PCT_B * n + i] = sd === 0 ? 0.5 : (close[i] - lower) / (upper - lower);
    m[BB_WIDTH * n + i] = (upper - lower) / mean;
  }
}

const RV_WINDOWS = [12, 24, 72, 168] as const;
const RV_COLUMNS = RV_WINDOWS.map((w) => featureIndex(`rv_${w}` as "rv_12"));
const RV_RATIO = featureIndex("rv_ratio_24_168");
const RV_24 = featureIndex("rv_24");
const RV_168 = featureIndex("rv_168");

/** Realized volatility sqrt(mean(r1^2)) over 12/24/72/168 candles (not annualised), and rv_24 / rv_168. Needs ws.r1. */
export function computeRealizedVolatility(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const r1 = ws.r1;
  const [squared, sumA, sumB] = ws.tmp;
  for (let i = 1; i < n; i++) squared[i] = r1[i] * r1[i];
  for (let k = 0; k < RV_WINDOWS.length; k += 2) {
    const wA = RV_WINDOWS[k];
    const wB = RV_WINDOWS[k + 1];
    const colA = RV_COLUMNS[k];
    const colB = RV_COLUMNS[k + 1];
    rollingSumInto(squared, 1, wA, n, sumA);
    rollingSumInto(squared, 1, wB, n, sumB);
    for (let i = wA; i < n; i++) m[colA * n + i] = Math.sqrt(sumA[i] / wA);
    for (let i = wB; i < n; i++) m[colB * n + i] = Math.sqrt(sumB[i] / wB);
  }
  for (let i = 168; i < n; i++) {
    const long = m[RV_168 * n + i];
    m[RV_RATIO * n + i] = long === 0 ? 1 : m[RV_24 * n + i] / long;
  }
}

const BODY = featureIndex("body_ratio");
const UPPER = featureIndex("upper_shadow_ratio");
const LOWER = featureIndex("lower_shadow_ratio");
const RANGE = featureIndex("range_pct");

/** Candle anatomy as fractions of the high-low range (all 0 for a zero-range candle), and range / close. */
export function computeCandleShape(s: OhlcvSeries, m: Float64Array): void {
  const n = s.length;
  const { open, high, low, close } = s;
  for (let i = 0; i < n; i++) {
    const o = open[i];
    const h = high[i];
    const l = low[i];
    const c = close[i];
    const range = h - l;
    m[RANGE * n + i] = range / c;
    if (range > 0) {
      // Branch-free Math.max / Math.min of two positive prices (o * 0 + c is c exactly).
      const openAbove = Number(o > c);
      const top = o * openAbove + c * (1 - openAbove);
      const bottom = c * openAbove + o * (1 - openAbove);
      m[BODY * n + i] = (c - o) / range;
      m[UPPER * n + i] = (h - top) / range;
      m[LOWER * n + i] = (bottom - l) / range;
    } else {
      m[BODY * n + i] = 0;
      m[UPPER * n + i] = 0;
      m[LOWER * n + i] = 0;
    }
  }
}
