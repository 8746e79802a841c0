/**
 * node --import tsx test/cli/support/repeat-backtest.ts <candle folder> <times>
 * Runs the backtest (the CLI's defaults: the shipped model, an inference thread, no cache) on the
 * folder `times` times in this one process and prints one line per run: the error's name and message,
 * or "accepted". A native abort (the inference worker cut short mid-call) ends the process with 134.
 */
import { resolve } from "node:path";
import { backtestCandles } from "#backtest/run.js";

const [candlesDir, times] = process.argv.slice(2);
if (!candlesDir || !times) throw new Error("usage: repeat-backtest.ts <candle folder> <times>");
const modelPath = resolve(import.meta.dirname, "../../../models/signal-model.onnx");
for (let i = 0; i < Number(times); i++) {
  try {
    await backtestCandles({ candlesDir, modelPath, inferenceThread: true });
    console.log("accepted");
  } catch (error) {
    console.log(`${(error as Error).name}: ${(error as Error).message}`);
  }
}
