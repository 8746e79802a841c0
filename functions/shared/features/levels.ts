import { featureIndex } from "./names.js";
import { rangeScansInto } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import { CHUNK_ROWS, HISTORY, type Workspace } from "./workspace.js";

const LEVEL_WINDOWS = [24, 168] as const;
const HIGH_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_high_${w}` as "dist_high_24"));
const LOW_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_low_${w}` as "dist_low_24"));
const SCANS = [
  [HISTORY.highPrefix24, HISTORY.highSuffix24, HISTORY.lowPrefix24, HISTORY.lowSuffix24],
  [HISTORY.highPrefix168, HISTORY.highSuffix168, HISTORY.lowPrefix168, HISTORY.lowSuffix168],
] as const;

/** Relative distance of close to the highest high (resistance, <= 0) and lowest low (support, >= 0) of the window. */
export function computeSupportResistance(s: OhlcvSeries, ws: Workspace): void {
  const { from, to, chunk: m } = ws;
  const close = s.close;
  for (let k = 0; k < LEVEL_WINDOWS.length; k++) {
    const w = LEVEL_WINDOWS[k];
    const highCol = HIGH_COLUMNS[k] * CHUNK_ROWS - from;
    const lowCol = LOW_COLUMNS[k] * CHUNK_ROWS - from;
    const highPrefix = ws.history[SCANS[k][0]];
    const highSuffix = ws.history[SCANS[k][1]];
    const lowPrefix = ws.history[SCANS[k][2]];
    const lowSuffix = ws.history[SCANS[k][3]];
    // Chunks start on a block boundary (CHUNK_ROWS is a multiple of both windows).
    rangeScansInto(s.high, s.low, w, from, to, highPrefix, highSuffix, lowPrefix, lowSuffix);
    for (let i = Math.max(from, w - 1); i < to; i++) {
      const first = i - w + 1;
      const c = close[i];
      const highest = Math.max(highSuffix[first], highPrefix[i]);
      const lowest = Math.min(lowSuffix[first], lowPrefix[i]);
      m[highCol + i] = (c - highest) / highest;
      m[lowCol + i] = (c - lowest) / lowest;
    }
  }
}
