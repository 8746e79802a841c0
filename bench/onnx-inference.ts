/**
 * Inference speed of the shipped model through the same runtime the Lambda uses.
 * npx tsx bench/onnx-inference.ts [--threads 1] [--rows 50000]
 */
import { parseArgs } from "node:util";
import { buildLabelledRows } from "#model/evaluation.js";
import { loadSignalModel } from "#model/runtime.js";
import { readCandleFolder } from "#training/candle-csv.js";
import { TRAINING_CONFIG, toUnix } from "#training/config.js";
import { FEATURE_ENGINE } from "#training/evaluate-candles.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/signal-model.onnx" },
    candles: { type: "string", default: "../shared/data/candles" },
    threads: { type: "string", default: "1" },
    rows: { type: "string", default: "50000" },
  },
});

const model = await loadSignalModel(values.model, undefined, { intraOpNumThreads: Number(values.threads) });
const series = await readCandleFolder(values.candles, TRAINING_CONFIG.granularity);
const all = buildLabelledRows(
  series,
  TRAINING_CONFIG.label,
  { from: toUnix(TRAINING_CONFIG.testStart) },
  FEATURE_ENGINE,
);
const k = model.featureCount;
const n = Math.min(Number(values.rows), all.rowCount);
const batch = all.features.subarray(0, n * k);

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(rows: Float32Array, count: number, repeats: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await model.predict(rows, count);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

await time(batch, n, 1);
const bigMs = await time(batch, n, 5);
const twentyMs = await time(batch.subarray(0, 20 * k), 20, 200);
const oneMs = await time(batch.subarray(0, k), 1, 200);
console.log(
  JSON.stringify({
    model: values.model,
    intraOpNumThreads: Number(values.threads),
    batchRows: n,
    batchMs: Number(bigMs.toFixed(1)),
    rowsPerSecond: Math.round((n / bigMs) * 1000),
    latency20RowsMs: Number(twentyMs.toFixed(3)),
    latency1RowMs: Number(oneMs.toFixed(3)),
  }),
);
await model.release();
