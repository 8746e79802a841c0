/**
 * Kernels shared by the indicators. emaInto works on whole arrays: it writes dst[0, n) and leaves NaN
 * where the window is not yet full; `from` is the first index at which src is defined. rollingSumChunk
 * and rangeScansInto work on rows [from, to) of a series the engine computes chunk by chunk.
 */

/** EMA with alpha 2/(period+1), seeded with the SMA of its first `period` inputs (TA-Lib convention). */
export function emaInto(src: Float64Array, from: number, period: number, n: number, dst: Float64Array): void {
  const alpha = 2 / (period + 1);
  smoothInto(src, from, period, n, dst, alpha);
}

function smoothInto(
  src: Float64Array,
  from: number,
  period: number,
  n: number,
  dst: Float64Array,
  alpha: number,
): void {
  const seedEnd = from + period - 1;
  dst.fill(Number.NaN, 0, Math.min(n, seedEnd));
  if (seedEnd >= n) return;
  let sum = 0;
  for (let i = from; i <= seedEnd; i++) sum += src[i];
  let prev = sum / period;
  dst[seedEnd] = prev;
  const keep = 1 - alpha;
  for (let i = seedEnd + 1; i < n; i++) {
    prev = src[i] * alpha + prev * keep;
    dst[i] = prev;
  }
}

/** [sum, compensation, non-zero inputs] of the first full window after startWindowSum. */
const windowSum = new Float64Array(3);

/** Sums src[from, from + window) into windowSum (the fill phase of rollingSumChunk). */
function startWindowSum(src: Float64Array, from: number, window: number): void {
  const firstFull = from + window - 1;
  let s = 0;
  let c = 0;
  let nonZero = 0;
  for (let i = from; i <= firstFull; i++) {
    // Knuth's branch-free TwoSum: the rounding error of each add goes into c.
    const x = src[i];
    nonZero += Number(x !== 0);
    const t = s + x;
    const z = t - s;
    c += s - (t - z) + (x - z);
    s = t;
  }
  if (nonZero === 0) {
    s = 0;
    c = 0;
  }
  windowSum[0] = s;
  windowSum[1] = c;
  windowSum[2] = nonZero;
}

/**
 * Block scans of a sliding maximum of `high` and minimum of `low` over the same window, fused into one pass
 * per direction, for the blocks of rows [from, to) (from a multiple of window; blocks start at multiples of it). The extreme of window [i - window + 1, i] is then
 * Math.max(highSuffix[i - window + 1], highPrefix[i]) (Math.min with the low scans), exactly what
 * rollingMaxInto / rollingMinInto store.
 */
export function rangeScansInto(
  high: Float64Array,
  low: Float64Array,
  window: number,
  from: number,
  to: number,
  highPrefix: Float64Array,
  highSuffix: Float64Array,
  lowPrefix: Float64Array,
  lowSuffix: Float64Array,
): void {
  for (let blockStart = from; blockStart < to; blockStart += window) {
    const blockEnd = Math.min(blockStart + window, to) - 1;
    let top = high[blockStart];
    let bottom = low[blockStart];
    highPrefix[blockStart] = top;
    lowPrefix[blockStart] = bottom;
    for (let i = blockStart + 1; i <= blockEnd; i++) {
      const h = high[i];
      const l = low[i];
      if (h > top) top = h;
      if (l < bottom) bottom = l;
      highPrefix[i] = top;
      lowPrefix[i] = bottom;
    }
    top = high[blockEnd];
    bottom = low[blockEnd];
    highSuffix[blockEnd] = top;
    lowSuffix[blockEnd] = bottom;
    for (let i = blockEnd - 1; i >= blockStart; i--) {
      const h = high[i];
      const l = low[i];
      if (h > top) top = h;
      if (l < bottom) bottom = l;
      highSuffix[i] = top;
      lowSuffix[i] = bottom;
    }
  }
}

/**
 * Sliding-window sum with compensated (TwoSum) summation, so the value at a row depends on the window only
 * (to ~1 ulp), not on how much history came before it: that is what makes live == training. A window whose
 * inputs are all zero sums to exactly 0. The one implementation of it; every window sum of the indicators
 * goes through here, so they all equal the one-loop sum the model was trained on, bit for bit
 * (test/features/rolling-sum.test.ts).
 *
 * Rows [from, to) of a series processed chunk by chunk: dst[i - from] = the window sum at row i (for rows
 * with a full window). state[slot..slot + 2] carries [sum, compensation, non-zero inputs] between
 * consecutive calls; the call with from = 0 starts it (its chunk must reach the first full window unless
 * it is the whole series).
 */
export function rollingSumChunk(
  src: Float64Array,
  first: number,
  window: number,
  from: number,
  to: number,
  dst: Float64Array,
  state: Float64Array,
  slot: number,
): void {
  const firstFull = first + window - 1;
  let start = from;
  if (from === 0) {
    if (firstFull >= to) return;
    startWindowSum(src, first, window);
    state[slot] = windowSum[0];
    state[slot + 1] = windowSum[1];
    state[slot + 2] = windowSum[2];
    dst[firstFull] = windowSum[0] + windowSum[1];
    start = firstFull + 1;
  }
  let s = state[slot];
  let c = state[slot + 1];
  let nonZero = state[slot + 2];
  for (let i = start; i < to; i++) {
    const x = src[i];
    const y = -src[i - window];
    nonZero += Number(x !== 0) - Number(y !== 0);
    let t = s + x;
    let z = t - s;
    c += s - (t - z) + (x - z);
    s = t;
    t = s + y;
    z = t - s;
    c += s - (t - z) + (y - z);
    s = t;
    if (nonZero === 0) {
      s = 0;
      c = 0;
    }
    dst[i - from] = s + c;
  }
  state[slot] = s;
  state[slot + 1] = c;
  state[slot + 2] = nonZero;
}
