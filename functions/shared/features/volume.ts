import { featureIndex } from "./names.js";
import { rollingSumInto } from "./rolling.js";
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
  const [cmfFlow, obvFlow, pvtFlow, tpv, vol20, cmfSum, obvSum, pvtSum] = ws.tmp;

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
  rollingSumInto(pvtFlow, 1, 20, n, pvtSum);
  const cmf = CMF * n;
  const ratio20 = VOL_RATIO_20 * n;
  const obvSlope = OBV_SLOPE * n;
  const pvtSlope = PVT_SLOPE * n;
  if (n > 19) {
    m[cmf + 19] = vol20[19] === 0 ? 0 : cmfSum[19] / vol20[19];
    m[ratio20 + 19] = volumeRatio(volume[19], vol20[19] / 20);
  }
  for (let i = 20; i < n; i++) {
    const v20 = vol20[i];
    m[cmf + i] = v20 === 0 ? 0 : cmfSum[i] / v20;
    m[obvSlope + i] = v20 === 0 ? 0 : obvSum[i] / v20;
    m[pvtSlope + i] = v20 === 0 ? 0 : pvtSum[i] / v20;
    m[ratio20 + i] = volumeRatio(volume[i], v20 / 20);
  }

  const [vol10, vol50] = ws.tmp;
  rollingSumInto(volume, 0, 10, n, vol10);
  rollingSumInto(volume, 0, 50, n, vol50);
  for (let i = 9; i < n; i++) m[VOL_RATIO_10 * n + i] = volumeRatio(volume[i], vol10[i] / 10);
  for (let i = 49; i < n; i++) m[VOL_RATIO_50 * n + i] = volumeRatio(volume[i], vol50[i] / 50);

  const volSum = ws.tmp[4];
  const tpvSum = ws.tmp[5];
  vwapDistance(close, volume, tpv, 24, VWAP_24, n, m, volSum, tpvSum);
  vwapDistance(close, volume, tpv, 168, VWAP_168, n, m, volSum, tpvSum);
}

/** Chaikin money flow of one candle: close location in the range times volume (0 for a zero range). */
function moneyFlow(h: number, l: number, c: number, v: number): number {
  const range = h - l;
  return range === 0 ? 0 : ((c - l - (h - c)) / range) * v;
}

function vwapDistance(
  close: Float64Array,
  volume: Float64Array,
  priceVolume: Float64Array,
  window: number,
  col: number,
  n: number,
  m: Float64Array,
  volSum: Float64Array,
  pvSum: Float64Array,
): void {
  rollingSumInto(volume, 0, window, n, volSum);
  rollingSumInto(priceVolume, 0, window, n, pvSum);
  const out = col * n;
  for (let i = window - 1; i < n; i++) {
    if (volSum[i] === 0) {
      m[out + i] = 0;
      continue;
    }
    const vwap = pvSum[i] / volSum[i];
    m[out + i] = (close[i] - vwap) / vwap;
  }
}

function volumeRatio(current: number, average: number): number {
  return average === 0 ? 1 : current / average;
}
