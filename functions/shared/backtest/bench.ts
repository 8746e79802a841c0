/**
 * Backtest benchmark on the shared 1h set, with `npm run backtest` itself in fresh processes (what a
 * user runs, JIT cold): a cold run (empty prediction cache: candles, features, inference, replay)
 * against pure batched inference over the same rows, and cached re-runs with two risk settings.
 * The cold run scores on a worker thread while the main thread reads files and computes features;
 * both it and the pure-inference baseline use one onnxruntime thread. The one-thread cold run and
 * the cold run's CPU time are printed beside it so the overlap is visible, not hidden. Cold runs
 * and pure inference alternate, so a machine that drifts (this one: ±10%) moves both.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { BenchFigure } from "../bench/figures.js";
import { median } from "../bench/stats.js";
import { loadSignalModel, predictInBatches, type SignalModel } from "../model/index.js";
import { loadMarket, modelInputOf } from "./predictions.js";
import type { BacktestTiming } from "./run.js";
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

/**
 * Pure inference while another thread spins a plain integer loop: on a machine whose two vCPUs are
 * hyper-threads of one core, any work beside inference slows it, which bounds what overlapping
 * the backtest's own work with inference can win.
 */
async function pureInferenceBesideBusyThread(model: SignalModel, candlesDir: string): Promise<number> {
  // terminate() interrupts the loop; nothing else stops it
  const spinner = new Worker("let x = 0; for (;;) x = (x * 1664525 + 1013904223) | 0;", { eval: true });
  try {
    await new Promise((online) => spinner.once("online", online));
    return (await pureInference(model, candlesDir)).ms;
  } finally {
    await spinner.terminate();
  }
}

interface CliRun {
  timing: BacktestTiming;
  counts: { candleSteps: number };
  tradesSha256: string;
}

/** `npm run backtest -- <args> --json <file>` in a fresh node process; its JSON result. */
async function backtestCli(args: readonly string[], work: string): Promise<CliRun> {
  const json = join(work, `run-${Math.random().toString(36).slice(2)}.json`);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", resolve(ROOT, "bin/backtest.ts"), ...args, "--json", json],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (code !== 0)
    throw new Error(`npm run backtest -- ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(readFileSync(json, "utf8")) as CliRun;
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
  const work = mkdtempSync(join(tmpdir(), "backtest-bench-"));
  const cacheDir = join(work, "predictions");
  const base = ["--candles", candlesDir];
  try {
    const rounds: { cold: CliRun; inferenceMs: number }[] = [];
    let rows = 0;
    for (let round = 0; round < (options.quick ? 1 : 3); round++) {
      const cold = await backtestCli([...base, "--no-cache"], work);
      const pure = await pureInference(model, candlesDir);
      rows = pure.rows;
      rounds.push({ cold, inferenceMs: pure.ms });
    }
    const besideBusyMs = await pureInferenceBesideBusyThread(model, candlesDir);
    const oneThread = await backtestCli([...base, "--no-cache", "--single-thread"], work);
    // fill the cache, then re-run with two risk settings
    await backtestCli([...base, "--cache-dir", cacheDir], work);
    const cached = await backtestCli([...base, "--cache-dir", cacheDir], work);
    const cachedResume = await backtestCli(
      [...base, "--cache-dir", cacheDir, "--resume-kill-switch-after", "24"],
      work,
    );
    const fingerprints = new Set(
      rounds.map((r) => r.cold.tradesSha256).concat(oneThread.tradesSha256, cached.tradesSha256),
    );
    if (fingerprints.size !== 1) {
      throw new Error(`the same backtest gave different trade lists: ${[...fingerprints].join(", ")}`);
    }
    const middle = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const inferenceMs = middle((r) => r.inferenceMs);
    const ratios = rounds.map((r) => r.cold.timing.totalMs / r.inferenceMs);
    const loopRate = (run: CliRun) => run.counts.candleSteps / (run.timing.replayMs / 1000);
    const peakRssMb = Math.max(
      process.resourceUsage().maxRSS / 1024,
      ...rounds.map((r) => r.cold.timing.peakRssMb),
      oneThread.timing.peakRssMb,
      cached.timing.peakRssMb,
    );
    return [
      {
        name: `backtest cold (${rows} rows; fresh process; inference on a worker thread), median of ${rounds.length}`,
        value: middle((r) => r.cold.timing.totalMs) / 1000,
        unit: "s",
      },
      {
        name: "  of which model load",
        value: middle((r) => r.cold.timing.modelMs) / 1000,
        unit: "s",
      },
      {
        name: "  inference (worker thread, busy time)",
        value: middle((r) => r.cold.timing.inferenceMs) / 1000,
        unit: "s",
      },
      {
        name: "  CPU time, both threads (user + system)",
        value: middle((r) => r.cold.timing.cpuMs) / 1000,
        unit: "s",
      },
      {
        name: `pure batched inference, same rows (one thread), median of ${rounds.length}`,
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
        name: "pure inference, same rows, beside a thread spinning an integer loop",
        value: besideBusyMs / 1000,
        unit: "s",
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
        name: "cached re-run, replay loop (fresh process)",
        value: loopRate(cached),
        unit: "candle-steps/s",
        target: { comparison: ">=", value: 5_000_000 },
      },
      {
        name: "cached re-run --resume-kill-switch-after 24, replay loop",
        value: loopRate(cachedResume),
        unit: "candle-steps/s",
        target: { comparison: ">=", value: 5_000_000 },
      },
      {
        name: "cached re-run, end to end (candles, hashes, cache, replay, metrics)",
        value: cached.counts.candleSteps / (cached.timing.totalMs / 1000),
        unit: "candle-steps/s",
      },
      {
        name: "peak RSS (largest process)",
        value: peakRssMb,
        unit: "MB",
        target: { comparison: "<", value: 2048 },
      },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
    await model.release();
  }
}
