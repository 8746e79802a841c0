/**
 * Inference latency of the shipped model on a 20-symbol batch of real feature rows: the same
 * predict() call generateSignals makes once per cycle.
 */
import { FEATURE_COUNT, latestFeatures, SERVING_WINDOW, sliceSeries } from "#features/index.js";
import type { SignalModel } from "#model/index.js";
import type { BenchFigure } from "./figures.js";
import type { HourlyCandles } from "./real-candles.js";
import { summarizeLatencies, timeCalls } from "./stats.js";

export const BATCH_SYMBOLS = 20;

/**
 * `batchCount` batches of BATCH_SYMBOLS float32 rows, each the latest features of every symbol at
 * a different hour (24 h apart), the first symbol repeated to make up 20 when there are 19.
 */
export function realFeatureBatches(candles: HourlyCandles, batchCount: number): Float32Array[] {
  const batches: Float32Array[] = [];
  for (let b = 0; b < batchCount; b++) {
    const rows = new Float32Array(BATCH_SYMBOLS * FEATURE_COUNT);
    for (let r = 0; r < BATCH_SYMBOLS; r++) {
      const { productId, columns } = candles.symbols[r % candles.symbols.length]!;
      const end = columns.length - b * 24;
      if (end - SERVING_WINDOW < 0) {
        throw new Error(
          `${productId} has ${columns.length} candles; batch ${b} needs ${SERVING_WINDOW + b * 24}. Use fewer batches or more history.`,
        );
      }
      rows.set(latestFeatures(sliceSeries(columns, end - SERVING_WINDOW, end)), r * FEATURE_COUNT);
    }
    batches.push(rows);
  }
  return batches;
}

export interface InferenceBenchOptions {
  runs: number;
  warmup: number;
}

export async function benchInference(
  model: SignalModel,
  batches: readonly Float32Array[],
  options: InferenceBenchOptions,
): Promise<BenchFigure[]> {
  let call = 0;
  let checksum = 0;
  const samples = await timeCalls(options.runs, options.warmup, async () => {
    const probabilities = await model.predict(batches[call++ % batches.length]!, BATCH_SYMBOLS);
    checksum += probabilities[0]!;
  });
  if (!Number.isFinite(checksum))
    throw new Error("inference bench: the model returned non-finite probabilities");
  const s = summarizeLatencies(samples);
  const unit = `ms per ${BATCH_SYMBOLS}-row batch (${s.runs} runs)`;
  return [
    { name: "inference.batch20.p50", value: s.p50, unit },
    { name: "inference.batch20.p99", value: s.p99, unit },
    { name: "inference.rows_per_s", value: (BATCH_SYMBOLS * 1000) / s.p50, unit: "rows/s at p50" },
  ];
}
