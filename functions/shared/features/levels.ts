import { featureIndex } from "./names.js";
import { rollingMaxInto, rollingMinInto } from "./rolling.js";
import type { OhlcvSeries } from "./series.js";
import type { Workspace } from "./workspace.js";

const LEVEL_WINDOWS = [24, 168] as const;
const HIGH_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_high_${w}` as "dist_high_24"));
const LOW_COLUMNS = LEVEL_WINDOWS.map((w) => featureIndex(`dist_low_${w}` as "dist_low_24"));

/** Relative distance of close to the highest high (resistance, <= 0) and lowest low (support, >= 0) of the window. */
export function computeSupportResistance(s: OhlcvSeries, m: Float64Array, ws: Workspace): void {
  const n = s.length;
  const close = s.close;
  const [highest, lowest, scratch] = ws.tmp;
  for (let k = 0; k < LEVEL_WINDOWS.length; k++) {
    const w = LEVEL_WINDOWS[k];
    const highCol = HIGH_COLUMNS[k];
    const lowCol = LOW_COLUMNS[k];
    rollingMaxInto(s.high, w, n, highest, scratch);
    rollingMinInto(s.low, w, n, lowest, scratch);
    for (let i = w - 1; i < n; i++) {
      const c = close[i];
      m[highCol * n + i] = (c - highest[i]) / highest[i];
      m[lowCol * n + i] = (c - lowest[i]) / lowest[i];
    }
  }
}
