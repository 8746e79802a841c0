import { describe, expect, it } from "vitest";
import {
  computeFeatureMatrix,
  computeModelInputRows,
  FEATURE_COUNT,
  FEATURE_NAMES,
  type OhlcvSeries,
  WARMUP_CANDLES,
} from "../../functions/shared/features/index.js";
import { toModelInput } from "../../functions/shared/model/evaluation.js";
import { hourlyFiles, readSeries } from "./candles-csv.js";

/** The two-step path the backtest used before: float64 row-major matrix, then the model's float32 conversion. */
function twoStep(series: OhlcvSeries, firstRow: number): Float32Array {
  return toModelInput(computeFeatureMatrix(series).subarray(firstRow * FEATURE_COUNT));
}

function expectIdentical(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    if (!Object.is(actual[j], expected[j])) {
      expect.fail(
        `${label}: row ${Math.floor(j / FEATURE_COUNT)} ${FEATURE_NAMES[j % FEATURE_COUNT]} is ${actual[j]}, two-step path gives ${expected[j]}`,
      );
    }
  }
}

/** A short random walk with flat, zero-volume stretches, plus candles whose range_pct overflows float32. */
function syntheticSeries(n: number): OhlcvSeries {
  const s: OhlcvSeries = {
    start: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    length: n,
  };
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  let price = 50;
  for (let i = 0; i < n; i++) {
    const flat = Math.floor(i / 25) % 4 === 0;
    const open = price;
    if (!flat) price *= Math.exp((random() - 0.5) * 0.05);
    s.start[i] = 1_700_000_000 + i * 3600;
    s.open[i] = open;
    s.close[i] = price;
    s.high[i] = Math.max(open, price) * (flat ? 1 : 1 + random() * 0.01);
    s.low[i] = Math.min(open, price) * (flat ? 1 : 1 - random() * 0.01);
    s.volume[i] = flat ? 0 : random() * 100;
    if (i % 97 === 50) {
      // range / close = 1e300: finite in float64, Infinity after Math.fround, so NaN in the model input.
      s.open[i] = 1e-300;
      s.close[i] = 1e-300;
      s.low[i] = 1e-300;
      s.high[i] = 1;
    }
  }
  return s;
}

describe("computeModelInputRows", () => {
  const files = hourlyFiles().filter((f) => /^(BTC|SHIB|DOGE|XRP)-/.test(f));

  it("covers four real hourly files", () => {
    expect(files).toHaveLength(4);
  });

  it("equals toModelInput(computeFeatureMatrix(...)) on real files, from several first rows", () => {
    for (const file of files) {
      const series = readSeries(file);
      const n = series.length;
      for (const firstRow of [0, WARMUP_CANDLES, 1000, Math.floor(n / 2) + 3, n - 1, n]) {
        expectIdentical(
          computeModelInputRows(series, firstRow),
          twoStep(series, firstRow),
          `${file} from ${firstRow}`,
        );
      }
    }
  });

  it("writes only its rows into a reused, larger out buffer", () => {
    const series = readSeries(files[0], 3000);
    const out = new Float32Array(3000 * FEATURE_COUNT + 10).fill(-7);
    const firstRow = 777;
    const size = (3000 - firstRow) * FEATURE_COUNT;
    const result = computeModelInputRows(series, firstRow, out);
    expect(result).toBe(out);
    expectIdentical(out.subarray(0, size), twoStep(series, firstRow), "reused buffer");
    for (let j = size; j < out.length; j++) expect(out[j]).toBe(-7);
  });

  it("equals the two-step path on a short synthetic series, float32 overflow included", () => {
    const series = syntheticSeries(420);
    let overflowed = 0;
    const matrix = computeFeatureMatrix(series);
    for (const x of matrix) if (Number.isFinite(x) && !Number.isFinite(Math.fround(x))) overflowed++;
    expect(overflowed).toBeGreaterThan(0);
    for (const firstRow of [0, 1, 50, 199, 200, 419, 420]) {
      expectIdentical(
        computeModelInputRows(series, firstRow),
        twoStep(series, firstRow),
        `synthetic from ${firstRow}`,
      );
    }
    for (const n of [0, 1, 30, 201]) {
      const short = { ...syntheticSeries(n) };
      expectIdentical(computeModelInputRows(short, 0), twoStep(short, 0), `synthetic length ${n}`);
    }
  });

  it("rejects a first row outside [0, n] and an out buffer that is too small", () => {
    const series = syntheticSeries(300);
    for (const firstRow of [-1, 301, 1.5, Number.NaN]) {
      expect(() => computeModelInputRows(series, firstRow)).toThrow(RangeError);
    }
    expect(() => computeModelInputRows(series, 100, new Float32Array(200 * FEATURE_COUNT - 1))).toThrow(
      /out holds 10199 values but rows 100\.\.299/,
    );
    expect(computeModelInputRows(series, 100, new Float32Array(200 * FEATURE_COUNT))).toHaveLength(
      200 * FEATURE_COUNT,
    );
  });
});
