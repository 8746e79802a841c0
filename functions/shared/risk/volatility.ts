/**
 * 14-day volatility: the sample standard deviation of the log returns of the last 14 days of
 * closes, scaled to one day (× √(periods per day)). Closes are assumed evenly spaced at
 * `intervalSeconds`, oldest first; a gap in the candles shortens the real window silently, so the
 * caller passes contiguous candles.
 */
import { RiskInputError } from "./errors.js";

const SECONDS_PER_DAY = 86_400;
export const VOLATILITY_WINDOW_DAYS = 14;

/** Number of returns in 14 days of data at this interval (336 for hourly, 14 for daily). */
export function volatilityReturnCount(intervalSeconds: number): number {
  if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
    throw new RiskInputError(
      "closeIntervalSeconds",
      intervalSeconds,
      "expected a positive number of seconds",
    );
  }
  const returns = Math.round((VOLATILITY_WINDOW_DAYS * SECONDS_PER_DAY) / intervalSeconds);
  if (returns < 2) {
    throw new RiskInputError(
      "closeIntervalSeconds",
      intervalSeconds,
      "14 days at this interval give fewer than 2 returns; use candles of 7 days or shorter",
    );
  }
  return returns;
}

/** Closes needed for {@link volatility14d}: one more than the number of returns. */
export function closesNeededForVolatility(intervalSeconds: number): number {
  return volatilityReturnCount(intervalSeconds) + 1;
}

/**
 * Daily-equivalent volatility from the last 14 days of closes, or NaN when the closes are too
 * few or a close in the window is not a positive finite number. Allocation-free.
 */
export function dailyVolatilityOrNaN(closes: ArrayLike<number>, intervalSeconds: number): number {
  const returns = volatilityReturnCount(intervalSeconds);
  const first = closes.length - returns - 1;
  if (first < 0) return Number.NaN;
  let sum = 0;
  let sumSquares = 0;
  let previous = closes[first];
  if (!(previous > 0 && previous < Number.POSITIVE_INFINITY)) return Number.NaN;
  // Shifted sums are numerically safe here: log returns are small and centred near zero.
  for (let i = first + 1; i < closes.length; i++) {
    const close = closes[i];
    if (!(close > 0 && close < Number.POSITIVE_INFINITY)) return Number.NaN;
    const r = Math.log(close / previous);
    sum += r;
    sumSquares += r * r;
    previous = close;
  }
  const mean = sum / returns;
  const variance = Math.max(0, (sumSquares - returns * mean * mean) / (returns - 1));
  return Math.sqrt(variance * (SECONDS_PER_DAY / intervalSeconds));
}

/**
 * Daily-equivalent standard deviation of log returns over the last 14 days of closes.
 * Throws a RiskInputError when there are fewer than 14 days of closes or a close is not positive:
 * there is no guess for missing history.
 */
export function volatility14d(closes: ArrayLike<number>, intervalSeconds: number): number {
  const vol = dailyVolatilityOrNaN(closes, intervalSeconds);
  if (Number.isNaN(vol)) {
    const needed = closesNeededForVolatility(intervalSeconds);
    throw new RiskInputError(
      "recentCloses",
      `${closes.length} closes`,
      closes.length < needed
        ? `need at least ${needed} closes (14 days at ${intervalSeconds}s) to measure volatility; load more history`
        : "a close in the last 14 days is not a positive finite number; fix the candle data",
    );
  }
  return vol;
}
