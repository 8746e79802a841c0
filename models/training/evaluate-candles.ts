import { computeFeatureMatrix, FEATURE_COUNT, WARMUP_CANDLES } from "#features/index.js";
import type { DecisionThresholds } from "#model/decision.js";
import { buildLabelledRows, evaluateRows, type FeatureEngine, type RowWindow } from "#model/evaluation.js";
import type { LabelDefinition } from "#model/labels.js";
import type { ClassificationMetrics } from "#model/metrics.js";
import type { SignalModel } from "#model/runtime.js";
import { readCandleFolder } from "./candle-csv.js";

export const FEATURE_ENGINE: FeatureEngine = {
  featureCount: FEATURE_COUNT,
  warmupCandles: WARMUP_CANDLES,
  computeFeatureMatrix: (series) => computeFeatureMatrix(series),
};

export interface CandleEvaluation {
  metrics: ClassificationMetrics;
  symbols: string[];
  /** first and last candle open time (Unix seconds) of the scored rows */
  firstStart: number;
  lastStart: number;
}

/**
 * Scores a model on a folder of `<BASE>-<QUOTE>_<granularity>.csv` files. Used by `npm run evaluate`
 * and by `npm run train` to write the card's validation section, so the two agree by construction.
 */
export async function evaluateOnCandles(options: {
  model: SignalModel;
  candleDir: string;
  granularity: string;
  label: LabelDefinition;
  window: RowWindow;
  thresholds: DecisionThresholds;
  symbols?: readonly string[];
  engine?: FeatureEngine;
}): Promise<CandleEvaluation> {
  const series = await readCandleFolder(options.candleDir, options.granularity, options.symbols);
  const rows = buildLabelledRows(series, options.label, options.window, options.engine ?? FEATURE_ENGINE);
  if (rows.rowCount === 0) {
    throw new Error(
      `no labelled rows in ${options.candleDir} for the requested window; rows need ${options.engine?.warmupCandles ?? WARMUP_CANDLES} warm-up candles before them and a candle ${options.label.horizonCandles} candles after them`,
    );
  }
  const { metrics } = await evaluateRows(options.model, rows, options.thresholds);
  let firstStart = Number.POSITIVE_INFINITY;
  let lastStart = Number.NEGATIVE_INFINITY;
  for (const t of rows.starts) {
    if (t < firstStart) firstStart = t;
    if (t > lastStart) lastStart = t;
  }
  const used = new Set(rows.symbolIndex);
  return { metrics, symbols: rows.symbols.filter((_, i) => used.has(i)), firstStart, lastStart };
}
