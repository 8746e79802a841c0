import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rollingSumInto, rollingSumPairInto } from "../../functions/shared/features/rolling.js";

// Values mixing zeros (the all-zero-window reset), tiny and large magnitudes (the TwoSum compensation).
const value = fc.oneof(
  fc.constant(0),
  fc.double({ min: -1e9, max: 1e9, noNaN: true }),
  fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
);

describe("rollingSumPairInto", () => {
  it("is bit-identical to two separate rollingSumInto passes", () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 0, maxLength: 300 }),
        fc.array(value, { minLength: 0, maxLength: 300 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 2 }),
        (a, b, windowA, windowB, from) => {
          const n = Math.min(a.length, b.length);
          const srcA = Float64Array.from(a.slice(0, n));
          const srcB = Float64Array.from(b.slice(0, n));
          const expectedA = new Float64Array(n).fill(-1);
          const expectedB = new Float64Array(n).fill(-1);
          rollingSumInto(srcA, from, windowA, n, expectedA);
          rollingSumInto(srcB, from, windowB, n, expectedB);
          const actualA = new Float64Array(n).fill(-1);
          const actualB = new Float64Array(n).fill(-1);
          rollingSumPairInto(srcA, windowA, actualA, srcB, windowB, actualB, from, n);
          for (let i = 0; i < n; i++) {
            expect(Object.is(actualA[i], expectedA[i]), `A[${i}] ${actualA[i]} vs ${expectedA[i]}`).toBe(
              true,
            );
            expect(Object.is(actualB[i], expectedB[i]), `B[${i}] ${actualB[i]} vs ${expectedB[i]}`).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
