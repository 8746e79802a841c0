/** Missing candles: buckets without trades (exchange outages, maintenance) are absent, never filled. */

export interface CandleGap {
  /** open time of the first missing bucket, Unix seconds */
  from: number;
  /** open time of the next present bucket (exclusive end of the gap), Unix seconds */
  to: number;
  /** number of missing buckets */
  missing: number;
}

/** Gaps between consecutive ascending bucket starts that are more than one interval apart. */
export function detectGaps(
  candles: ArrayLike<number> | readonly { start: number }[],
  granularitySeconds: number,
): CandleGap[] {
  const gaps: CandleGap[] = [];
  const n = candles.length;
  const at = (i: number): number => {
    const item = candles[i] as number | { start: number };
    return typeof item === "number" ? item : item.start;
  };
  for (let i = 1; i < n; i++) {
    const previous = at(i - 1);
    const current = at(i);
    const delta = current - previous;
    if (delta > granularitySeconds) {
      gaps.push({
        from: previous + granularitySeconds,
        to: current,
        missing: Math.round(delta / granularitySeconds) - 1,
      });
    }
  }
  return gaps;
}
