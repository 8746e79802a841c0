/**
 * The whole warm signal cycle of 20 symbols without I/O: generateSignals over in-memory candle and
 * signal stores, so the figure is features + one batched inference + decisions + signal building.
 */

import { DEFAULT_SIGNAL_TTL_DAYS } from "#defaults";
import type { Candle, Signal } from "#domain/schemas.js";
import { SERVING_WINDOW } from "#features/index.js";
import { columnsToCandles } from "#market-data/replay.js";
import { DEFAULT_DECISION_THRESHOLDS, type SignalModel } from "#model/index.js";
import { silentLog } from "#runtime/log.js";
import { generateSignals, type SignalDeps, type SignalSettings } from "#steps/generate-signals.js";
import type { CandleStore, SignalStore } from "#store/ports.js";
import type { BenchFigure } from "./figures.js";
import { BATCH_SYMBOLS } from "./inference.js";
import type { HourlyCandles } from "./real-candles.js";
import { summarizeLatencies, timeCalls } from "./stats.js";

export const CYCLE_TARGET_MS = 20;

class InMemoryCandles implements Pick<CandleStore, "latestCandles"> {
  constructor(private readonly bySymbol: ReadonlyMap<string, Candle[]>) {}

  async latestCandles(symbol: string, _granularity: unknown, limit: number): Promise<Candle[]> {
    return this.bySymbol.get(symbol)?.slice(-limit) ?? [];
  }
}

class InMemorySignals implements Pick<SignalStore, "putSignal"> {
  readonly byId = new Map<string, Signal>();

  async putSignal(signal: Signal): Promise<boolean> {
    if (this.byId.has(signal.signalId)) return false;
    this.byId.set(signal.signalId, signal);
    return true;
  }
}

export interface SignalCycleBenchOptions {
  runs: number;
  warmup: number;
}

export async function benchSignalCycle(
  model: SignalModel,
  candles: HourlyCandles,
  options: SignalCycleBenchOptions,
): Promise<BenchFigure[]> {
  const bySymbol = new Map<string, Candle[]>();
  for (const { productId, columns } of candles.symbols) {
    const newest = columns.length;
    const from = Math.max(0, newest - SERVING_WINDOW - 2);
    const window = {
      start: columns.start.subarray(from, newest),
      open: columns.open.subarray(from, newest),
      high: columns.high.subarray(from, newest),
      low: columns.low.subarray(from, newest),
      close: columns.close.subarray(from, newest),
      volume: columns.volume.subarray(from, newest),
      length: newest - from,
    };
    bySymbol.set(productId, columnsToCandles(window, productId, candles.granularity));
  }
  const real = [...bySymbol.keys()];
  // 19 real symbols; the 20th repeats the first (its signal id repeats too, so it is written once).
  const symbols = Array.from({ length: BATCH_SYMBOLS }, (_, i) => real[i % real.length]!);
  const signals = new InMemorySignals();
  const deps: SignalDeps = { candles: new InMemoryCandles(bySymbol), signals, model, log: silentLog };
  const settings: SignalSettings = {
    symbols,
    granularity: candles.granularity,
    thresholds: DEFAULT_DECISION_THRESHOLDS,
    ttlDays: DEFAULT_SIGNAL_TTL_DAYS,
    dataSource: "replay",
  };
  // a minute after the common newest candle closed, so every symbol is fresh
  const now = new Date((candles.commonLastStart + 3600 + 60) * 1000);

  const first = await generateSignals(deps, settings, now);
  if (first.skipped.length > 0 || first.signals.length !== BATCH_SYMBOLS) {
    throw new Error(
      `signal cycle bench: expected ${BATCH_SYMBOLS} signals, got ${first.signals.length}; skipped: ${first.skipped.map((s) => `${s.symbol} (${s.reason})`).join("; ")}`,
    );
  }
  let inferenceMs = 0;
  const samples = await timeCalls(options.runs, options.warmup, async () => {
    inferenceMs += (await generateSignals(deps, settings, now)).inferenceMs;
  });
  const s = summarizeLatencies(samples);
  const unit = `ms per ${BATCH_SYMBOLS}-symbol cycle, warm, no I/O (${s.runs} runs)`;
  const target = { comparison: "<" as const, value: CYCLE_TARGET_MS };
  return [
    { name: "cycle.symbols20.p50", value: s.p50, unit, target },
    { name: "cycle.symbols20.p99", value: s.p99, unit, target },
    {
      name: "cycle.symbols20.inference_mean",
      value: inferenceMs / (options.runs + options.warmup),
      unit: "ms of each cycle spent in predict() (mean)",
    },
  ];
}
