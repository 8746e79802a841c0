export { cardPathFor, type ModelCard, ModelCardSchema } from "./card.js";
export {
  type ClassProbabilities,
  DEFAULT_DECISION_THRESHOLDS,
  type DecisionThresholds,
  decideSignal,
  type SignalDecision,
} from "./decision.js";
export {
  buildLabelledRows,
  evaluateRows,
  type FeatureEngine,
  type LabelledRows,
  predictInBatches,
  type RowWindow,
  type SymbolSeries,
  toModelInput,
} from "./evaluation.js";
export {
  CLASS_DOWN,
  CLASS_HOLD,
  CLASS_NAMES,
  CLASS_UP,
  type ClassName,
  type LabelDefinition,
  labelSeries,
  UNLABELLED,
} from "./labels.js";
export { type ClassificationMetrics, computeClassificationMetrics } from "./metrics.js";
export {
  type LoadSignalModelOptions,
  loadSignalModel,
  ModelLoadError,
  type SignalModel,
  signalModelSha256,
} from "./runtime.js";
