import { featureIndex } from "./names.js";
import { rangeScansInto } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import type { Workspace } from "./workspace.js";

const LEVEL_WINDOWS = [24, 168] as const;
const HIGH_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_high_${w}` as "dist_high_24"));
const LOW_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_low_${w}` as "dist_low_24"));

/** Relative distance of close to the highest high (resistance, <= 0) and lowest low (support, >= 0) of the window. */
export function computeSupportResistance(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const close = s.close;
  const [highPrefix, highSuffix, lowPrefix, lowSuffix] = ws.tmp;
  for (let k = 0; k < LEVEL_WINDOWS.length; k++) {
    const w = LEVEL_WINDOWS[k];
    const highCol = HIGH_COLUMNS[k] * n;
    const lowCol = LOW_COLUMNS[k] * n;
    rangeScansInto(s.high, s.low, w, n, highPrefix, highSuffix, lowPrefix, lowSuffix);
    for (let i = w - 1, first = 0; i < n; i++, first++) {
      const c = close[i];
      const highest = Math.max(highSuffix[first], highPrefix[i]);
      const lowest = Math.min(lowSuffix[first], lowPrefix[i]);
      m[highCol + i] = (c - highest) / highest;
      m[lowCol + i] = (c - lowest) / lowest;
    }
  }
}
