/**
 * Backtest benchmark on the shared 1h set: a cold run (features + inference + replay, empty
 * prediction cache) against pure batched inference over the same rows, and a cached re-run.
 * The cold run scores on a worker thread while the main thread reads files and computes features;
 * both it and the pure-inference baseline use one onnxruntime thread. The one-thread cold run and
 * the cold run's CPU time are printed beside it so the overlap is visible, not hidden.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BenchFigure } from "../bench/figures.js";
import { loadSignalModel, predictInBatches, type SignalModel } from "../model/index.js";
import { loadMarket, modelInputOf } from "./predictions.js";
import { backtestCandles } from "./run.js";
import { firstScorableRow } from "./signals.js";

export type { BenchFigure };

const ROOT = resolve(import.meta.dirname, "../../..");

/** Pure batched inference over every scorable row of the folder: inputs prepared outside the clock. */
async function pureInference(model: SignalModel, candlesDir: string): Promise<{ ms: number; rows: number }> {
  let ms = 0;
  let rows = 0;
  for (const series of loadMarket(candlesDir, "ONE_HOUR")) {
    const first = firstScorableRow();
    const n = series.columns.length - first;
    if (n <= 0) continue;
    const input = modelInputOf(series.columns, first);
    const t0 = performance.now();
    await predictInBatches(model, input, n);
    ms += performance.now() - t0;
    rows += n;
  }
  return { ms, rows };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function benchBacktest(
  options: { candlesDir?: string; quick?: boolean } = {},
): Promise<BenchFigure[]> {
  // quick (the bench's smoke mode): the small embedded sample instead of the whole shared set
  const shared = resolve(ROOT, "../shared/data/candles");
  const candlesDir =
    options.candlesDir ?? (!options.quick && existsSync(shared) ? shared : resolve(ROOT, "data/replay"));
  const modelPath = resolve(ROOT, "models/signal-model.onnx");
  const model = await loadSignalModel(modelPath, modelPath.replace(/\.onnx$/, ".card.json"));
  const cacheDir = mkdtempSync(join(tmpdir(), "backtest-bench-"));
  try {
    // cold run and pure inference alternate, so a machine that speeds up or slows down between
    // them (this one drifts by ±10%) moves both; the ratio is the median of the rounds
    const rounds: { coldMs: number; inferenceMs: number; workerMs: number; cpuMs: number }[] = [];
    let rows = 0;
    let cold: Awaited<ReturnType<typeof backtestCandles>> | undefined;
    for (let round = 0; round < (options.quick ? 1 : 3); round++) {
      rmSync(cacheDir, { recursive: true, force: true });
      const cpu0 = process.cpuUsage();
      cold = await backtestCandles({ candlesDir, modelPath, model, cacheDir });
      const cpu = process.cpuUsage(cpu0);
      const pure = await pureInference(model, candlesDir);
      rows = pure.rows;
      rounds.push({
        coldMs: cold.timing.totalMs,
        inferenceMs: pure.ms,
        workerMs: cold.timing.inferenceMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
      });
    }
    if (!cold) throw new Error("no cold run");
    rmSync(cacheDir, { recursive: true, force: true });
    const oneThread = await backtestCandles({
      candlesDir,
      modelPath,
      model,
      cacheDir,
      inferenceThread: false,
    });
    const middle = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const inferenceMs = middle((r) => r.inferenceMs);
    const ratios = rounds.map((r) => r.coldMs / r.inferenceMs);
    const cached = await backtestCandles({ candlesDir, modelPath, model, cacheDir });
    const steps = cached.counts.candleSteps;
    return [
      {
        name: `backtest cold (${cold.symbols.length} x 1h; inference on a worker thread beside files + features), median of ${rounds.length}`,
        value: middle((r) => r.coldMs) / 1000,
        unit: "s",
      },
      {
        name: "  of which inference (worker thread, busy time)",
        value: middle((r) => r.workerMs) / 1000,
        unit: "s",
      },
      { name: "  CPU time, both threads (user + system)", value: middle((r) => r.cpuMs) / 1000, unit: "s" },
      {
        name: `pure batched inference, same ${rows} rows (one thread), median of ${rounds.length}`,
        value: inferenceMs / 1000,
        unit: "s",
      },
      {
        name: `cold backtest / pure inference, median of rounds (${ratios.map((r) => r.toFixed(3)).join(", ")})`,
        value: median(ratios),
        unit: "x",
        target: { comparison: "<", value: 1.25 },
      },
      {
        name: "backtest cold, one thread (--single-thread)",
        value: oneThread.timing.totalMs / 1000,
        unit: "s",
      },
      {
        name: "one-thread cold backtest / pure inference",
        value: oneThread.timing.totalMs / inferenceMs,
        unit: "x",
      },
      {
        name: "cached re-run, replay loop",
        value: steps / (cached.timing.replayMs / 1000),
        unit: "candle-steps/s",
        target: { comparison: ">=", value: 5_000_000 },
      },
      {
        name: "cached re-run, end to end",
        value: steps / (cached.timing.totalMs / 1000),
        unit: "candle-steps/s",
      },
      {
        name: "peak RSS",
        value: process.resourceUsage().maxRSS / 1024,
        unit: "MB",
        target: { comparison: "<", value: 2048 },
      },
    ];
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    await model.release();
  }
}
