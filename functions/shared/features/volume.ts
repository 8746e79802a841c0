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
  const [flow, flowSum, vol20, volOther, tpv, tpvSum, pvtFlow, pvtSum] = ws.tmp;

  for (let i = 0; i < n; i++) {
    const h = high[i];
    const l = low[i];
    const c = close[i];
    const range = h - l;
    flow[i] = range === 0 ? 0 : ((c - l - (h - c)) / range) * volume[i];
  }
  rollingSumInto(volume, 0, 20, n, vol20);
  rollingSumInto(flow, 0, 20, n, flowSum);
  for (let i = 19; i < n; i++) m[CMF * n + i] = vol20[i] === 0 ? 0 : flowSum[i] / vol20[i];

  for (let i = 1; i < n; i++) {
    const c = close[i];
    const prev = close[i - 1];
    // Branch-free sign: (+1 | -1 | 0) * volume gives exactly volume, -volume (-0 for no volume) and +0.
    flow[i] = (Number(c > prev) - Number(c < prev)) * volume[i];
    pvtFlow[i] = (volume[i] * (c - prev)) / prev;
  }
  rollingSumInto(flow, 1, 20, n, flowSum);
  rollingSumInto(pvtFlow, 1, 20, n, pvtSum);
  for (let i = 20; i < n; i++) {
    const v20 = vol20[i];
    m[OBV_SLOPE * n + i] = v20 === 0 ? 0 : flowSum[i] / v20;
    m[PVT_SLOPE * n + i] = v20 === 0 ? 0 : pvtSum[i] / v20;
  }

  for (let i = 19; i < n; i++) m[VOL_RATIO_20 * n + i] = volumeRatio(volume[i], vol20[i] / 20);
  rollingSumInto(volume, 0, 10, n, volOther);
  rollingSumInto(volume, 0, 50, n, flowSum);
  for (let i = 9; i < n; i++) m[VOL_RATIO_10 * n + i] = volumeRatio(volume[i], volOther[i] / 10);
  for (let i = 49; i < n; i++) m[VOL_RATIO_50 * n + i] = volumeRatio(volume[i], flowSum[i] / 50);

  for (let i = 0; i < n; i++) tpv[i] = tp[i] * volume[i];
  vwapDistance(close, tpv, 24, VWAP_24, n, m, volOther, tpvSum);
  vwapDistance(close, tpv, 168, VWAP_168, n, m, volOther, tpvSum);

  function vwapDistance(
    closes: Float64Array,
    priceVolume: Float64Array,
    window: number,
    col: number,
    count: number,
    matrix: Float64Array,
    volSum: Float64Array,
    pvSum: Float64Array,
  ): void {
    rollingSumInto(volume, 0, window, count, volSum);
    rollingSumInto(priceVolume, 0, window, count, pvSum);
    for (let i = window - 1; i < count; i++) {
      if (volSum[i] === 0) {
        matrix[col * count + i] = 0;
        continue;
      }
      const vwap = pvSum[i] / volSum[i];
      matrix[col * count + i] = (closes[i] - vwap) / vwap;
    }
  }
}

function volumeRatio(current: number, average: number): number {
  return average === 0 ? 1 : current / average;
}
