/**
 * Pure batched inference over every scorable row of a candle folder, in a process of its own: the
 * baseline of the cold-backtest benchmark (bench.ts), run in a fresh process like the backtest it is
 * compared with. Inputs are prepared before the clock starts; one onnxruntime thread, batches of
 * INFERENCE_BATCH_ROWS. With --beside-busy-thread, another thread spins an integer loop meanwhile.
 *
 *   tsx pure-inference-entry.ts <candles dir> <model.onnx> [--beside-busy-thread]
 *
 * Prints one JSON line: { "ms": number, "rows": number }.
 */
import { Worker } from "node:worker_threads";
import { loadMarket, modelInputOf } from "#backtest/predictions.js";
import { firstScorableRow } from "#backtest/signals.js";
import { cardPathFor, loadSignalModel, predictInBatches } from "#model/index.js";

const [candlesDir, modelPath, flag] = process.argv.slice(2);
if (!candlesDir || !modelPath || (flag !== undefined && flag !== "--beside-busy-thread")) {
  throw new Error("usage: tsx pure-inference-entry.ts <candles dir> <model.onnx> [--beside-busy-thread]");
}
const model = await loadSignalModel(modelPath, cardPathFor(modelPath));
const first = firstScorableRow();
const inputs = loadMarket(candlesDir, "ONE_HOUR")
  .filter((series) => series.columns.length > first)
  .map((series) => ({ rows: modelInputOf(series.columns, first), count: series.columns.length - first }));

// On a machine whose two vCPUs are hyper-threads of one core, any work beside inference slows it:
// this bounds what overlapping the backtest's own work with inference can win.
// terminate() interrupts the loop; nothing else stops it
const spinner =
  flag === "--beside-busy-thread"
    ? new Worker("let x = 0; for (;;) x = (x * 1664525 + 1013904223) | 0;", { eval: true })
    : undefined;
if (spinner) await new Promise((online) => spinner.once("online", online));
let ms = 0;
let rows = 0;
for (const input of inputs) {
  const t0 = performance.now();
  await predictInBatches(model, input.rows, input.count);
  ms += performance.now() - t0;
  rows += input.count;
}
await spinner?.terminate();
await model.release();
console.log(JSON.stringify({ ms, rows }));
