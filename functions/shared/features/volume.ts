import { featureIndex } from "./names.js";
import { rollingSumInto, startWindowSum, windowSum } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import type { Workspace } from "./workspace.js";

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
export function computeVolumeFeatures(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const { high, low, close, volume } = s;
  const tp = ws.tp;
  const [cmfFlow, obvFlow, pvtFlow, tpv, vol20, cmfSum, obvSum] = ws.tmp;

  // One pass builds every per-candle flow the window sums need.
  if (n > 0) {
    cmfFlow[0] = moneyFlow(high[0], low[0], close[0], volume[0]);
    tpv[0] = tp[0] * volume[0];
  }
  for (let i = 1; i < n; i++) {
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
  rollingSumInto(volume, 0, 20, n, vol20);
  rollingSumInto(cmfFlow, 0, 20, n, cmfSum);
  rollingSumInto(obvFlow, 1, 20, n, obvSum);
  const cmf = CMF * n;
  const ratio20 = VOL_RATIO_20 * n;
  const obvSlope = OBV_SLOPE * n;
  const pvtSlope = PVT_SLOPE * n;
  if (n > 19) {
    m[cmf + 19] = vol20[19] === 0 ? 0 : cmfSum[19] / vol20[19];
    m[ratio20 + 19] = volumeRatio(volume[19], vol20[19] / 20);
  }
  if (n > 20) {
    // The PVT window sum (rollingSumInto'sum step, from row 1) runs inside the output loop.
    startWindowSum(pvtFlow, 1, 20);
    let sum = windowSum[0];
    let error = windowSum[1];
    let nonZero = windowSum[2];
    for (let i = 20, leaving = 0; i < n; i++, leaving++) {
      if (leaving > 0) {
        const x = pvtFlow[i];
        const y = -pvtFlow[leaving];
        nonZero += Number(x !== 0) - Number(y !== 0);
        let t = sum + x;
        let z = t - sum;
        error += sum - (t - z) + (x - z);
        sum = t;
        t = sum + y;
        z = t - sum;
        error += sum - (t - z) + (y - z);
        sum = t;
        if (nonZero === 0) {
          sum = 0;
          error = 0;
        }
      }
      const v20 = vol20[i];
      m[cmf + i] = v20 === 0 ? 0 : cmfSum[i] / v20;
      m[obvSlope + i] = v20 === 0 ? 0 : obvSum[i] / v20;
      m[pvtSlope + i] = v20 === 0 ? 0 : (sum + error) / v20;
      m[ratio20 + i] = volumeRatio(volume[i], v20 / 20);
    }
  }

  volumeRatioInto(volume, 10, n, m, VOL_RATIO_10 * n);
  volumeRatioInto(volume, 50, n, m, VOL_RATIO_50 * n);

  const volSum = ws.tmp[4];
  vwapDistanceInto(close, volume, tpv, 24, n, m, VWAP_24 * n, volSum);
  vwapDistanceInto(close, volume, tpv, 168, n, m, VWAP_168 * n, volSum);
}

/** Chaikin money flow of one candle: close location in the range times volume (0 for a zero range). */
function moneyFlow(h: number, l: number, c: number, v: number): number {
  const range = h - l;
  return range === 0 ? 0 : ((c - l - (h - c)) / range) * v;
}

/**
 * Relative distance of close to the VWAP of the window ending at each row (0 for a window without volume).
 * The price-volume sum (rollingSumInto's step) runs inside the output loop.
 */
function vwapDistanceInto(
  close: Float64Array,
  volume: Float64Array,
  priceVolume: Float64Array,
  window: number,
  n: number,
  m: Float64Array,
  out: number,
  volSum: Float64Array,
): void {
  const firstFull = window - 1;
  if (firstFull >= n) return;
  rollingSumInto(volume, 0, window, n, volSum);
  startWindowSum(priceVolume, 0, window);
  let s = windowSum[0];
  let c = windowSum[1];
  let nonZero = windowSum[2];
  m[out + firstFull] = vwapDistance(close[firstFull], s + c, volSum[firstFull]);
  for (let i = firstFull + 1, leaving = 0; i < n; i++, leaving++) {
    const x = priceVolume[i];
    const y = -priceVolume[leaving];
    nonZero += Number(x !== 0) - Number(y !== 0);
    let t = s + x;
    let z = t - s;
    c += s - (t - z) + (x - z);
    s = t;
    t = s + y;
    z = t - s;
    c += s - (t - z) + (y - z);
    s = t;
    if (nonZero === 0) {
      s = 0;
      c = 0;
    }
    m[out + i] = vwapDistance(close[i], s + c, volSum[i]);
  }
}

function vwapDistance(close: number, priceVolumeSum: number, volumeSum: number): number {
  if (volumeSum === 0) return 0;
  const vwap = priceVolumeSum / volumeSum;
  return (close - vwap) / vwap;
}

/** Volume over its mean of the window ending at each row; the window sum (rollingSumInto's step) is fused in. */
function volumeRatioInto(
  volume: Float64Array,
  window: number,
  n: number,
  m: Float64Array,
  out: number,
): void {
  const firstFull = window - 1;
  if (firstFull >= n) return;
  startWindowSum(volume, 0, window);
  let s = windowSum[0];
  let c = windowSum[1];
  let nonZero = windowSum[2];
  m[out + firstFull] = volumeRatio(volume[firstFull], (s + c) / window);
  for (let i = firstFull + 1, leaving = 0; i < n; i++, leaving++) {
    const x = volume[i];
    const y = -volume[leaving];
    nonZero += Number(x !== 0) - Number(y !== 0);
    let t = s + x;
    let z = t - s;
    c += s - (t - z) + (x - z);
    s = t;
    t = s + y;
    z = t - s;
    c += s - (t - z) + (y - z);
    s = t;
    if (nonZero === 0) {
      s = 0;
      c = 0;
    }
    m[out + i] = volumeRatio(volume[i], (s + c) / window);
  }
}

function volumeRatio(current: number, average: number): number {
  return average === 0 ? 1 : current / average;
}
