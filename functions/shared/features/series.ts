/** Column-oriented OHLCV: one typed array per field so the feature engine can stream them without allocating. */
export interface OhlcvSeries {
  start: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  length: number;
}

/** A series of n candles, every field zero: for a caller that fills the columns itself. */
export function emptySeries(n: number): OhlcvSeries {
  return {
    start: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    length: n,
  };
}

export interface OhlcvCandleLike {
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Copies candles (oldest first, consecutive, no gaps) into an OhlcvSeries. */
export function seriesFromCandles(candles: readonly OhlcvCandleLike[]): OhlcvSeries {
  const n = candles.length;
  const series = emptySeries(n);
  for (let i = 0; i < n; i++) {
    const c = candles[i];
    if (i > 0 && !(c.start > candles[i - 1].start)) {
      throw new Error(
        `seriesFromCandles: candles must be sorted by start ascending without duplicates; candle ${i} starts at ${c.start}, after ${candles[i - 1].start}. Sort and de-duplicate the candles first.`,
      );
    }
    series.start[i] = c.start;
    series.open[i] = c.open;
    series.high[i] = c.high;
    series.low[i] = c.low;
    series.close[i] = c.close;
    series.volume[i] = c.volume;
  }
  return series;
}

/** Returns a view of candles [from, to) of a series without copying. */
export function sliceSeries(series: OhlcvSeries, from: number, to: number = series.length): OhlcvSeries {
  return {
    start: series.start.subarray(from, to),
    open: series.open.subarray(from, to),
    high: series.high.subarray(from, to),
    low: series.low.subarray(from, to),
    close: series.close.subarray(from, to),
    volume: series.volume.subarray(from, to),
    length: to - from,
  };
}

export function assertSeriesShape(series: OhlcvSeries): void {
  const n = series.length;
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`OhlcvSeries.length must be a non-negative integer, got ${n}`);
  }
  for (const field of ["start", "open", "high", "low", "close", "volume"] as const) {
    if (series[field].length < n) {
      throw new Error(
        `OhlcvSeries.${field} holds ${series[field].length} values but length is ${n}; every column needs at least length values.`,
      );
    }
  }
}
