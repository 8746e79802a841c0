/**
 * A whole backtest from a folder of candle files: load, predict (or read the prediction cache),
 * replay the live chain, compare with equal-weight buy-and-hold.
 */
import { resolve } from "node:path";
import { bundledProductRules } from "#coinbase/product-rules.js";
import { DEFAULT_GRANULARITY } from "#defaults";
import { GRANULARITY_SECONDS, type Granularity } from "#domain/schemas.js";
import type { ExitSettings } from "#exits/exit-settings.js";
import { FEATURE_COUNT } from "#features/index.js";
import {
  cardPathFor,
  type DecisionThresholds,
  loadSignalModel,
  ModelLoadError,
  type SignalModel,
  signalModelSha256,
} from "#model/index.js";
import { type InferenceThread, startInferenceThread } from "#model/inference-thread.js";
import type { RiskLimits } from "#risk/index.js";
import type { BridgeSettings } from "#steps/signal-bridge.js";
import {
  type BacktestRun,
  type BacktestSettings,
  type BacktestSymbol,
  type BacktestTrade,
  cycleTimesFor,
  type FillSettings,
  runBacktest,
  tradesFingerprint,
} from "./engine.js";
import {
  type BuyAndHold,
  buyAndHold,
  type PerformanceMetrics,
  type PositionStats,
  performanceOf,
  positionStats,
} from "./metrics.js";
import {
  anyCachedPredictions,
  hasCachedPredictions,
  listMarketFiles,
  type MarketPredictions,
  type MarketSource,
  type PredictionTiming,
  readMarketFiles,
  startMarketPredictions,
} from "./predictions.js";
import {
  backtestSettingsOf,
  changedSettings,
  DEFAULT_FILL_SETTINGS,
  defaultSettings,
  type ResolvedSettings,
  type SettingReport,
  SettingsError,
} from "./settings.js";
import { firstScorableRow } from "./signals.js";
import { checkAgainstSteps, type StepCheck } from "./step-check.js";
import { memoryReplayPorts, runStepReplay } from "./step-replay.js";
import {
  type BacktestWindow,
  backtestWindow,
  checkOrder,
  type InSampleWarning,
  seenMarketOf,
} from "./windows.js";

export { DEFAULT_FILL_SETTINGS };

export const LLM_VETO_NOTE =
  "The LLM veto (Ollama validation) is NOT applied: every recommendation the bridge queues is treated as approved by the LLM. Live results can only have fewer trades.";
/** How positions leave in this replay, with or without the resting stop (EXIT_RESTING_STOP). */
export function stopNote(restingStops: boolean): string {
  const policy =
    "Positions leave by the live exit policy (stop first, take-profit ladder, trailing stop, time limit, SELL signal, kill switch), evaluated once a cycle on the bid the position manager reads from the paper venue; exits sell at that bid.";
  return restingStops
    ? `${policy} The stop also rests on the venue as the manager keeps it (EXIT_RESTING_STOP): placed when the entry fills, raised once the trail is 0.5R above it, cancelled before any other sell; the candle's low fills it at its level, or at the open through a gap, down to its limit.`
    : `${policy} EXIT_RESTING_STOP=false: no stop rests on the venue, so a wick under the stop that the bid does not reach sells nothing.`;
}

export interface BacktestOptions {
  candlesDir: string;
  symbols?: readonly string[];
  /**
   * Unix seconds: cycles for candle closes in [from, to), clipped to the data. Without fromSec the
   * replay starts at the first candle the model's card says it has not seen (backtest/windows.ts).
   */
  fromSec?: number;
  toSec?: number;
  modelPath: string;
  cardPath?: string;
  /**
   * The trading settings, read through the live config schema (backtest/settings.ts:
   * resolveSettings over the environment, --config, the CLI's shorthands); default: the live defaults.
   */
  settings?: ResolvedSettings;
  cacheDir?: string;
  granularity?: Granularity;
  /** replay an operator resuming the kill switch this many hours after each automatic trip */
  killSwitchResumeAfterHours?: number;
  onProgress?(phase: "predict" | "replay", done: number, total: number): void;
  /** an already loaded model (benchmarks, tests) */
  model?: SignalModel;
  /**
   * Run the window a second time through the live pipeline's own steps (step-replay.ts, on in-memory
   * stores and the paper venue) and compare every order and every cycle's equity (step-check.ts).
   */
  checkSteps?: boolean;
  /**
   * Score on a worker thread while this thread reads files and computes features (default true).
   * false: one thread does everything in turn (for a machine with a single core).
   */
  inferenceThread?: boolean;
}

export interface BacktestTiming extends PredictionTiming {
  /** loading the model (unless one was passed in) */
  modelMs: number;
  /** wall time until every row was scored (loading, features and inference overlap with an inference thread) */
  predictMs: number;
  /** whether inference ran on a worker thread */
  inferenceThread: boolean;
  /** CPU time of the whole process (every thread) during the backtest */
  cpuMs: number;
  /** the process's peak resident memory so far */
  peakRssMb: number;
  replayMs: number;
  totalMs: number;
}

export interface BacktestResult {
  model: { name: string; version: string; sha256: string };
  candlesDir: string;
  symbols: string[];
  span: { firstCycle: string; lastCycle: string; cycles: number };
  settings: {
    startingCashUsd: number;
    fill: FillSettings;
    limits: RiskLimits;
    bridge: BridgeSettings;
    thresholds: DecisionThresholds;
    exits: ExitSettings;
    dailyLossResumesNextDay: boolean;
    /** --resume-kill-switch-after: the replayed operator (not a setting of the live functions) */
    killSwitchResumeAfterHours?: number;
    /** every variable of the live config the backtest read: value, default, where it came from */
    variables: SettingReport[];
    /** the variables that differ from the defaults, as NAME=value (default ...; source) */
    changed: string[];
  };
  /** the replayed window and whether the model has seen any of it */
  window: {
    /** cycles for candle closes in [from, to), clipped to the data (ISO) */
    from: string;
    to: string;
    /** --from given, or the default: the first candle the model has not seen (or the first scorable one) */
    fromChosen: string;
    /** the first candle the model's card says it has not seen (ISO); undefined without a card */
    firstUnseen?: string;
    /** set when the window overlaps what the model was fitted or selected on */
    inSample?: InSampleWarning;
  };
  notes: string[];
  strategy: PerformanceMetrics;
  buyAndHold: PerformanceMetrics;
  /** the strategy's positions: opened, closed, win rate, holding time, exits by reason */
  positions: PositionStats;
  /** the largest fall of equity in one cycle, and the largest loss stop exits took beyond their stops */
  drawdownBound: { maxDrawdownLimit: number; largestBarLossUsd: number; largestStopGapUsd: number };
  counts: BacktestRun["counts"];
  killSwitch?: BacktestRun["killSwitch"];
  killSwitchTrips: BacktestRun["killSwitchTrips"];
  openPositions: BacktestRun["openPositions"];
  refusedOrders: BacktestRun["refusedOrders"];
  trades: BacktestTrade[];
  tradesSha256: string;
  timing: BacktestTiming;
  /** --check-steps: the same window through the live pipeline's steps, compared order by order */
  stepCheck?: StepCheck;
  /** for the report */
  curves: { cycleTimes: Float64Array; equity: Float64Array; buyAndHold: Float64Array };
  market: BacktestSymbol[];
}

/** The first close at which any symbol has a full serving window, and one past the last close. */
export function defaultSpan(symbols: readonly BacktestSymbol[], intervalSeconds: number) {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const first = firstScorableRow();
  for (const s of symbols) {
    if (s.length > first) from = Math.min(from, s.start[first] + intervalSeconds);
    if (s.length > 0) to = Math.max(to, s.start[s.length - 1] + intervalSeconds + 1);
  }
  return { fromSec: from, toSec: to };
}

export async function backtestCandles(options: BacktestOptions): Promise<BacktestResult> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const granularity = options.granularity ?? DEFAULT_GRANULARITY;
  const interval = GRANULARITY_SECONDS[granularity];
  // a reversed window is refused before any file is read
  checkOrder(options.fromSec, options.toSec);
  if (options.checkSteps && options.killSwitchResumeAfterHours !== undefined)
    throw new SettingsError(
      "--check-steps replays the live pipeline, which has no operator to resume its kill switch: drop --resume-kill-switch-after",
    );
  const resolved = options.settings ?? defaultSettings();
  const files = listMarketFiles(options.candlesDir, granularity, options.symbols);
  const modelSha = options.model?.sha256 ?? (await signalModelSha256(options.modelPath));
  const inferenceThread = options.inferenceThread ?? true;
  let thread: InferenceThread | undefined;
  const threadFor = () =>
    (thread ??= startInferenceThread({ sha256: modelSha, featureCount: FEATURE_COUNT }, options.modelPath));
  // the inference thread starts (~0.2 s) while this thread reads the candles and loads the model:
  // at once when nothing of this model is cached (each file is then read when its turn comes),
  // else once the files are read and hashed and one of them turns out not to be cached
  let market: MarketSource[] = files;
  if (!anyCachedPredictions(options.cacheDir, modelSha)) {
    if (inferenceThread) threadFor();
  } else {
    const read = readMarketFiles(files);
    market = read;
    if (inferenceThread && read.some((m) => !hasCachedPredictions(options.cacheDir, modelSha, m)))
      threadFor();
  }
  const loadedMs = performance.now() - t0;
  try {
    const timing: BacktestTiming = {
      modelMs: 0,
      predictMs: 0,
      inferenceThread,
      cpuMs: 0,
      peakRssMb: 0,
      loadMs: loadedMs,
      featuresMs: 0,
      inferenceMs: 0,
      cacheHits: 0,
      rowsInferred: 0,
      replayMs: 0,
      totalMs: 0,
    };
    let loaded: SignalModel | undefined = options.model;
    const loadModel = async (): Promise<SignalModel> => {
      if (loaded) return loaded;
      const tm = performance.now();
      loaded = await loadSignalModel(options.modelPath, options.cardPath ?? cardPathFor(options.modelPath));
      timing.modelMs = performance.now() - tm;
      if (loaded.sha256 !== modelSha) {
        throw new ModelLoadError(
          `${options.modelPath} changed while the backtest ran (sha256 ${loaded.sha256.slice(0, 12)}… after ${modelSha.slice(0, 12)}…); run it again.`,
        );
      }
      return loaded;
    };
    const t1 = performance.now();
    // with an inference thread this thread needs the model only for its name, version and checks:
    // it loads it while the thread scores
    let predictions: MarketPredictions;
    try {
      predictions = await startMarketPredictions(
        inferenceThread ? { sha256: modelSha } : await loadModel(),
        market,
        {
          cacheDir: options.cacheDir,
          ...(inferenceThread ? { inferenceThread: threadFor } : {}),
          timing,
          onProgress: (done, total) => options.onProgress?.("predict", done, total),
        },
      );
    } catch (error) {
      // a model that cannot be scored: loadSignalModel says why better than the inference thread
      await loadModel();
      throw error;
    }
    const model = await loadModel();
    const symbols = predictions.symbols;
    const seen = model.card ? seenMarketOf(model.card) : undefined;
    let window: BacktestWindow;
    try {
      window = backtestWindow(
        { fromSec: options.fromSec, toSec: options.toSec },
        defaultSpan(symbols, interval),
        symbols,
        interval,
        seen,
      );
    } catch (error) {
      // an empty window: the scores still being computed are cached for the next run, then it fails
      await predictions.finished.catch(() => {});
      throw error;
    }
    const settings = backtestSettingsOf(resolved.trading, {
      granularity,
      intervalSeconds: interval,
      fromSec: window.fromSec,
      toSec: window.toSec,
      modelVersion: model.version,
      rulesFor: bundledProductRules,
      killSwitchResumeAfterHours: options.killSwitchResumeAfterHours,
      onProgress: (done, total) => options.onProgress?.("replay", done, total),
    });
    const { startingCashUsd, fill } = settings;
    // buy-and-hold reads only candles: it runs while the model is still scoring
    const hold: BuyAndHold = buyAndHold(
      symbols,
      cycleTimesFor(settings),
      interval,
      startingCashUsd,
      fill,
      bundledProductRules,
    );
    const scoring = predictions.finished.then(() => {
      timing.predictMs = performance.now() - t1;
    });
    let run: BacktestRun;
    try {
      const t2 = performance.now();
      run = await runBacktest(symbols, settings, predictions.phases);
      timing.replayMs = performance.now() - t2 - run.waitedForScoresMs;
    } finally {
      // on any failure, still let the scoring settle before the thread is closed
      await scoring.catch(() => {});
    }
    await scoring;
    if (thread) timing.inferenceMs += thread.busyMs;
    timing.totalMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    timing.cpuMs = (cpu.user + cpu.system) / 1000;
    timing.peakRssMb = process.resourceUsage().maxRSS / 1024;
    const windowReport: BacktestResult["window"] = {
      from: isoOf(window.fromSec),
      to: isoOf(window.toSec),
      fromChosen: window.fromChosen,
      ...(seen ? { firstUnseen: isoOf(seen.seen.toSec) } : {}),
      ...(window.inSample ? { inSample: window.inSample } : {}),
    };
    const result = resultOf(options, model, symbols, settings, resolved, windowReport, run, hold, timing);
    if (options.checkSteps) {
      const steps = await runStepReplay({
        symbols,
        settings,
        model,
        restingStops: resolved.trading.restingStops,
        ports: (now) => memoryReplayPorts(settings, now),
      });
      result.stepCheck = checkAgainstSteps(run, steps);
    }
    return result;
  } finally {
    await thread?.close();
  }
}

function resultOf(
  options: BacktestOptions,
  model: SignalModel,
  symbols: BacktestSymbol[],
  settings: BacktestSettings,
  resolved: ResolvedSettings,
  window: BacktestResult["window"],
  run: BacktestRun,
  hold: BuyAndHold,
  timing: BacktestTiming,
): BacktestResult {
  const { startingCashUsd, fill, limits, intervalSeconds: interval } = settings;
  const { bridge, thresholds, exits, dailyLossResumesNextDay } = resolved.trading;
  const n = run.cycleTimes.length;
  const iso = isoOf;
  return {
    model: { name: model.name, version: model.version, sha256: model.sha256 },
    candlesDir: resolve(options.candlesDir),
    symbols: symbols.map((s) => s.productId),
    span: {
      firstCycle: n > 0 ? iso(run.cycleTimes[0]) : "",
      lastCycle: n > 0 ? iso(run.cycleTimes[n - 1]) : "",
      cycles: n,
    },
    settings: {
      startingCashUsd,
      fill,
      limits,
      bridge,
      thresholds,
      exits,
      dailyLossResumesNextDay,
      ...(options.killSwitchResumeAfterHours !== undefined
        ? { killSwitchResumeAfterHours: options.killSwitchResumeAfterHours }
        : {}),
      variables: resolved.variables,
      changed: changedSettings(resolved.variables),
    },
    window,
    notes: [
      ...(model.card
        ? []
        : [
            "The model has no card: nothing says which candles it was fitted on, so this window cannot be checked for IN-SAMPLE overlap, and it starts at the first scorable candle.",
          ]),
      LLM_VETO_NOTE,
      stopNote(resolved.trading.restingStops),
      ...killSwitchNotes(run, options.killSwitchResumeAfterHours),
    ],
    strategy: performanceOf(run.cycleTimes, run.equity, run.exposure, startingCashUsd, interval, run.trades),
    buyAndHold: performanceOf(
      run.cycleTimes,
      hold.equity,
      hold.exposure,
      startingCashUsd,
      interval,
      hold.trades,
    ),
    positions: positionStats(run),
    drawdownBound: {
      maxDrawdownLimit: limits.maxDrawdown,
      largestBarLossUsd: run.largestBarLossUsd,
      largestStopGapUsd: run.largestStopGapUsd,
    },
    counts: run.counts,
    ...(run.killSwitch ? { killSwitch: run.killSwitch } : {}),
    killSwitchTrips: run.killSwitchTrips,
    openPositions: run.openPositions,
    refusedOrders: run.refusedOrders,
    trades: run.trades,
    tradesSha256: tradesFingerprint(run.trades),
    timing,
    curves: { cycleTimes: run.cycleTimes, equity: run.equity, buyAndHold: hold.equity },
    market: symbols,
  };
}

function isoOf(s: number): string {
  return new Date(s * 1000).toISOString();
}

function killSwitchNotes(run: BacktestRun, resumeAfterHours: number | undefined): string[] {
  const trips = run.killSwitchTrips;
  if (trips.length === 0) return [];
  if (resumeAfterHours === undefined) {
    const kill = trips[0];
    return [
      `The kill switch tripped at ${kill.at} (${kill.reason}). As in live, it stays on until an operator resets it, so no order was placed after that (replay an operator with --resume-kill-switch-after <hours>).`,
    ];
  }
  return [
    `The kill switch tripped ${trips.length} time(s); an operator was replayed resuming it ${resumeAfterHours} h after each trip. First: ${trips[0].at} (${trips[0].reason}).`,
  ];
}
