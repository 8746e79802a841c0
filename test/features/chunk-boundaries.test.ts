import { describe, expect, it } from "vitest";
import { computeFeatureMatrix, FEATURE_COUNT, FEATURE_NAMES } from "#features/index.js";
import { CHUNK_ROWS } from "#features/workspace.js";
import { hourlyFiles, readSeries } from "./candles-csv.js";

// The engine computes row chunks in order, carrying each indicator's running state (EMAs, Wilder
// averages, compensated window sums, sliding extremes) across chunk boundaries. Chunk boundaries at
// different rows must not change a single bit.
describe("chunked feature engine", () => {
  it("gives bit-identical features for every chunk length", () => {
    const series = readSeries(hourlyFiles()[0], 3 * CHUNK_ROWS + 500);
    const reference = computeFeatureMatrix(series);
    for (const chunkRows of [336, 504, 672]) {
      const chunked = computeFeatureMatrix(series, undefined, chunkRows);
      for (let j = 0; j < reference.length; j++) {
        if (!Object.is(chunked[j], reference[j])) {
          expect.fail(
            `chunks of ${chunkRows} rows: row ${Math.floor(j / FEATURE_COUNT)} ${FEATURE_NAMES[j % FEATURE_COUNT]} is ${chunked[j]}, chunks of ${CHUNK_ROWS} give ${reference[j]}`,
          );
        }
      }
    }
  });

  it("rejects a chunk length that would split a warm-up or a sliding-extreme block", () => {
    const series = readSeries(hourlyFiles()[0], 400);
    for (const chunkRows of [168, 500, CHUNK_ROWS + 168, 0]) {
      expect(() => computeFeatureMatrix(series, undefined, chunkRows)).toThrow(
        /chunkRows must be a multiple of 168/,
      );
    }
  });
});
