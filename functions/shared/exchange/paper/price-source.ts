/** Where the paper exchange gets a price to fill at. */
import { GRANULARITY_SECONDS, type Granularity } from "#domain/schemas.js";
import type { CandleStore } from "#store/ports.js";

export interface PriceQuote {
  bid: number;
  ask: number;
  last: number;
  /** base volume of the candle the quote comes from, for market impact */
  candleVolumeBase?: number;
  /** ISO-8601: when this price was current (a candle's close time) */
  time: string;
  /**
   * The range of the candle the quote comes from, when there is one: resting stops trigger on it
   * (a SELL stop when `low` reaches it) and fill at `open` after a gap. Without it they look at
   * `last` alone.
   */
  open?: number;
  high?: number;
  low?: number;
}

export interface PriceSource {
  quote(productId: string): Promise<PriceQuote>;
}

/**
 * Quotes from the newest stored candle: last = close, bid/ask = close -/+ half of `spreadBps`,
 * open/high/low from the candle. `time` is the candle's close time, so a caller can tell how stale
 * the price is.
 */
export function candlePriceSource(
  candles: Pick<CandleStore, "latestCandles">,
  granularity: Granularity,
  spreadBps: number,
): PriceSource {
  if (!Number.isFinite(spreadBps) || spreadBps < 0 || spreadBps >= 10_000)
    throw new RangeError(`spreadBps must be in [0, 10000), got ${spreadBps}`);
  const half = spreadBps / 2 / 10_000;
  return {
    async quote(productId) {
      const [candle] = await candles.latestCandles(productId, granularity, 1);
      if (!candle)
        throw new Error(
          `no ${granularity} candle stored for ${productId}, so the paper exchange has no price to fill at; ` +
            "run the market-data ingest for this product first",
        );
      return {
        bid: candle.close * (1 - half),
        ask: candle.close * (1 + half),
        last: candle.close,
        candleVolumeBase: candle.volume,
        open: candle.open,
        high: candle.high,
        low: candle.low,
        time: new Date((candle.start + GRANULARITY_SECONDS[granularity]) * 1000).toISOString(),
      };
    },
  };
}
