import { Candle, type Granularity } from "#domain/schemas.js";
import type { CandleStore } from "#store/ports.js";
import { SortedKeys } from "./plumbing.js";

interface Series {
  starts: SortedKeys<number>;
  byStart: Map<number, Candle>;
}

/**
 * Candles per series (symbol and granularity), sorted by start as the candles table's partition is.
 * No TTL: a backtest keeps every candle it wrote. A stored candle is frozen, so reads hand out the
 * stored objects themselves: the signal step reads 500 candles per symbol per cycle, and copying
 * them was the step replay's largest cost.
 */
export class MemoryCandleStore implements CandleStore {
  private readonly series = new Map<string, Series>();

  async putCandles(candles: readonly Candle[]): Promise<{ written: number }> {
    // validated up front, so a bad candle is refused before any of the batch is written
    const valid = candles.map((c) => Object.freeze(parseCandle(c)));
    for (const c of valid) {
      const s = this.seriesOf(c.symbol, c.granularity, true);
      s.byStart.set(c.start, c);
      s.starts.add(c.start);
    }
    return { written: valid.length };
  }

  async latestCandles(symbol: string, granularity: Granularity, limit: number): Promise<Candle[]> {
    const s = this.seriesOf(symbol, granularity, false);
    if (!s) return [];
    return s.starts
      .last(limit)
      .reverse()
      .map((start) => s.byStart.get(start)!);
  }

  async latestCandleStart(symbol: string, granularity: Granularity): Promise<number | undefined> {
    return this.seriesOf(symbol, granularity, false)?.starts.last(1)[0];
  }

  async candlesBetween(
    symbol: string,
    granularity: Granularity,
    fromStart: number,
    toStart: number,
  ): Promise<Candle[]> {
    const s = this.seriesOf(symbol, granularity, false);
    if (!s) return [];
    return s.starts.between(fromStart, toStart).map((start) => s.byStart.get(start)!);
  }

  private seriesOf(symbol: string, granularity: Granularity, create: true): Series;
  private seriesOf(symbol: string, granularity: Granularity, create: false): Series | undefined;
  private seriesOf(symbol: string, granularity: Granularity, create: boolean): Series | undefined {
    const key = `${symbol}#${granularity}`;
    let s = this.series.get(key);
    if (!s && create) {
      s = { starts: new SortedKeys<number>(), byStart: new Map() };
      this.series.set(key, s);
    }
    return s;
  }
}

function parseCandle(candle: Candle): Candle {
  const parsed = Candle.safeParse(candle);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  throw new Error(
    `candle ${String(candle?.symbol)}#${String(candle?.granularity)} start=${String(candle?.start)} is invalid (${problems}); fix the candle before writing it`,
  );
}
