import { describe, expect, it } from "vitest";
import {
  computeFeatureMatrix,
  FEATURE_COUNT,
  FEATURE_NAMES,
  featureIndex,
  KEY_FEATURES,
  latestFeatures,
  REGIME_CODES,
  regimeFromFeatures,
  SERVING_WINDOW,
  seriesFromCandles,
  WARMUP_CANDLES,
} from "#features/index.js";

/** The trained model reads columns by position: this list may only grow at the end (and then retrain). */
const PINNED_NAMES = [
  "ret_1",
  "ret_3",
  "ret_6",
  "ret_12",
  "ret_24",
  "ret_48",
  "rsi_14",
  "macd_line",
  "macd_signal",
  "macd_hist",
  "bb_pct_b_20",
  "bb_width_20",
  "atr_pct_14",
  "stoch_k_14",
  "stoch_d_14_3",
  "williams_r_14",
  "cci_20",
  "adx_14",
  "plus_di_14",
  "minus_di_14",
  "mfi_14",
  "obv_slope_20",
  "pvt_slope_20",
  "cmf_20",
  "vol_ratio_10",
  "vol_ratio_20",
  "vol_ratio_50",
  "vwap_dist_24",
  "vwap_dist_168",
  "rv_12",
  "rv_24",
  "rv_72",
  "rv_168",
  "rv_ratio_24_168",
  "wt1",
  "wt2",
  "dist_high_24",
  "dist_low_24",
  "dist_high_168",
  "dist_low_168",
  "regime",
  "body_ratio",
  "upper_shadow_ratio",
  "lower_shadow_ratio",
  "range_pct",
  "ema_dist_9",
  "ema_dist_21",
  "ema_cross_9_21",
  "sma_dist_50",
  "sma_dist_200",
  "efficiency_ratio_10",
];

function syntheticCandles(n: number, price: (i: number) => number, volume: (i: number) => number) {
  return Array.from({ length: n }, (_, i) => {
    const open = price(i);
    const close = price(i + 1);
    return {
      start: 1_700_000_000 + i * 3600,
      open,
      high: Math.max(open, close) * 1.001,
      low: Math.min(open, close) * 0.999,
      close,
      volume: volume(i),
    };
  });
}

describe("feature set", () => {
  it("has exactly 51 uniquely named features in the pinned order", () => {
    expect(FEATURE_COUNT).toBe(51);
    expect([...FEATURE_NAMES]).toEqual(PINNED_NAMES);
    expect(new Set(FEATURE_NAMES).size).toBe(51);
  });

  it("key features are real feature names", () => {
    expect(KEY_FEATURES.length).toBeGreaterThanOrEqual(6);
    for (const name of KEY_FEATURES) expect(FEATURE_NAMES).toContain(name);
  });

  it("WARMUP_CANDLES is the first fully defined row: the row before it still has a NaN", () => {
    const candles = syntheticCandles(
      400,
      (i) => 100 + 10 * Math.sin(i / 7) + i * 0.05,
      (i) => 10 + (i % 5),
    );
    const m = computeFeatureMatrix(seriesFromCandles(candles));
    const row = (i: number) => Array.from(m.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT));
    expect(row(WARMUP_CANDLES - 1).some(Number.isNaN)).toBe(true);
    for (let i = WARMUP_CANDLES; i < 400; i++) expect(row(i).every(Number.isFinite)).toBe(true);
  });

  it("flat prices and zero volume give the documented neutral values, never NaN or Infinity", () => {
    const candles = Array.from({ length: SERVING_WINDOW }, (_, i) => ({
      start: i * 3600,
      open: 5,
      high: 5,
      low: 5,
      close: 5,
      volume: 0,
    }));
    const row = latestFeatures(seriesFromCandles(candles));
    expect(Array.from(row).every(Number.isFinite)).toBe(true);
    const value = (name: (typeof PINNED_NAMES)[number]) => row[featureIndex(name as "rsi_14")];
    expect(value("rsi_14")).toBe(50);
    expect(value("bb_pct_b_20")).toBe(0.5);
    expect(value("stoch_k_14")).toBe(50);
    expect(value("williams_r_14")).toBe(-50);
    expect(value("mfi_14")).toBe(50);
    expect(value("vol_ratio_20")).toBe(1);
    expect(value("rv_ratio_24_168")).toBe(1);
    expect(value("vwap_dist_24")).toBe(0);
    expect(value("adx_14")).toBe(0);
    expect(regimeFromFeatures(row)).toBe("RANGING");
  });

  it("a steady climb is TRENDING_UP and a steady fall TRENDING_DOWN", () => {
    const up = syntheticCandles(
      SERVING_WINDOW,
      (i) => 100 * 1.002 ** i,
      () => 5,
    );
    const down = syntheticCandles(
      SERVING_WINDOW,
      (i) => 100 * 0.998 ** i,
      () => 5,
    );
    expect(regimeFromFeatures(latestFeatures(seriesFromCandles(up)))).toBe("TRENDING_UP");
    expect(regimeFromFeatures(latestFeatures(seriesFromCandles(down)))).toBe("TRENDING_DOWN");
  });

  it("a volatility burst after a calm week is VOLATILE", () => {
    const candles = syntheticCandles(
      SERVING_WINDOW,
      (i) => (i < SERVING_WINDOW - 24 ? 100 + 0.01 * (i % 2) : 100 + 8 * ((i % 2) * 2 - 1)),
      () => 5,
    );
    expect(regimeFromFeatures(latestFeatures(seriesFromCandles(candles)))).toBe("VOLATILE");
  });

  it("regimeFromFeatures reads a row at an offset and rejects warm-up rows", () => {
    const matrix = new Float64Array(2 * FEATURE_COUNT).fill(Number.NaN);
    matrix[FEATURE_COUNT + featureIndex("regime")] = REGIME_CODES.TRENDING_DOWN;
    expect(regimeFromFeatures(matrix, FEATURE_COUNT)).toBe("TRENDING_DOWN");
    expect(() => regimeFromFeatures(matrix, 0)).toThrow(/warm-up/);
  });

  it("latestFeatures refuses fewer than SERVING_WINDOW candles, saying how many it needs", () => {
    const candles = syntheticCandles(
      SERVING_WINDOW - 1,
      (i) => 100 + i,
      () => 1,
    );
    expect(() => latestFeatures(seriesFromCandles(candles))).toThrow(new RegExp(`${SERVING_WINDOW}`));
  });

  it("seriesFromCandles rejects unsorted candles", () => {
    const candles = syntheticCandles(
      3,
      (i) => 100 + i,
      () => 1,
    ).reverse();
    expect(() => seriesFromCandles(candles)).toThrow(/sorted/);
  });

  it("computeFeatureMatrix rejects an out buffer that is too small", () => {
    const series = seriesFromCandles(
      syntheticCandles(
        10,
        (i) => 100 + i,
        () => 1,
      ),
    );
    expect(() => computeFeatureMatrix(series, new Float64Array(10))).toThrow(/510/);
  });
});
