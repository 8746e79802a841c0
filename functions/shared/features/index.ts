export {
  computeFeatureMatrix,
  computeModelInputRows,
  computeModelInputRowsInParts,
  latestFeatures,
  type ModelInputParts,
  SERVING_WINDOW,
  WARMUP_CANDLES,
} from "./engine.js";
export { FEATURE_COUNT, FEATURE_NAMES, type FeatureName, featureIndex, KEY_FEATURES } from "./names.js";
export {
  type MarketRegime,
  REGIME_CODES,
  regimeFromFeatures,
  TRENDING_ADX,
  VOLATILE_RV_RATIO,
} from "./regime.js";
export {
  emptySeries,
  type OhlcvCandleLike,
  type OhlcvSeries,
  seriesFromCandles,
  sliceSeries,
} from "./series.js";
export { CHUNK_ROWS } from "./workspace.js";
