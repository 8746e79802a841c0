/**
 * The 51 feature names in matrix column order. The trained model depends on this order:
 * append new features at the end (and retrain) rather than reordering.
 */
export const FEATURE_NAMES = [
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
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const FEATURE_COUNT = 51;

if (FEATURE_NAMES.length !== FEATURE_COUNT) {
  throw new Error(`FEATURE_NAMES lists ${FEATURE_NAMES.length} names but FEATURE_COUNT is ${FEATURE_COUNT}`);
}

/** Column index of a feature in a row. */
export function featureIndex(name: FeatureName): number {
  return FEATURE_NAMES.indexOf(name);
}

/** The features a human or the LLM validator should see next to a signal. */
export const KEY_FEATURES: readonly FeatureName[] = [
  "ret_1",
  "ret_24",
  "rsi_14",
  "macd_hist",
  "bb_pct_b_20",
  "atr_pct_14",
  "rv_24",
  "adx_14",
  "vol_ratio_20",
  "regime",
];
