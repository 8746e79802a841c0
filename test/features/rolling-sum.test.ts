import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rollingSumChunk } from "#features/rolling.js";

// Values mixing zeros (the all-zero-window reset), tiny and large magnitudes (the TwoSum compensation).
const value = fc.oneof(
  fc.constant(0),
  fc.constant(-0),
  fc.double({ min: -1e9, max: 1e9, noNaN: true }),
  fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
);

/** The one-loop compensated sliding sum the trained model's features were computed with. */
function referenceRollingSum(
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

// Prices and volumes with inexact decimal fractions, so the compensation carried between chunks is rarely 0.
const inexact = fc.oneof(
  value,
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((k) => (k / 3.7) * 1e3),
);

describe("rollingSumChunk", () => {
  it("in one chunk or continued chunk by chunk, is bit-identical to the one-loop reference", () => {
    fc.assert(
      fc.property(
        fc.array(inexact, { minLength: 0, maxLength: 400 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
        (values, window, first, later) => {
          const n = values.length;
          const src = Float64Array.from(values);
          const expected = new Float64Array(n).fill(-1);
          referenceRollingSum(src, first, window, n, expected);
          // Chunk 0 reaches the first full window (as the engine's chunks do); later chunks have any length.
          const bounds = [Math.min(n, first + window + later[0])];
          for (let k = 1; bounds[bounds.length - 1] < n; k++) {
            bounds.push(Math.min(n, bounds[bounds.length - 1] + later[k % later.length]));
          }
          const state = new Float64Array(5).fill(7);
          const actual = new Float64Array(n).fill(-1);
          let from = 0;
          for (const to of bounds) {
            const dst = new Float64Array(to - from).fill(-1);
            rollingSumChunk(src, first, window, from, to, dst, state, 2);
            actual.set(dst, from);
            from = to;
          }
          for (let i = first + window - 1; i < n; i++) {
            expect(Object.is(actual[i], expected[i]), `[${i}] ${actual[i]} vs ${expected[i]}`).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
