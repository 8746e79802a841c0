/**
 * The walk-forward windows of a sweep: configurations are tuned on one window and scored on a later
 * one, purged: the score window starts at least the model's label horizon plus the longest time
 * limit after the tune window ends, so no label and no position of the tune window reaches into it.
 * The model card's validation period (2024H1 for the shipped model) is the out-of-sample report's:
 * a score window may not reach into it unless asked for knowingly.
 */
import type { ModelCard } from "#model/index.js";
import type { BacktestSymbol } from "./engine.js";
import { SweepError } from "./sweep-settings.js";

/** [fromSec, toSec): cycles for candle closes in it (Unix seconds). */
export interface Window {
  fromSec: number;
  toSec: number;
}

export interface SweepWindows {
  tune: Window;
  score: Window;
  /** the least gap between the tune window's end and the score window's start */
  purgeSec: number;
  /** how the purge was reckoned, for the output */
  purgeExplanation: string;
  /** the model card's periods: the score window stays before its validation start (unless allowed) */
  card: CardPeriods;
}

export interface WindowOptions {
  tuneFromSec?: number;
  tuneToSec?: number;
  scoreFromSec?: number;
  scoreToSec?: number;
  /** let the score window reach into the model card's validation period */
  allowValidationWindow?: boolean;
}

/** What the windows need of the model card. */
export interface CardPeriods {
  labelHorizonCandles: number;
  labelGranularitySeconds: number;
  validationFromSec: number;
  /** the data the shipped model was fitted on (finalFit), [from, to) */
  fittedFromSec: number;
  fittedToSec: number;
}

export function cardPeriodsOf(card: ModelCard): CardPeriods {
  return {
    labelHorizonCandles: card.label.horizonCandles,
    labelGranularitySeconds: card.label.granularitySeconds,
    validationFromSec: Date.parse(card.split.validation.from) / 1000,
    fittedFromSec: Date.parse(card.split.finalFit.from) / 1000,
    fittedToSec: Date.parse(card.split.finalFit.to) / 1000,
  };
}

export const DEFAULT_TUNE_FROM_SEC = Date.UTC(2022, 0, 1) / 1000;
export const DEFAULT_TUNE_TO_SEC = Date.UTC(2023, 6, 1) / 1000;

export const isoOf = (sec: number) => new Date(sec * 1000).toISOString().replace(":00.000Z", "Z");

function hours(sec: number): string {
  const h = sec / 3600;
  return `${Number.isInteger(h) ? h : h.toFixed(2)} h`;
}

/**
 * The tune and score windows from the options (defaults: tune 2022-01-01 → 2023-07-01, score from
 * the tune end plus the purge to the card's validation start). Throws a SweepError for a reversed
 * or empty window, a score window that starts inside the purge, or one that reaches into the
 * validation period without `allowValidationWindow`.
 */
export function walkForwardWindows(
  options: WindowOptions,
  card: CardPeriods,
  longestTimeLimitCandles: number,
  intervalSeconds: number,
): SweepWindows {
  const horizonSec = card.labelHorizonCandles * card.labelGranularitySeconds;
  const timeLimitSec = longestTimeLimitCandles * intervalSeconds;
  const purgeSec = horizonSec + timeLimitSec;
  const purgeExplanation = `${hours(purgeSec)} = the model's label horizon (${card.labelHorizonCandles} candles x ${hours(card.labelGranularitySeconds)}, models/signal-model.card.json label.horizonCandles) + the longest time limit of the grid (EXIT_TIME_LIMIT_CANDLES ${longestTimeLimitCandles} x ${hours(intervalSeconds)})`;
  const tune = {
    fromSec: options.tuneFromSec ?? DEFAULT_TUNE_FROM_SEC,
    toSec: options.tuneToSec ?? DEFAULT_TUNE_TO_SEC,
  };
  const score = {
    fromSec: options.scoreFromSec ?? tune.toSec + purgeSec,
    toSec: options.scoreToSec ?? card.validationFromSec,
  };
  checkOrdered("tune", tune, "--tune-from", "--tune-to");
  checkOrdered("score", score, "--score-from", "--score-to");
  if (score.fromSec < tune.toSec + purgeSec)
    throw new SweepError(
      `the score window must start at least ${purgeSec / 3600} h after the tune window ends (purge: ${purgeExplanation}), so that no label or position of the tune window reaches into it; --score-from ${isoOf(score.fromSec)} is ${hours(score.fromSec - tune.toSec)} after --tune-to ${isoOf(tune.toSec)}: use --score-from ${isoOf(tune.toSec + purgeSec)} or later`,
    );
  if (score.toSec > card.validationFromSec && !options.allowValidationWindow)
    throw new SweepError(
      `the score window ends ${isoOf(score.toSec)}, inside the model card's validation period (from ${isoOf(card.validationFromSec)}): that period is kept for the out-of-sample report, and choosing settings by it would leave no honest test; end the score window by ${isoOf(card.validationFromSec)} (--score-to), or pass --allow-validation-window knowing the result is no longer out of sample`,
    );
  return { tune, score, purgeSec, purgeExplanation, card };
}

function checkOrdered(name: string, window: Window, fromFlag: string, toFlag: string): void {
  if (!(Number.isFinite(window.fromSec) && Number.isFinite(window.toSec)))
    throw new SweepError(`the ${name} window needs ${fromFlag} and ${toFlag} as ISO dates`);
  if (window.fromSec >= window.toSec)
    throw new SweepError(
      `the ${name} window ${isoOf(window.fromSec)} → ${isoOf(window.toSec)} is ${window.fromSec > window.toSec ? "reversed" : "empty"}: ${fromFlag} must come before ${toFlag}`,
    );
}

/**
 * Refuses a window in which no symbol has a candle closing (beyond the data, or between two
 * files' spans): its table would be all zeros.
 */
export function checkWindowHasCandles(
  name: string,
  window: Window,
  symbols: readonly BacktestSymbol[],
  intervalSeconds: number,
): void {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const s of symbols) {
    if (s.length === 0) continue;
    first = Math.min(first, s.start[0] + intervalSeconds);
    last = Math.max(last, s.start[s.length - 1] + intervalSeconds);
    // a candle closing in [from, to) (its cycle runs a minute later)
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s.start[mid] + intervalSeconds < window.fromSec) lo = mid + 1;
      else hi = mid;
    }
    if (lo < s.length && s.start[lo] + intervalSeconds < window.toSec) return;
  }
  const span =
    first <= last ? `the candles close from ${isoOf(first)} to ${isoOf(last)}` : "there are no candles";
  throw new SweepError(
    `the ${name} window ${isoOf(window.fromSec)} → ${isoOf(window.toSec)} holds no candle close: ${span}; choose a window inside that span`,
  );
}

/**
 * What the windows are to the model: the tune and score windows lie in the data the shipped model
 * was fitted on (they must, to keep its validation period for the out-of-sample report), so the
 * model's edge there is in-sample; the sweep picks exit, threshold and risk settings, not the model.
 */
export function windowNotes(windows: SweepWindows): string[] {
  const { card } = windows;
  const overlaps = (w: Window) => w.fromSec < card.fittedToSec && w.toSec > card.fittedFromSec;
  const fitted = `${isoOf(card.fittedFromSec)} → ${isoOf(card.fittedToSec)}`;
  const notes: string[] = [];
  const inSample = (["tune", "score"] as const).filter((name) => overlaps(windows[name]));
  if (inSample.length > 0)
    notes.push(
      `IN-SAMPLE for the model: the ${inSample.join(" and ")} window${inSample.length > 1 ? "s overlap" : " overlaps"} the data the model was fitted on (model card split.finalFit ${fitted}), so its signals there are better than they will be live; the sweep compares exit, threshold and risk settings on the same signals, and only the validation period (from ${isoOf(card.validationFromSec)}) says how the chosen settings do out of sample.`,
    );
  if (windows.score.toSec > card.validationFromSec)
    notes.push(
      `The score window reaches into the model card's validation period (from ${isoOf(card.validationFromSec)}; --allow-validation-window): settings chosen by it are no longer tested out of sample there.`,
    );
  return notes;
}
