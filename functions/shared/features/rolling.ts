/**
 * Whole-array kernels shared by the indicators. Each writes dst[0, n) and leaves NaN where the
 * window is not yet full. `from` is the first index at which src is defined.
 */

/** EMA with alpha 2/(period+1), seeded with the SMA of its first `period` inputs (TA-Lib convention). */
export function emaInto(src: Float64Array, from: number, period: number, n: number, dst: Float64Array): void {
  const alpha = 2 / (period + 1);
  smoothInto(src, from, period, n, dst, alpha);
}

/** Wilder's smoothing (RMA, alpha 1/period), seeded with the SMA of its first `period` inputs. */
export function wilderInto(
  src: Float64Array,
  from: number,
  period: number,
  n: number,
  dst: Float64Array,
): void {
  const seedEnd = from + period - 1;
  dst.fill(Number.NaN, 0, Math.min(n, seedEnd));
  if (seedEnd >= n) return;
  let sum = 0;
  for (let i = from; i <= seedEnd; i++) sum += src[i];
  let prev = sum / period;
  dst[seedEnd] = prev;
  const factor = 1 / period;
  for (let i = seedEnd + 1; i < n; i++) {
    prev = (src[i] - prev) * factor + prev;
    dst[i] = prev;
  }
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

/**
 * Sliding-window sum with compensated (TwoSum) summation, so the value at a row depends on the window only
 * (to ~1 ulp), not on how much history came before it: that is what makes live == training.
 * A window whose inputs are all zero sums to exactly 0.
 */
export function rollingSumInto(
  src: Float64Array,
  from: number,
  window: number,
  n: number,
  dst: Float64Array,
): void {
  const firstFull = from + window - 1;
  dst.fill(Number.NaN, 0, Math.min(n, firstFull));
  if (firstFull >= n) return;
  startWindowSum(src, from, window);
  let s = windowSum[0];
  let c = windowSum[1];
  let nonZero = windowSum[2];
  dst[firstFull] = s + c;
  for (let i = firstFull + 1, leaving = from; i < n; i++, leaving++) {
    const x = src[i];
    const y = -src[leaving];
    // Number(bool) compiles without a branch; a ternary mispredicts on columns that are often zero (MFI flows).
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
    dst[i] = s + c;
  }
}

/**
 * [sum, compensation, non-zero inputs] of the first full window after startWindowSum. Kernels that fuse
 * a window sum into their output loop continue from here with exactly rollingSumInto's sliding step
 * (its value at a row is sum + compensation), so their sums are bit-identical to it.
 */
export const windowSum = new Float64Array(3);

/** Sums src[from, from + window) into windowSum (the fill phase of rollingSumInto). */
export function startWindowSum(src: Float64Array, from: number, window: number): void {
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

/** Sliding maximum over `window` rows (van Herk / Gil-Werman: O(1) per row, exact). */
export function rollingMaxInto(
  src: Float64Array,
  window: number,
  n: number,
  dst: Float64Array,
  scratch: Float64Array,
): void {
  blockScans(src, window, n, dst, scratch, true);
  for (let i = n - 1; i >= window - 1; i--) {
    const a = scratch[i - window + 1];
    const b = dst[i];
    dst[i] = Math.max(a, b);
  }
  dst.fill(Number.NaN, 0, Math.min(n, window - 1));
}

/** Sliding minimum over `window` rows. */
export function rollingMinInto(
  src: Float64Array,
  window: number,
  n: number,
  dst: Float64Array,
  scratch: Float64Array,
): void {
  blockScans(src, window, n, dst, scratch, false);
  for (let i = n - 1; i >= window - 1; i--) {
    const a = scratch[i - window + 1];
    const b = dst[i];
    dst[i] = Math.min(a, b);
  }
  dst.fill(Number.NaN, 0, Math.min(n, window - 1));
}

/**
 * Block scans of a sliding maximum of `high` and minimum of `low` over the same window, fused into one pass
 * per direction. The extreme of window [i - window + 1, i] is then
 * Math.max(highSuffix[i - window + 1], highPrefix[i]) (Math.min with the low scans), exactly what
 * rollingMaxInto / rollingMinInto store.
 */
export function rangeScansInto(
  high: Float64Array,
  low: Float64Array,
  window: number,
  n: number,
  highPrefix: Float64Array,
  highSuffix: Float64Array,
  lowPrefix: Float64Array,
  lowSuffix: Float64Array,
): void {
  for (let blockStart = 0; blockStart < n; blockStart += window) {
    const blockEnd = Math.min(blockStart + window, n) - 1;
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

/** prefix[i]: extreme from its block's start to i; suffix[i]: extreme from i to its block's end. */
function blockScans(
  src: Float64Array,
  window: number,
  n: number,
  prefix: Float64Array,
  suffix: Float64Array,
  max: boolean,
): void {
  for (let blockStart = 0; blockStart < n; blockStart += window) {
    const blockEnd = Math.min(blockStart + window, n) - 1;
    let run = src[blockStart];
    prefix[blockStart] = run;
    for (let i = blockStart + 1; i <= blockEnd; i++) {
      const x = src[i];
      if (max ? x > run : x < run) run = x;
      prefix[i] = run;
    }
    run = src[blockEnd];
    suffix[blockEnd] = run;
    for (let i = blockEnd - 1; i >= blockStart; i--) {
      const x = src[i];
      if (max ? x > run : x < run) run = x;
      suffix[i] = run;
    }
  }
}
