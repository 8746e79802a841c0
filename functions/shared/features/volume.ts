import { featureIndex } from "./names.js";
import { rollingSumChunk } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import { CHUNK_ROWS, HISTORY, type Workspace } from "./workspace.js";

const OBV_SLOPE = featureIndex("obv_slope_20");
const PVT_SLOPE = featureIndex("pvt_slope_20");
const CMF = featureIndex("cmf_20");
const VOL_RATIO_10 = featureIndex("vol_ratio_10");
const VOL_RATIO_20 = featureIndex("vol_ratio_20");
const VOL_RATIO_50 = featureIndex("vol_ratio_50");
const VWAP_24 = featureIndex("vwap_dist_24");
const VWAP_168 = featureIndex("vwap_dist_168");

/**
 * Volume features. OBV and PVT are cumulative (not scale-free), so their 20-candle change is divided by
 * the 20-candle volume: obv_slope in [-1, 1], pvt_slope = volume-weighted mean return. A window with no
 * volume gives slope 0, CMF 0, VWAP distance 0 and volume ratio 1. Needs ws.tp.
 */
export function computeVolumeFeatures(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const { high, low, close, volume } = s;
  const tp = ws.tp;
  const cmfFlow = ws.history[HISTORY.cmfFlow];
  const obvFlow = ws.history[HISTORY.obvFlow];
  const pvtFlow = ws.history[HISTORY.pvtFlow];
  const tpv = ws.history[HISTORY.priceVolume];
  const [vol20, cmfSum, obvSum, pvtSum, volSum] = ws.tmp;
  const state = volumeState;

  // One pass builds every per-candle flow the window sums need.
  if (from === 0) {
    cmfFlow[0] = moneyFlow(high[0], low[0], close[0], volume[0]);
    tpv[0] = tp[0] * volume[0];
  }
  for (let i = Math.max(from, 1); i < to; i++) {
    const h = high[i];
    const l = low[i];
    const c = close[i];
    const v = volume[i];
    const prev = close[i - 1];
    cmfFlow[i] = moneyFlow(h, l, c, v);
    // Branch-free sign: (+1 | -1 | 0) * volume gives exactly volume, -volume (-0 for no volume) and +0.
    obvFlow[i] = (Number(c > prev) - Number(c < prev)) * v;
    pvtFlow[i] = (v * (c - prev)) / prev;
    tpv[i] = tp[i] * v;
  }
  rollingSumChunk(volume, 0, 20, from, to, vol20, state, 0);
  rollingSumChunk(cmfFlow, 0, 20, from, to, cmfSum, state, 3);
  rollingSumChunk(obvFlow, 1, 20, from, to, obvSum, state, 6);
  rollingSumChunk(pvtFlow, 1, 20, from, to, pvtSum, state, 9);
  const cmf = CMF * CHUNK_ROWS - from;
  const ratio20 = VOL_RATIO_20 * CHUNK_ROWS - from;
  const obvSlope = OBV_SLOPE * CHUNK_ROWS - from;
  const pvtSlope = PVT_SLOPE * CHUNK_ROWS - from;
  if (from === 0 && to > 19) {
    m[cmf + 19] = vol20[19] === 0 ? 0 : cmfSum[19] / vol20[19];
    m[ratio20 + 19] = volumeRatio(volume[19], vol20[19] / 20);
  }
  for (let i = Math.max(from, 20); i < to; i++) {
    const r = i - from;
    const v20 = vol20[r];
    m[cmf + i] = v20 === 0 ? 0 : cmfSum[r] / v20;
    m[obvSlope + i] = v20 === 0 ? 0 : obvSum[r] / v20;
    m[pvtSlope + i] = v20 === 0 ? 0 : pvtSum[r] / v20;
    m[ratio20 + i] = volumeRatio(volume[i], v20 / 20);
  }

  volumeRatioChunk(volume, 10, from, to, m, VOL_RATIO_10 * CHUNK_ROWS - from, cmfSum, 12);
  volumeRatioChunk(volume, 50, from, to, m, VOL_RATIO_50 * CHUNK_ROWS - from, cmfSum, 15);

  rollingSumChunk(volume, 0, 24, from, to, volSum, state, 18);
  vwapDistanceChunk(close, tpv, 24, from, to, m, VWAP_24 * CHUNK_ROWS - from, volSum, obvSum, 21);
  rollingSumChunk(volume, 0, 168, from, to, volSum, state, 24);
  vwapDistanceChunk(close, tpv, 168, from, to, m, VWAP_168 * CHUNK_ROWS - from, volSum, obvSum, 27);
}

/** Window-sum states [sum, compensation, non-zero inputs] carried from one chunk to the next. */
const volumeState = new Float64Array(30);

/** Chaikin money flow of one candle: close location in the range times volume (0 for a zero range). */
function moneyFlow(h: number, l: number, c: number, v: number): number {
  const range = h - l;
  return range === 0 ? 0 : ((c - l - (h - c)) / range) * v;
}

/**
 * Relative distance of close to the VWAP of the window ending at each row (0 for a window without volume),
 * rows [from, to); `volSum` holds the window's volume sums, `pvSum` receives its price x volume sums.
 */
function vwapDistanceChunk(
  close: Float64Array,
  priceVolume: Float64Array,
  window: number,
  from: number,
  to: number,
  m: Float64Array,
  out: number,
  volSum: Float64Array,
  pvSum: Float64Array,
  slot: number,
): void {
  rollingSumChunk(priceVolume, 0, window, from, to, pvSum, volumeState, slot);
  for (let i = Math.max(from, window - 1); i < to; i++) {
    m[out + i] = vwapDistance(close[i], pvSum[i - from], volSum[i - from]);
  }
}

function vwapDistance(close: number, priceVolumeSum: number, volumeSum: number): number {
  if (volumeSum === 0) return 0;
  const vwap = priceVolumeSum / volumeSum;
  return (close - vwap) / vwap;
}

/** Volume over its mean of the window ending at each row, rows [from, to); `sum` receives the window sums. */
function volumeRatioChunk(
  volume: Float64Array,
  window: number,
  from: number,
  to: number,
  m: Float64Array,
  out: number,
  sum: Float64Array,
  slot: number,
): void {
  rollingSumChunk(volume, 0, window, from, to, sum, volumeState, slot);
  for (let i = Math.max(from, window - 1); i < to; i++)
    m[out + i] = volumeRatio(volume[i], sum[i - from] / window);
}

function volumeRatio(current: number, average: number): number {
  return average === 0 ? 1 : current / average;
}
