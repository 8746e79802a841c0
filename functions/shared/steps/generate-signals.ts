/**
 * One signal-generation cycle: for every symbol, the features of its last CLOSED candle, one batched
 * inference for all symbols, and a BUY/SELL/HOLD signal per symbol. No fallback: a symbol without a
 * full serving window is skipped with its reason; a symbol whose candles cannot be read or scored
 * (a stored candle that fails the schema, non-finite features, a failed write) is reported as
 * failed and the other symbols go on; a model failure fails the whole cycle.
 */

import { z } from "zod";
import {
  Candle,
  type DataSource,
  GRANULARITY_SECONDS,
  type Granularity,
  isValidCandleNumbers,
  type Signal,
} from "#domain/schemas.js";
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  featureIndex,
  KEY_FEATURES,
  latestFeatures,
  regimeFromFeatures,
  SERVING_WINDOW,
  seriesFromCandles,
} from "#features/index.js";
import { type DecisionThresholds, decideSignal, type SignalModel } from "#model/index.js";
import type { Log } from "#runtime/log.js";
import type { CandleStore, SignalStore } from "#store/ports.js";

export interface SignalSettings {
  symbols: readonly string[];
  granularity: Granularity;
  thresholds: DecisionThresholds;
  ttlDays: number;
  dataSource: DataSource;
}

export interface SignalDeps {
  candles: Pick<CandleStore, "latestCandles">;
  signals: Pick<SignalStore, "putSignal">;
  model: SignalModel;
  log: Log;
}

export interface SkippedSymbol {
  symbol: string;
  reason: string;
}

export interface FailedSymbol {
  symbol: string;
  /** what went wrong, with the error's own message */
  reason: string;
}

export interface SignalCycleReport {
  signals: Signal[];
  /** signals written by this cycle (a repeat of the same candle writes nothing) */
  written: number;
  /** ids of the signals this cycle wrote, in order */
  writtenIds: string[];
  /** symbols without enough fresh closed candles (not an error: market-data has not caught up) */
  skipped: SkippedSymbol[];
  /** symbols that hit an error (bad stored data, a failed read or write); the others went on */
  failed: FailedSymbol[];
  inferenceMs: number;
}

/** Same symbol, candle and model version → same id, so a re-run of a cycle writes nothing new. */
export function signalIdFor(
  symbol: string,
  granularity: Granularity,
  candleStart: number,
  modelVersion: string,
): string {
  return `${symbol}_${granularity}_${candleStart}_${modelVersion}`.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** Candles whose bucket has closed at `now`; the newest bucket is still moving. */
export function closedCandles(candles: readonly Candle[], granularity: Granularity, now: Date): Candle[] {
  const nowSec = Math.floor(now.getTime() / 1000);
  const interval = GRANULARITY_SECONDS[granularity];
  return candles.filter((c) => c.start + interval <= nowSec);
}

export interface ScoredRow {
  symbol: string;
  features: Float64Array;
  last: Candle;
}

/** Builds the rows to score, or the reason a symbol cannot be scored. */
export function prepareRow(
  symbol: string,
  candles: readonly Candle[],
  granularity: Granularity,
  now: Date,
): ScoredRow | SkippedSymbol {
  const closed = closedCandles(candles, granularity, now);
  if (closed.length < SERVING_WINDOW) {
    return {
      symbol,
      reason: `only ${closed.length} closed ${granularity} candles stored; ${SERVING_WINDOW} are needed for features equal to training (run market-data first)`,
    };
  }
  const window = closed.slice(-SERVING_WINDOW);
  const last = window[window.length - 1];
  const interval = GRANULARITY_SECONDS[granularity];
  const age = Math.floor(now.getTime() / 1000) - (last.start + interval);
  if (age > 2 * interval) {
    return {
      symbol,
      reason: `newest closed candle (${new Date(last.start * 1000).toISOString()}) is ${Math.round(age / 60)} minutes old; market-data is behind`,
    };
  }
  for (const c of window) {
    if (!isValidCandleNumbers(c.start, c.open, c.high, c.low, c.close, c.volume)) {
      const parsed = Candle.safeParse(c);
      const why = parsed.success ? "it breaks the candle rules" : messageOf(parsed.error);
      throw new Error(
        `stored candle of ${new Date(c.start * 1000).toISOString()} (start=${c.start}) is not a valid candle: ${why}`,
      );
    }
  }
  const features = latestFeatures(seriesFromCandles(window));
  const notFinite = features.findIndex((x) => !Number.isFinite(x));
  if (notFinite >= 0) {
    throw new Error(
      `feature ${FEATURE_NAMES[notFinite]} is ${features[notFinite]} at the candle of ${new Date(last.start * 1000).toISOString()}: the stored candles hold a value the features cannot use`,
    );
  }
  return { symbol, features, last };
}

function messageOf(error: unknown): string {
  if (error instanceof z.ZodError) {
    return error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
      .join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}

export async function generateSignals(
  deps: SignalDeps,
  settings: SignalSettings,
  now: Date,
): Promise<SignalCycleReport> {
  const skipped: SkippedSymbol[] = [];
  const failed: FailedSymbol[] = [];
  const fail = (symbol: string, what: string, error: unknown) => {
    const reason = `${what}: ${messageOf(error)}`;
    failed.push({ symbol, reason });
    deps.log.error("symbol failed", { symbol, reason });
  };
  const rows: ScoredRow[] = [];
  // one symbol's bad data or failed read must not stop the others: each read settles on its own
  const fetched = await Promise.allSettled(
    settings.symbols.map((symbol) =>
      deps.candles.latestCandles(symbol, settings.granularity, SERVING_WINDOW + 2),
    ),
  );
  settings.symbols.forEach((symbol, i) => {
    const read = fetched[i];
    if (read.status === "rejected") {
      fail(symbol, "its stored candles could not be read", read.reason);
      return;
    }
    let row: ScoredRow | SkippedSymbol;
    try {
      row = prepareRow(symbol, read.value, settings.granularity, now);
    } catch (error) {
      fail(symbol, "its features could not be computed", error);
      return;
    }
    if ("reason" in row) {
      skipped.push(row);
      deps.log.warn("symbol skipped", { symbol, reason: row.reason });
    } else rows.push(row);
  });

  const report: SignalCycleReport = {
    signals: [],
    written: 0,
    writtenIds: [],
    skipped,
    failed,
    inferenceMs: 0,
  };
  if (rows.length === 0) return report;

  const input = new Float32Array(rows.length * FEATURE_COUNT);
  for (const [i, r] of rows.entries()) input.set(r.features, i * FEATURE_COUNT);
  const t0 = performance.now();
  const probabilities = await deps.model.predict(input, rows.length);
  report.inferenceMs = performance.now() - t0;

  const createdAt = now.toISOString();
  const expiresAt = Math.floor(now.getTime() / 1000) + Math.round(settings.ttlDays * 86_400);
  for (const [i, row] of rows.entries()) {
    const p = { down: probabilities[i * 3], hold: probabilities[i * 3 + 1], up: probabilities[i * 3 + 2] };
    const decision = decideSignal(p, settings.thresholds);
    const keyFeatures: Record<string, number> = {};
    for (const name of KEY_FEATURES) keyFeatures[name] = row.features[featureIndex(name)];
    const signal: Signal = {
      signalId: signalIdFor(row.symbol, settings.granularity, row.last.start, deps.model.version),
      symbol: row.symbol,
      granularity: settings.granularity,
      candleStart: row.last.start,
      price: row.last.close,
      signalType: decision.signalType,
      model: deps.model.name,
      modelVersion: deps.model.version,
      confidence: decision.confidence,
      threshold: decision.threshold,
      probabilities: p,
      regime: regimeFromFeatures(row.features),
      featuresUsed: FEATURE_COUNT,
      keyFeatures,
      dataSource: settings.dataSource,
      processed: false,
      createdAt,
      expiresAt,
    };
    try {
      if (await deps.signals.putSignal(signal)) {
        report.written++;
        report.writtenIds.push(signal.signalId);
      }
      report.signals.push(signal);
    } catch (error) {
      fail(row.symbol, "its signal could not be stored", error);
    }
  }
  return report;
}

/** What a run answers its invoker: the signals (symbol, type, confidence), what was skipped or failed. */
export function signalCycleSummary(report: SignalCycleReport) {
  return {
    written: report.written,
    signals: report.signals.map((s) => ({ symbol: s.symbol, type: s.signalType, confidence: s.confidence })),
    skipped: report.skipped,
    failed: report.failed,
  };
}
