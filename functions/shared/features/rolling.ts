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
  let s = 0;
  let c = 0;
  let nonZero = 0;
  for (let i = from; i < n; i++) {
    // Knuth's branch-free TwoSum: the rounding error of each add goes into c.
    const x = src[i];
    nonZero += x !== 0 ? 1 : 0;
    let t = s + x;
    let z = t - s;
    c += s - (t - z) + (x - z);
    s = t;
    if (i > firstFull) {
      const y = -src[i - window];
      nonZero -= y !== 0 ? 1 : 0;
      t = s + y;
      z = t - s;
      c += s - (t - z) + (y - z);
      s = t;
    }
    if (i >= firstFull) {
      if (nonZero === 0) {
        s = 0;
        c = 0;
      }
      dst[i] = s + c;
    }
  }
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

/**
 * Two independent rollingSumInto passes (same `from`) in one loop: each sum keeps its own TwoSum
 * state, so every value is bit-identical to rollingSumInto, but the two dependency chains overlap.
 */
export function rollingSumPairInto(
  srcA: Float64Array,
  windowA: number,
  dstA: Float64Array,
  srcB: Float64Array,
  windowB: number,
  dstB: Float64Array,
  from: number,
  n: number,
): void {
  const firstFullA = from + windowA - 1;
  const firstFullB = from + windowB - 1;
  dstA.fill(Number.NaN, 0, Math.min(n, firstFullA));
  dstB.fill(Number.NaN, 0, Math.min(n, firstFullB));
  let sA = 0;
  let cA = 0;
  let nonZeroA = 0;
  let sB = 0;
  let cB = 0;
  let nonZeroB = 0;
  for (let i = from; i < n; i++) {
    const xA = srcA[i];
    const xB = srcB[i];
    nonZeroA += xA !== 0 ? 1 : 0;
    nonZeroB += xB !== 0 ? 1 : 0;
    let tA = sA + xA;
    let tB = sB + xB;
    let zA = tA - sA;
    let zB = tB - sB;
    cA += sA - (tA - zA) + (xA - zA);
    cB += sB - (tB - zB) + (xB - zB);
    sA = tA;
    sB = tB;
    if (i > firstFullA) {
      const y = -srcA[i - windowA];
      nonZeroA -= y !== 0 ? 1 : 0;
      tA = sA + y;
      zA = tA - sA;
      cA += sA - (tA - zA) + (y - zA);
      sA = tA;
    }
    if (i > firstFullB) {
      const y = -srcB[i - windowB];
      nonZeroB -= y !== 0 ? 1 : 0;
      tB = sB + y;
      zB = tB - sB;
      cB += sB - (tB - zB) + (y - zB);
      sB = tB;
    }
    if (i >= firstFullA) {
      if (nonZeroA === 0) {
        sA = 0;
        cA = 0;
      }
      dstA[i] = sA + cA;
    }
    if (i >= firstFullB) {
      if (nonZeroB === 0) {
        sB = 0;
        cB = 0;
      }
      dstB[i] = sB + cB;
    }
  }
}
