/** Class order of the model's probability output, fixed by training: index 0 DOWN, 1 HOLD, 2 UP. */
export const CLASS_NAMES = ["DOWN", "HOLD", "UP"] as const;
export type ClassName = (typeof CLASS_NAMES)[number];
export const CLASS_DOWN = 0;
export const CLASS_HOLD = 1;
export const CLASS_UP = 2;
/** A row whose forward candle is not in the data (end of data or a gap) carries no label. */
export const UNLABELLED = -1;

/**
 * What the model predicts: the simple close-to-close return from candle t to candle t + horizon.
 * UP when it beats `upReturn`, DOWN when it falls below `downReturn` (a negative number), else HOLD.
 * Both bounds are strict so a move exactly equal to the round-trip cost counts as HOLD.
 */
export interface LabelDefinition {
  horizonCandles: number;
  granularitySeconds: number;
  upReturn: number;
  downReturn: number;
}

export function classifyForwardReturn(forwardReturn: number, label: LabelDefinition): number {
  if (forwardReturn > label.upReturn) return CLASS_UP;
  if (forwardReturn < label.downReturn) return CLASS_DOWN;
  return CLASS_HOLD;
}

/**
 * Labels every candle of one series. The forward candle is found by timestamp
 * (start + horizon * granularity), never by index, so a gap in the data leaves the row unlabelled
 * instead of silently stretching the horizon.
 */
export function labelSeries(
  start: Float64Array,
  close: Float64Array,
  length: number,
  label: LabelDefinition,
): Int8Array {
  const labels = new Int8Array(length).fill(UNLABELLED);
  const step = label.horizonCandles * label.granularitySeconds;
  let j = 0;
  for (let i = 0; i < length; i++) {
    const target = start[i] + step;
    if (j < i) j = i;
    while (j < length && start[j] < target) j++;
    if (j >= length) break;
    if (start[j] !== target) continue;
    labels[i] = classifyForwardReturn(close[j] / close[i] - 1, label);
  }
  return labels;
}
