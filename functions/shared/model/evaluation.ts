import type { OhlcvSeries } from "#features/series.js";
import type { DecisionThresholds } from "./decision.js";
import { type LabelDefinition, labelSeries, UNLABELLED } from "./labels.js";
import { type ClassificationMetrics, computeClassificationMetrics } from "./metrics.js";
import type { SignalModel } from "./runtime.js";

/**
 * Copies float64 features into the model's float32 input. Non-finite values (and values beyond
 * float32 range) become NaN, which the trees route down their "missing" branch; training used the
 * very same conversion, so serving and training agree on what "missing" is.
 */
export function toModelInput(
  features: Float64Array,
  out: Float32Array = new Float32Array(features.length),
): Float32Array {
  if (out.length < features.length) {
    throw new RangeError(`toModelInput: output holds ${out.length} values, need ${features.length}`);
  }
  for (let i = 0; i < features.length; i++) {
    const v = Math.fround(features[i]);
    out[i] = Number.isFinite(v) ? v : Number.NaN;
  }
  return out;
}

export interface SymbolSeries {
  symbol: string;
  series: OhlcvSeries;
}

export interface LabelledRows {
  rowCount: number;
  featureCount: number;
  /** row-major rowCount x featureCount, already converted by toModelInput */
  features: Float32Array;
  labels: Int8Array;
  /** candle open time (Unix seconds) of each row */
  starts: Float64Array;
  /** index into `symbols` of each row */
  symbolIndex: Uint16Array;
  symbols: string[];
}

export interface RowWindow {
  /** Unix seconds, inclusive */
  from?: number;
  /** Unix seconds, exclusive */
  to?: number;
}

export interface FeatureEngine {
  featureCount: number;
  warmupCandles: number;
  computeFeatureMatrix(series: OhlcvSeries): Float64Array;
}

/**
 * The rows a model is trained or scored on: every candle after the feature warm-up whose open time
 * is in the window and whose forward candle exists (so it has a label). The label may look past
 * `to`: a row belongs to the window of its own candle.
 */
export function buildLabelledRows(
  input: readonly SymbolSeries[],
  label: LabelDefinition,
  window: RowWindow,
  engine: FeatureEngine,
): LabelledRows {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const k = engine.featureCount;
  const parts: Array<{
    symbol: number;
    matrix: Float64Array;
    labels: Int8Array;
    starts: Float64Array;
    keep: Uint32Array;
  }> = [];
  let total = 0;
  input.forEach(({ series }, symbol) => {
    const labels = labelSeries(series.start, series.close, series.length, label);
    const keep: number[] = [];
    for (let i = engine.warmupCandles; i < series.length; i++) {
      const t = series.start[i];
      if (t >= from && t < to && labels[i] !== UNLABELLED) keep.push(i);
    }
    if (keep.length === 0) return;
    const matrix = engine.computeFeatureMatrix(series);
    if (matrix.length !== series.length * k) {
      throw new RangeError(
        `feature engine returned ${matrix.length} values for ${series.length} candles x ${k} features`,
      );
    }
    parts.push({ symbol, matrix, labels, starts: series.start, keep: Uint32Array.from(keep) });
    total += keep.length;
  });
  const rows: LabelledRows = {
    rowCount: total,
    featureCount: k,
    features: new Float32Array(total * k),
    labels: new Int8Array(total),
    starts: new Float64Array(total),
    symbolIndex: new Uint16Array(total),
    symbols: input.map((s) => s.symbol),
  };
  let r = 0;
  for (const part of parts) {
    for (const i of part.keep) {
      toModelInput(part.matrix.subarray(i * k, (i + 1) * k), rows.features.subarray(r * k, (r + 1) * k));
      rows.labels[r] = part.labels[i];
      rows.starts[r] = part.starts[i];
      rows.symbolIndex[r] = part.symbol;
      r++;
    }
  }
  return rows;
}

/** Rows per session.run when scoring many: a whole 1h symbol of the shared set in one run. */
export const INFERENCE_BATCH_ROWS = 65_536;

/** Scores many rows with bounded memory: one session.run per batch. */
export async function predictInBatches(
  model: SignalModel,
  features: Float32Array,
  rowCount: number,
  batchRows = INFERENCE_BATCH_ROWS,
): Promise<Float32Array> {
  const k = model.featureCount;
  const out = new Float32Array(rowCount * 3);
  for (let r = 0; r < rowCount; r += batchRows) {
    const n = Math.min(batchRows, rowCount - r);
    out.set(await model.predict(features.subarray(r * k, (r + n) * k), n), r * 3);
  }
  return out;
}

export async function evaluateRows(
  model: SignalModel,
  rows: LabelledRows,
  thresholds: DecisionThresholds,
): Promise<{ metrics: ClassificationMetrics; probabilities: Float32Array }> {
  const probabilities = await predictInBatches(model, rows.features, rows.rowCount);
  return {
    metrics: computeClassificationMetrics(probabilities, rows.labels, rows.rowCount, thresholds),
    probabilities,
  };
}
