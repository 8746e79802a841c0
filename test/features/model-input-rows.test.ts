import { describe, expect, it } from "vitest";
import {
  CHUNK_ROWS,
  computeFeatureMatrix,
  computeModelInputRows,
  computeModelInputRowsInParts,
  emptySeries,
  FEATURE_COUNT,
  FEATURE_NAMES,
  type OhlcvSeries,
  WARMUP_CANDLES,
} from "#features/index.js";
import { toModelInput } from "#model/evaluation.js";
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
  const s = emptySeries(n);
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

describe("computeModelInputRowsInParts", () => {
  /** The parts of one series, each copied out of a buffer that is then reused (as a caller's pool would). */
  function inParts(series: OhlcvSeries, firstRow: number, partRows: number) {
    const pool: Float32Array[] = [new Float32Array(partRows * FEATURE_COUNT).fill(-7)];
    const parts: { fromRow: number; rowCount: number; rows: Float32Array }[] = [];
    computeModelInputRowsInParts(series, firstRow, partRows, {
      take: (rowCount) => {
        expect(rowCount).toBeLessThanOrEqual(partRows);
        return pool.pop() ?? new Float32Array(partRows * FEATURE_COUNT);
      },
      done: (part, fromRow, rowCount) => {
        parts.push({ fromRow, rowCount, rows: part.slice(0, rowCount * FEATURE_COUNT) });
        pool.push(part.fill(-7));
      },
    });
    return parts;
  }

  it("gives computeModelInputRows' rows, bit for bit, in consecutive parts ending at multiples of partRows", () => {
    const file = hourlyFiles().find((f) => f.startsWith("DOGE-"));
    expect(file).toBeDefined();
    const series = readSeries(file as string);
    const n = series.length;
    for (const partRows of [CHUNK_ROWS, 3 * CHUNK_ROWS, 16 * CHUNK_ROWS]) {
      for (const firstRow of [0, WARMUP_CANDLES, 499, partRows, partRows + 1, n - 1]) {
        const parts = inParts(series, firstRow, partRows);
        const whole = computeModelInputRows(series, firstRow);
        let row = firstRow;
        for (const [k, part] of parts.entries()) {
          expect(part.fromRow).toBe(row);
          const end = part.fromRow + part.rowCount;
          expect(end === n || end % partRows === 0, `part ${k} ends at ${end}`).toBe(true);
          expect(part.rowCount).toBeGreaterThan(0);
          expectIdentical(
            part.rows,
            whole.subarray((part.fromRow - firstRow) * FEATURE_COUNT, (end - firstRow) * FEATURE_COUNT),
            `parts of ${partRows} from ${firstRow}, part ${k}`,
          );
          row = end;
        }
        expect(row).toBe(n);
      }
    }
    expect(inParts(series, n, CHUNK_ROWS)).toEqual([]);
  });

  it("rejects a part size that is not a multiple of the chunk, and a buffer too small for its part", () => {
    const series = syntheticSeries(3000);
    const parts = { take: () => new Float32Array(CHUNK_ROWS * FEATURE_COUNT), done: () => {} };
    for (const partRows of [0, CHUNK_ROWS + 1, -CHUNK_ROWS, 1.5]) {
      expect(() => computeModelInputRowsInParts(series, 0, partRows, parts)).toThrow(RangeError);
    }
    expect(() => computeModelInputRowsInParts(series, 3001, CHUNK_ROWS, parts)).toThrow(RangeError);
    expect(() =>
      computeModelInputRowsInParts(series, 0, 2 * CHUNK_ROWS, {
        take: () => new Float32Array(2 * CHUNK_ROWS * FEATURE_COUNT - 1),
        done: () => {},
      }),
    ).toThrow(/take\(2016\) gave 102815 values/);
  });
});
