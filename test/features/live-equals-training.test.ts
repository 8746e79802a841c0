import { describe, expect, it } from "vitest";
import {
  computeFeatureMatrix,
  FEATURE_COUNT,
  FEATURE_NAMES,
  latestFeatures,
  regimeFromFeatures,
  SERVING_WINDOW,
  sliceSeries,
} from "#features/index.js";
import { readSeries, relativeError } from "./candles-csv.js";

/**
 * The Lambda sees only the last SERVING_WINDOW candles; training saw the whole history. For many
 * end points of full real series, the live row must equal the training row to 1e-9 relative.
 */
const SYMBOLS = [
  "BTC-USDT_1h.csv",
  "ETH-USDT_1h.csv",
  "ETC-USDT_1h.csv",
  "SHIB-USDT_1h.csv",
  "XLM-USDT_1h.csv",
];
const END_POINTS = 40;

describe("live features == training features", () => {
  for (const file of SYMBOLS) {
    it(`${file}: latestFeatures on the last ${SERVING_WINDOW} candles equals the full-history row`, () => {
      const series = readSeries(file);
      const full = computeFeatureMatrix(series);
      const ends = [series.length - 1];
      const step = Math.floor((series.length - SERVING_WINDOW - 1) / END_POINTS);
      for (let e = SERVING_WINDOW + 7; e < series.length - 1; e += step) ends.push(e);
      let worst = 0;
      let worstAt = "";
      for (const end of ends) {
        const live = latestFeatures(sliceSeries(series, 0, end + 1));
        for (let k = 0; k < FEATURE_COUNT; k++) {
          const error = relativeError(live[k], full[end * FEATURE_COUNT + k]);
          if (!(error <= worst)) {
            worst = error;
            worstAt = `${FEATURE_NAMES[k]} at row ${end}`;
          }
        }
        expect(regimeFromFeatures(live)).toBe(regimeFromFeatures(full, end * FEATURE_COUNT));
      }
      expect(worst, `worst: ${worstAt}`).toBeLessThanOrEqual(1e-9);
    });
  }
});
